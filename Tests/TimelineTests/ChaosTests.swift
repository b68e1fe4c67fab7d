import TestSupport
import Foundation
import Synchronization
import TimelineLMDB
import Timeline
import Testing

/// Tasks that work on each other's sessions at once — one appends while another forks, rewinds
/// or deletes the same session — where the crash test's child keeps each task to sessions of its
/// own. No model says what the store must hold; what must hold is that every snapshot is
/// consistent: `check()` run beside the writers finds nothing, the change log replays to what the
/// store holds, a follower sees every position once and in order, and the store reopens clean.
@Suite("Concurrent mixed operations")
struct ChaosTests {
    /// The sessions the tasks pick from: every created, forked, rewound, restored or imported one,
    /// until a task deletes it.
    actor Sessions {
        private var ids: [UUID] = []
        func add(_ id: UUID) { ids.append(id) }
        func remove(_ id: UUID) { ids.removeAll { $0 == id } }
        func pick(_ random: inout SplitMix) -> UUID? { ids.isEmpty ? nil : ids[Int(random.next() % UInt64(ids.count))] }
        var count: Int { ids.count }
    }

    /// What the tasks of one run share: the failures they saw, and whether the writers are done.
    final class Run: Sendable {
        let failures = Mutex<[String]>([])
        let writersDone = Atomic<Bool>(false)
        /// The position of the run's last change, once the writers are done.
        let lastPosition = Atomic<Int>(-1)
        func fail(_ what: String) { failures.withLock { $0.append(what) } }
    }

