import Foundation
import Timeline
import Synchronization

/// The change feed's figures (`Docs/changes.md`), on a copy of TimelineStore's fixture: reading
/// the log, followers in this process and in another one (how long after an append they see its
/// change, and what following costs while nothing happens), and an incremental backup against a
/// full copy. TimelineStore only: the SQLite backends have no feed to compare.
struct FeedBench {
    let options: TimelineBench.Options
    let fixture: Fixture
    var lines: [String] = []
    var figures: [String: Double] = [:]

    /// CLOCK_MONOTONIC in nanoseconds: one clock for this process and the follower it starts.
    static func monotonic() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// CPU time (user + system) of this process so far, in nanoseconds.
    static func cpuTime() -> UInt64 {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func nanos(_ t: timeval) -> UInt64 { UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_usec) * 1_000 }
        return nanos(usage.ru_utime) + nanos(usage.ru_stime)
    }

    mutating func report(_ name: String, _ value: Double, _ unit: String) {
        figures[name] = value
        let line = "\(name): \(value >= 100 ? String(format: "%.0f", value) : String(format: "%.3g", value)) \(unit)"
        lines.append(line)
        print("  TimelineStore — \(line)")
    }

    mutating func run(directory: String) async throws {
        print("\n— the change feed, on a copy of the \(fixture.turnCount)-turn TimelineStore")
        let timeline = try TimelineStore(path: directory)
        try readTheLog(timeline)
        try await follow(timeline, inProcess: true)
        try await follow(timeline, inProcess: false)
        try await backups(timeline, directory: directory)
        await timeline.close()
        try JSONEncoder().encode(figures).write(to: URL(fileURLWithPath: options.output + "/feed.json"))
    }

    /// Reading the whole log, a page of 1,000 entries at a time, in one read transaction.
    private mutating func readTheLog(_ timeline: TimelineStore) throws {
        var best = Double.infinity
        var entries = 0
        for _ in 0..<(options.quick ? 2 : 5) {
            let start = now()
            entries = try timeline.read { tx in
                var last = 0, count = 0
                while true {
                    let page = try tx.changes(after: last, limit: 1_000)
                    guard let end = page.last?.position else { return count }
                    count += page.count
                    last = end
                }
            }
            best = min(best, Double(now() - start) / 1e9)
        }
        report("read the change log (\(entries) entries), entries/s", Double(entries) / best, "entries/s")
    }

    /// Appends turns one at a time, `spacing` apart, while a follower — a task here, or another
    /// process (this executable with `--follow-child`) — records when it sees each change.
    private mutating func follow(_ timeline: TimelineStore, inProcess: Bool) async throws {
        let place = inProcess ? "in this process" : "in another process"
        let count = options.quick ? 40 : 200
        let idleSeconds = options.quick ? 1.0 : 3.0
        let start = try timeline.currentPosition()
        var seen: [Int: UInt64] = [:]
        var idleCPU = 0.0
        let appendTimes: [(position: Int, started: UInt64, acknowledged: UInt64)]
        if inProcess {
            let log = Mutex<[Int: UInt64]>([:])
            let cpuBefore = Self.cpuTime(), wallBefore = Self.monotonic()
            let follower = Task {
                var received = 0
                for try await change in timeline.followChanges(after: start) {
                    let time = Self.monotonic()
                    log.withLock { $0[change.position] = time }
                    received += 1
                    if received == count { break }
                }
            }
            try await Task.sleep(for: .seconds(idleSeconds))
            idleCPU = Double(Self.cpuTime() - cpuBefore) / Double(Self.monotonic() - wallBefore)
            appendTimes = try await appends(timeline, count: count)
            try await follower.value
            seen = log.withLock { $0 }
        } else {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            child.arguments = ["--follow-child", timeline.environment.path, "\(start)", "\(count)"]
            let output = Pipe()
            child.standardOutput = output
            try child.run()
            let reader = output.fileHandleForReading
            var text = ""
            while !text.contains("ready\n") {
                let data = reader.availableData
                guard !data.isEmpty else { throw FeedBenchError("the follower ended before it was ready") }
                text += String(decoding: data, as: UTF8.self)
            }
            try await Task.sleep(for: .seconds(idleSeconds))
            appendTimes = try await appends(timeline, count: count)
            text += String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
            child.waitUntilExit()
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.first == "seen", parts.count == 3, let position = Int(parts[1]), let time = UInt64(parts[2]) { seen[position] = time }
                if parts.first == "idle", parts.count == 2, let share = Double(parts[1]) { idleCPU = share }
            }
        }
        guard appendTimes.allSatisfy({ seen[$0.position] != nil }) else {
            throw FeedBenchError("the follower \(place) missed changes: saw \(seen.count) of \(appendTimes.count)")
        }
        let afterStart = appendTimes.map { Double(seen[$0.position]! &- $0.started) / 1_000 }.sorted()
        let afterAck = appendTimes.map { Double(Int64(bitPattern: seen[$0.position]! &- $0.acknowledged)) / 1_000 }.sorted()
        let appendLatency = appendTimes.map { Double($0.acknowledged - $0.started) / 1_000 }.sorted()
        report("follower \(place): seen after the append began, p50", percentile(afterStart, 0.5), "µs")
        report("follower \(place): seen after the append began, p99", percentile(afterStart, 0.99), "µs")
        report("follower \(place): seen after the append returned, p50", percentile(afterAck, 0.5), "µs")
        report("follower \(place): the appends themselves, p50", percentile(appendLatency, 0.5), "µs")
        report("follower \(place): CPU while idle, share of one core", idleCPU * 100, "%")
    }

    /// `count` durable appends of one turn each, 2 ms apart, to sessions of the fixture.
    private func appends(_ timeline: TimelineStore, count: Int) async throws -> [(position: Int, started: UInt64, acknowledged: UInt64)] {
        var times: [(position: Int, started: UInt64, acknowledged: UInt64)] = []
        for index in 0..<count {
            let session = fixture.sessions[fixture.longSessions[index % fixture.longSessions.count]].id
            let started = Self.monotonic()
            try await timeline.append(NewTurn(role: .user, content: "feed \(index)"), to: session)
            let acknowledged = Self.monotonic()
            times.append((try timeline.currentPosition(), started, acknowledged))   // the only writer: its own entry
            try await Task.sleep(for: .milliseconds(2))
        }
        return times
    }

    /// A full copy (plain and compact) against bringing an earlier copy up to date after a burst
    /// of appends.
    private mutating func backups(_ timeline: TimelineStore, directory: String) async throws {
        let base = directory + "-backups"
        try? FileManager.default.removeItem(atPath: base)
        defer { try? FileManager.default.removeItem(atPath: base) }
        var start = now()
        try timeline.environment.copy(to: base + "/plain")
        report("backup: full copy", Double(now() - start) / 1e6, "ms")
        start = now()
        try timeline.environment.copy(to: base + "/compact", compact: true)
        report("backup: full compact copy", Double(now() - start) / 1e6, "ms")
        let changes = options.quick ? 100 : 1_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<changes {
                let session = fixture.sessions[fixture.longSessions[index % fixture.longSessions.count]].id
                group.addTask { try await timeline.append(NewTurn(role: .assistant, content: String(repeating: "backup ", count: 40)), to: session) }
                if index % 16 == 15 { try await group.waitForAll() }
            }
            try await group.waitForAll()
        }
        start = now()
        let update = try timeline.updateBackup(at: base + "/compact")
        report("backup: update from the log after \(update.changesApplied) appends", Double(now() - start) / 1e6, "ms")
    }

    /// The `--follow-child STORE START COUNT` mode: follows the log of the store at STORE from
    /// START, printing `ready`, then the share of a core it used until the first change arrived
    /// (`idle …`), then `seen POSITION NANOS` per change, until COUNT changes were seen.
    static func child(_ arguments: [String]) async throws {
        guard arguments.count == 3, let start = Int(arguments[1]), let count = Int(arguments[2]) else {
            throw FeedBenchError("usage: --follow-child STORE START COUNT")
        }
        let timeline = try TimelineStore(path: arguments[0], configuration: .init(readOnly: true), migrationPolicy: .lazy)
        var output = ""
        let cpuBefore = cpuTime(), wallBefore = monotonic()
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        var received = 0
        for try await change in timeline.followChanges(after: start) {
            let time = monotonic()
            if received == 0 { output += "idle \(Double(cpuTime() - cpuBefore) / Double(time - wallBefore))\n" }
            output += "seen \(change.position) \(time)\n"
            received += 1
            if received == count { break }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
        await timeline.close()
    }
}

struct FeedBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
