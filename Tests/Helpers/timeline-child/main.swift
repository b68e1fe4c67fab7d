// The workload of the crash and power-loss tests: four concurrent tasks perform every kind of
// timeline write on sessions of their own — creates, appends through group commit, atomic
// two-session appends in a synchronous write, forks, renames, checkpoints (starred or not),
// stars, prunes, crystals and deletes — and print, for each operation, a `try` line before the
// call and an `ack` line after it returned (the tests' WorkloadModel reads them):
//
//   try|ack TASK create S            try|ack TASK append S N            try|ack TASK pair S1 S2
//   try|ack TASK fork F S POINT      try|ack TASK title S TITLE         try|ack TASK delete S
//   try|ack TASK checkpoint S C STARRED (0 or 1)                        try|ack TASK star C
//   try TASK crystal S / ack TASK crystal S VERSION                     try|ack TASK prune
//
// A turn's content is derived from its session and sequence (`content(session:sequence:)`), so
// the verifier knows every turn without it being printed. Each line is also handed to the
// write recorder of the power-loss test when it is loaded (`write_recorder_mark`), so that its
// log orders acknowledgements exactly among the file writes and syncs.
//
//   timeline-child PATH [--seed N] [--ops N] [--durability durable|nosync|nometasync|wal]
// Runs until killed, or until N operations were acknowledged and then closes the store.
import Foundation
import TimelineLMDB
import Synchronization
import TestSupport
import Timeline

let arguments = Array(CommandLine.arguments.dropFirst())
guard let path = arguments.first else {
    FileHandle.standardError.write(Data("usage: timeline-child PATH [--seed N] [--ops N] [--durability durable|nosync|nometasync|wal]\n".utf8))
    exit(2)
}
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

/// The power-loss test's recorder, when it is preloaded: logs a line among the writes.
typealias Mark = @convention(c) (UnsafePointer<CChar>) -> Void

/// Prints the workload's lines; after the requested number of acknowledgements the tasks stop
/// (each after the operation it is in), and the store is closed.
final class Reporter: Sendable {
    let limit: Int?
    let mark: Mark? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "write_recorder_mark").map { unsafeBitCast($0, to: Mark.self) }
    let acknowledged = Mutex<Int>(0)

    init(limit: Int?) { self.limit = limit }

    /// Prints `line` (and marks it in the recorder's log); counts acknowledgements.
    func say(_ line: String) {
        acknowledged.withLock { count in
            mark?(line)
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
            if line.hasPrefix("ack") { count += 1 }
        }
    }

    /// Whether the requested number of operations was acknowledged.
    var finished: Bool { acknowledged.withLock { count in limit.map { count >= $0 } ?? false } }
}

/// The content of turn `sequence` written by `session`: the verifier recomputes it.
@Sendable func content(session: UUID, sequence: Int) -> String {
    "\(session.uuidString.prefix(8))-\(sequence) " + String(repeating: "x", count: sequence * 37 % 400)
}

let seed = option("--seed").flatMap(UInt64.init) ?? UInt64(getpid())
let durability: Environment.Durability = switch option("--durability") {
case "nosync": .noSync
case "nometasync": .noMetaSync
case "wal": .writeAheadLog
default: .durable
}
let reporter = Reporter(limit: option("--ops").flatMap(Int.init))
// With the write-ahead log, a checkpoint every 5 commits (each on the log's own thread, beside
// the commits) and a log that grows in 4 KiB steps: the power-loss test's cuts then land before,
// during and after checkpoints, and after the log's chain has wrapped and jumped.
var configuration = Environment.Configuration(durability: durability)
configuration.checkpointCommits = 5
if durability == .writeAheadLog { setenv("TIMELINESTORE_WAL_GROWTH_STEP", "4096", 1) }
let timeline = try TimelineStore(path: path, configuration: configuration)