    /// A seeded generator, so that a failing run's operations can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
    }

    /// What a task may run into because another task changed the session under it.
    static func isRace(_ error: any Error) -> Bool {
        switch error as? TimelineError {
        case .sessionNotFound?, .sequenceOutOfRange?, .checkpointNotFound?: true
        default: false
        }
    }

    @Test("shared sessions under appends, forks, rewinds, deletes, checkpoints, imports and transactions: every snapshot checks clean",
          arguments: [(Environment.Durability.durable, ValueCompression.none), (.writeAheadLog, .lz4)])
    func sharedSessions(durability: Environment.Durability, compression: ValueCompression) async throws {
        try await withTemporaryDirectory { dir in
            var configuration = Environment.Configuration(durability: durability)
            configuration.mapSize = 1 << 20          // the map grows under the writers
            configuration.checkpointCommits = 4      // and the log checkpoints often
            let path = dir + "/timeline"
            let timeline = try TimelineStore(path: path, configuration: configuration, compression: compression)
            let sessions = Sessions()
            let run = Run()

            // Reads the log as it grows: positions 1, 2, 3… once each, up to the last change,
            // which is made when the writers are done.
            let follower = Task { () -> Int in
                var last = 0
                for try await change in timeline.followChanges(pollInterval: .milliseconds(2)) {
                    if change.position != last + 1 { run.fail("the follower saw position \(change.position) after \(last)") }
                    last = change.position
                    if last == run.lastPosition.load(ordering: .acquiring) { break }
                }
                return last
            }
            // `check()` on snapshots taken while the writers run.
            let checker = Task {
                var checks = 0
                while !run.writersDone.load(ordering: .acquiring) {
                    let problems = try timeline.check()
                    if !problems.isEmpty { run.fail("check beside the writers: \(problems.prefix(3))") }
                    checks += 1
                    try await Task.sleep(for: .milliseconds(5))
                }
                return checks
            }

            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<6 {
                    group.addTask {
                        var random = SplitMix(state: UInt64(task) &* 7_919 &+ 1)
                        for step in 0..<120 {
                            let roll = random.below(100)
                            let known = await sessions.count
                            do {
                                if roll < 8 || known < 3 {
                                    let session = try await timeline.createSession(NewSession(title: "task \(task)", project: "p\(random.below(3))"))
                                    await sessions.add(session.id)
                                    continue
                                }
                                guard let id = await sessions.pick(&random) else { continue }
                                let turns = try timeline.session(id)?.turnCount ?? 0
                                switch roll {
                                case ..<50:
                                    let content = String(repeating: "step \(step) ", count: random.below(100) == 0 ? 600 : 1 + random.below(40))
                                    let turnID = UUID()
                                    let turn = try await timeline.append(NewTurn(id: turnID, role: .user, content: content, inputTokens: random.below(90),
                                                                                 cost: Cost(nanos: Int64(random.below(1_000)))), to: id)
                                    if turn.id != turnID || turn.content != content { run.fail("an append returned another turn") }
                                case ..<56:
                                    await sessions.add(try await timeline.fork(session: id, at: random.below(turns + 1)).id)
                                case ..<60:
                                    await sessions.add(try await timeline.rewind(session: id, to: random.below(turns + 1)).id)
                                case ..<64:
                                    _ = try await timeline.deleteSession(id)
                                    await sessions.remove(id)
                                case ..<69:
                                    let checkpoint = try await timeline.saveCheckpoint(NewCheckpoint(starred: random.below(2) == 0), for: id)
                                    if random.below(3) == 0 { await sessions.add(try await timeline.restore(checkpoint: checkpoint.id).session.id) }
                                case ..<72:
                                    _ = try await timeline.saveCrystal(NewCrystal(text: "summary \(step)"), for: id)
                                case ..<75:
                                    _ = try await timeline.updateSession(id) { $0.title = "renamed \(step)"; $0.archived.toggle() }
                                case ..<79:
                                    // Several steps in one transaction; half of them throw, so that nothing of them may stay.
                                    let abort = random.below(2) == 0
                                    do {
                                        let created = try await timeline.write { tx in
                                            _ = try tx.append(NewTurn(role: .assistant, content: "in a transaction"), to: id)
                                            let session = try tx.createSession(NewSession(title: "made in a transaction"))
                                            if abort { throw CancellationError() }
                                            return session.id
                                        }
                                        await sessions.add(created)
                                    } catch is CancellationError {}
                                case ..<82:
                                    let export = try timeline.read { tx in try tx.exportSession(id) }
                                    await sessions.add(try await timeline.write { tx in try tx.importSession(export, options: ImportOptions(newIDs: true)) }.id)
                                case ..<84:
                                    _ = try await timeline.pruneCheckpoints(olderThan: Date().addingTimeInterval(-0.05))
                                case ..<86:
                                    _ = try await timeline.repairTotals()
                                case ..<87:
                                    _ = try timeline.storeInCurrentForm(batchSize: 20)
                                default:
                                    // Reads of a history another task may be changing: each is one snapshot.
                                    try timeline.read { tx in
                                        let page = try tx.turns(of: id, reverse: true, limit: 30).items
                                        var viewed: [Int] = []
                                        try tx.forEachTurn(of: id, reverse: true, limit: 30) { viewed.append($0.sequence) }
                                        let json = try tx.turnsJSON(of: id, reverse: true, limit: 30)
                                        if viewed != page.map(\.sequence) || json.count != page.count {
                                            run.fail("one snapshot read \(page.count) turns, \(viewed.count) views and \(json.count) JSON objects")
                                        }
                                    }
                                }
                            } catch {
                                if !ChaosTests.isRace(error) { run.fail("task \(task) step \(step) (roll \(roll)): \(error)") }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            run.writersDone.store(true, ordering: .releasing)
            // A change after all the others, for the follower to stop at.
            run.lastPosition.store(try timeline.currentPosition() + 1, ordering: .releasing)
            _ = try await timeline.createSession(NewSession(title: "the last change"))
            let checks = try await checker.value
            let followed = try await follower.value

            #expect(run.failures.withLock { $0 } == [])
            #expect(checks > 0)
            #expect(followed == (try timeline.currentPosition()))
            #expect(try timeline.check() == [])
            #expect(try changeLogProblems(timeline) == [])
            await timeline.close()

            let reopened = try TimelineStore(path: path, configuration: configuration, compression: compression)
            #expect(try reopened.check() == [])
            await reopened.close()
        }
    }
}