/// One task's loop over its own sessions (their turn counts as acknowledged).
func work(task: Int, seed: UInt64, timeline: TimelineStore, reporter: Reporter) async throws {
    let say = reporter.say
    var random = SeededGenerator(seed: seed &* 1_000 &+ UInt64(task))
    var sessions: [UUID: Int] = [:]
    var checkpoints: [UUID] = []
    @Sendable func turns(_ session: UUID, from first: Int, count: Int) -> [NewTurn] {
        (0..<count).map { NewTurn(role: $0 % 2 == 0 ? .user : .assistant, content: content(session: session, sequence: first + $0), inputTokens: 3, cost: 0.25) }
    }
    while !reporter.finished {
        let ids = sessions.keys.sorted { $0.uuidString < $1.uuidString }
        let pick = ids.isEmpty ? nil : ids[random.below(ids.count)]
        let roll = random.below(100)
        switch (roll, pick) {
        case (_, nil), (0..<8, _):
            let id = UUID()
            say("try \(task) create \(id)")
            _ = try await timeline.createSession(NewSession(id: id, title: "t\(task)", project: "task\(task)"))
            sessions[id] = 0
            say("ack \(task) create \(id)")
        case (8..<50, let session?):
            let count = 1 + random.below(3)
            say("try \(task) append \(session) \(count)")
            try await timeline.append(turns(session, from: sessions[session]!, count: count), to: session)
            sessions[session]! += count
            say("ack \(task) append \(session) \(count)")
        case (50..<56, let session?) where ids.count >= 2:
            let other = ids.first { $0 != session }!
            say("try \(task) pair \(session) \(other)")
            let (first, second) = (sessions[session]!, sessions[other]!)
            // Two sessions in one group-committed transaction: both appends or neither.
            try await timeline.write { tx in
                try tx.append(turns(session, from: first, count: 1), to: session)
                try tx.append(turns(other, from: second, count: 1), to: other)
            }
            sessions[session]! += 1
            sessions[other]! += 1
            say("ack \(task) pair \(session) \(other)")
        case (56..<64, let session?):
            let fork = UUID(), point = random.below(sessions[session]! + 1)
            say("try \(task) fork \(fork) \(session) \(point)")
            _ = try await timeline.fork(session: session, at: point, newID: fork)
            sessions[fork] = point
            say("ack \(task) fork \(fork) \(session) \(point)")
        case (64..<72, let session?):
            let title = "title-\(random.below(1_000_000))"
            say("try \(task) title \(session) \(title)")
            try await timeline.updateSession(session) { $0.title = title }
            say("ack \(task) title \(session) \(title)")
        case (72..<80, let session?):
            let checkpoint = UUID(), starred = random.below(2)
            say("try \(task) checkpoint \(session) \(checkpoint) \(starred)")
            _ = try await timeline.saveCheckpoint(NewCheckpoint(id: checkpoint, starred: starred == 1, state: Data("s".utf8)), for: session)
            checkpoints.append(checkpoint)
            say("ack \(task) checkpoint \(session) \(checkpoint) \(starred)")
        case (80..<84, _) where !checkpoints.isEmpty:
            let checkpoint = checkpoints[random.below(checkpoints.count)]
            say("try \(task) star \(checkpoint)")
            do {
                _ = try await timeline.setStarred(true, checkpoint: checkpoint)
                say("ack \(task) star \(checkpoint)")
            } catch let error as TimelineError {
                // Pruned or deleted with its session meanwhile: nothing happened.
                guard case .checkpointNotFound = error else { throw error }
                checkpoints.removeAll { $0 == checkpoint }
                say("ack \(task) none")
            }
        case (84..<92, let session?):
            say("try \(task) crystal \(session)")
            let crystal = try await timeline.saveCrystal(NewCrystal(text: "summary \(random.below(1000))"), for: session)
            say("ack \(task) crystal \(session) \(crystal.version)")
        case (92..<95, _):
            say("try \(task) prune")
            try await timeline.pruneCheckpoints(olderThan: Date(), keepStarred: true)
            say("ack \(task) prune")
        case (95..<100, let session?) where ids.count >= 3:
            say("try \(task) delete \(session)")
            try await timeline.deleteSession(session)
            sessions[session] = nil
            say("ack \(task) delete \(session)")
        default:
            continue
        }
    }
}

try await withThrowingTaskGroup(of: Void.self) { group in
    for task in 0..<4 { group.addTask { [seed, timeline, reporter] in try await work(task: task, seed: seed, timeline: timeline, reporter: reporter) } }
    try await group.waitForAll()
}
// Only reached with --ops: a clean close (with the write-ahead log, a checkpoint that empties it).
await timeline.close()

extension SeededGenerator {
    /// A number in `0..<bound`.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
