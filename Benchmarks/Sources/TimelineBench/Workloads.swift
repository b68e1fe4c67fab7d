import Foundation
import BenchFixtures

/// The workloads, run on one backend's store of one fixture. Reads come first, on the untouched
/// fixture, so that every backend answers the same queries about the same data (their answers
/// are compared in the report); then the writes.
struct Workloads {
    let backend: any Backend
    let fixture: Fixture
    let size: Int
    let options: TimelineBench.Options
    var results: [Measurement] = []

    init(backend: any Backend, fixture: Fixture, size: Int, options: TimelineBench.Options) {
        (self.backend, self.fixture, self.size, self.options) = (backend, fixture, size, options)
    }

    // The workload names, as the report shows them.
    static let append = "append 1 turn, durable"
    static let latest = "load a session's latest 100 turns"
    static let latestJSON = "load a session's latest 100 turns as JSON"
    static let listFirst = "list 100 recent sessions of a project, page 1"
    /// A page that is full at every size the growth runs cover.
    static let listTwenty = "list 20 recent sessions of a project"

    mutating func record(_ workload: String, _ samples: [Double], answer: Int? = nil) {
        results.append(Measurement(size: size, workload: workload, backend: backend.name, p50: percentile(samples, 0.5),
                                   p99: percentile(samples, 0.99), mean: samples.reduce(0, +) / Double(max(samples.count, 1)),
                                   operations: samples.count, unit: "µs", answer: answer))
        print("  \(backend.name) — \(workload): p50 \(String(format: "%.1f", percentile(samples, 0.5))) µs, p99 \(String(format: "%.1f", percentile(samples, 0.99))) µs")
    }

    /// Every workload (`full`), or the growth subset: append, load 100 turns, list a page.
    mutating func run(full: Bool) async throws {
        var random = SplitMix64(state: fixture.seed ^ 0xBE7C)
        let longSessions = (0..<options.iterations(500)).map { _ in fixture.sessions[fixture.skewedLongSession(&random)].id }

        var answer = 0
        let latest = try latencies(longSessions.count) { answer += try backend.latestTurns(of: longSessions[$0], limit: 100) }
        record(Self.latest, latest, answer: answer)

        if full {
            answer = 0
            let json = try latencies(longSessions.count) { answer += try backend.latestTurnsJSON(of: longSessions[$0], limit: 100) }
            record(Self.latestJSON, json, answer: answer)
        }

        answer = 0
        let twenty = try latencies(options.iterations(300)) { _ in answer += try backend.recentSessions(project: Fixture.projects[0], limit: 20, after: nil).bytes }
        record(Self.listTwenty, twenty, answer: backend.exactOrder ? answer : nil)

        if full {
            answer = 0
            let first = try latencies(options.iterations(300)) { _ in answer += try backend.recentSessions(project: Fixture.projects[0], limit: 100, after: nil).bytes }
            record(Self.listFirst, first, answer: backend.exactOrder ? answer : nil)
        }

        if full { try runReads(&random) }
        try runAppends(&random)
        if full { try await runWrites(&random) }
    }

    private mutating func runReads(_ random: inout SplitMix64) throws {
        let thousand = fixture.sessions[fixture.thousandTurnSession].id
        var answer = 0
        record("load a whole session (\(fixture.sessions[fixture.thousandTurnSession].ownTurns) turns)",
               try latencies(options.iterations(30)) { _ in answer += try backend.history(of: thousand) }, answer: answer)

        let deep = fixture.sessions[fixture.deepFork]
        answer = 0
        record("read a fork-of-a-fork's history (5 deep, \(deep.historyLength) turns)",
               try latencies(options.iterations(100)) { _ in answer += try backend.history(of: deep.id) }, answer: answer)

        // Page 50 (or the last full page of a small timeline), reached by walking the pages before it.
        var cursor: Any?
        var page = 1
        while page < 50, let next = try backend.recentSessions(project: Fixture.projects[0], limit: 100, after: cursor).next {
            cursor = next
            page += 1
        }
        let start = cursor
        answer = 0
        record("list 100 recent sessions of a project, page \(page)",
               try latencies(options.iterations(300)) { _ in answer += try backend.recentSessions(project: Fixture.projects[0], limit: 100, after: start).bytes },
               answer: backend.exactOrder ? answer : nil)

        let points = (0..<options.iterations(2_000)).map { _ -> (UUID, Int) in
            let index = fixture.skewedLongSession(&random)
            let session = fixture.sessions[index]
            return (session.id, session.branchPoint + random.below(session.ownTurns))
        }
        answer = 0
        record("point get of a turn", try latencies(points.count) { answer += try backend.turn(of: points[$0].0, sequence: points[$0].1) }, answer: answer)

        // Reads while a writer appends durably, back to back.
        let writer = BackgroundWriter(backend: backend, fixture: fixture)
        writer.start()
        let sessions = (0..<options.iterations(500)).map { _ in fixture.sessions[fixture.skewedLongSession(&random)].id }
        let underLoad = try latencies(sessions.count) { _ = try backend.latestTurns(of: sessions[$0], limit: 100) }
        try writer.stop()
        record("load 100 turns while a writer appends", underLoad)
    }

    private mutating func runAppends(_ random: inout SplitMix64) throws {
        let count = options.iterations(200)
        let jobs = (0..<count).map { index -> (UUID, TurnData) in
            let session = fixture.skewedLongSession(&random)
            return (fixture.sessions[session].id, fixture.turn(session: session, sequence: 1_000_000 + index))
        }
        let before = IOCounters.read()
        let commitsBefore = try backend.commits(), syncsBefore = SyncCounter.syncs
        let samples = try latencies(count) { try backend.append(jobs[$0].1, to: jobs[$0].0) }
        record(Self.append, samples)
        results.append(Measurement(size: size, workload: "commits per durable append", backend: backend.name, operations: count,
                                   value: Double(try backend.commits() - commitsBefore) / Double(count), unit: "commits"))
        results.append(Measurement(size: size, workload: "sync calls per durable append", backend: backend.name, operations: count,
                                   value: Double(SyncCounter.syncs - syncsBefore) / Double(count), unit: "syncs"))
        if let before, let after = IOCounters.read() {
            results.append(Measurement(size: size, workload: "bytes written per durable append", backend: backend.name, operations: count,
                                       value: Double(after.writeBytes - before.writeBytes) / Double(count), unit: "bytes"))
            results.append(Measurement(size: size, workload: "write calls per durable append", backend: backend.name, operations: count,
                                       value: Double(after.writeCalls - before.writeCalls) / Double(count), unit: "calls"))
        }
    }

    private mutating func runWrites(_ random: inout SplitMix64) async throws {
        for writers in [1, 4, 16, 64] {
            // 128 bursts: at one commit per burst, two of the write-ahead log's checkpoint
            // intervals (64 commits) and SQLite's WAL checkpoints too, so that each figure
            // carries its share of them (runs before 2026-11-29 night 2 timed 20 or 40 bursts,
            // and whether one checkpoint fell inside a figure swung it by half).
            let rounds = options.iterations(128)
            var elapsed: UInt64 = 0
            var roundTimes: [Double] = []
            let commitsBefore = try backend.commits(), ioBefore = IOCounters.read(), cpuBefore = processCPUSeconds()
            for round in 0..<rounds {
                let jobs = (0..<writers).map { index -> (UUID, TurnData) in
                    let session = fixture.skewedLongSession(&random)
                    return (fixture.sessions[session].id, fixture.turn(session: session, sequence: 2_000_000 + round * writers + index))
                }
                let start = now()
                try await backend.appendConcurrently(jobs)
                let time = now() - start
                elapsed += time
                roundTimes.append(Double(time) / 1_000)
            }
            let cpu = processCPUSeconds() - cpuBefore
            let sorted = roundTimes.sorted()
            results.append(Measurement(size: size, workload: "concurrent durable appends, \(writers) writers", backend: backend.name,
                                       p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), operations: rounds * writers,
                                       perSecond: Double(rounds * writers) / (Double(elapsed) / 1e9), unit: "appends/s"))
            results.append(Measurement(size: size, workload: "commits per append, \(writers) writers", backend: backend.name, operations: rounds * writers,
                                       value: Double(try backend.commits() - commitsBefore) / Double(rounds * writers), unit: "commits"))
            // What an append costs in CPU, every thread of the process (the backend's writer and
            // checkpoint threads, the calling tasks): on a machine of few cores, what bounds the
            // appends a second once the syncs are shared.
            results.append(Measurement(size: size, workload: "CPU time per append, \(writers) writers", backend: backend.name,
                                       operations: rounds * writers, value: cpu * 1e6 / Double(rounds * writers), unit: "µs"))
            // What group commit saves in writes: appends of one batch share the pages near the
            // root and the hot leaves (the change log's end, the listings' newest entries).
            if let ioBefore, let ioAfter = IOCounters.read() {
                results.append(Measurement(size: size, workload: "bytes written per append, \(writers) writers", backend: backend.name,
                                           operations: rounds * writers,
                                           value: Double(ioAfter.writeBytes - ioBefore.writeBytes) / Double(rounds * writers), unit: "bytes"))
            }
            print("  \(backend.name) — \(writers) concurrent writers: \(Int(Double(rounds * writers) / (Double(elapsed) / 1e9))) appends/s")
        }

        try await runMixed(&random)

        let forks = (0..<options.iterations(100)).map { _ -> (UUID, Int) in
            let session = fixture.sessions[fixture.skewedLongSession(&random)]
            return (session.id, session.branchPoint + random.below(session.ownTurns))
        }
        record("fork a session, durable", try latencies(forks.count) { _ = try backend.fork(forks[$0].0, at: forks[$0].1) })

        var deleteTimes: [Double] = []
        for round in 0..<options.iterations(10) {
            let session = try backend.makeSession(turns: (0..<1_000).map { fixture.turn(session: round, sequence: $0) })
            let start = now()
            try backend.delete(session)
            deleteTimes.append(Double(now() - start) / 1_000)
        }
        record("delete a 1,000-turn session, durable", deleteTimes.sorted())

        var openTimes: [Double] = []
        for _ in 0..<options.iterations(10) {
            let start = now()
            let listed = try await backend.reopenAndList()
            openTimes.append(Double(now() - start) / 1_000)
            precondition(listed == 20, "\(backend.name) listed \(listed) sessions after reopening")
        }
        record("open cold + list the 20 newest sessions", openTimes.sorted())
    }
}

extension Workloads {
    /// A service's traffic: 16 concurrent clients, each doing 90 % reads (a session's latest 20
    /// turns) and 10 % durable appends, on sessions chosen with a Zipf-like skew.
    mutating func runMixed(_ random: inout SplitMix64) async throws {
        // 1,000 operations a client (100 before 2026-11-30, evening): 1,600 appends, several of
        // the write-ahead log's checkpoint intervals, where 160 took ~0.1 s and whether a
        // checkpoint's write-back fell inside swung the figure 0.8–3.1× from run to run.
        let clients = 16, perClient = options.iterations(1_000)
        let plans: [[(read: Bool, session: UUID, turn: TurnData)]] = (0..<clients).map { client in
            (0..<perClient).map { step in
                let index = fixture.skewedLongSession(&random)
                return (random.below(10) != 0, fixture.sessions[index].id, fixture.turn(session: index, sequence: 4_000_000 + client * perClient + step))
            }
        }
        let backend = self.backend
        resetPeakRSS()
        let start = now()
        let readTimes = try await withThrowingTaskGroup(of: [Double].self) { group in
            for plan in plans {
                group.addTask {
                    var times: [Double] = []
                    for operation in plan {
                        if operation.read {
                            let begin = now()
                            _ = try backend.latestTurns(of: operation.session, limit: 20)
                            times.append(Double(now() - begin) / 1_000)
                        } else {
                            try await backend.appendConcurrently([(operation.session, operation.turn)])
                        }
                    }
                    return times
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }.sorted()
        let seconds = Double(now() - start) / 1e9
        results.append(Measurement(size: size, workload: "mixed: 16 clients, 90 % reads / 10 % durable appends", backend: backend.name,
                                   p50: percentile(readTimes, 0.5), p99: percentile(readTimes, 0.99), operations: clients * perClient,
                                   perSecond: Double(clients * perClient) / seconds, unit: "operations/s"))
        if let peak = peakRSS() {
            results.append(Measurement(size: size, workload: "peak RSS during the mixed workload", backend: backend.name, operations: 1,
                                       value: Double(peak) / 1_048_576, unit: "MiB"))
        }
        print("  \(backend.name) — mixed: \(Int(Double(clients * perClient) / seconds)) operations/s, read p99 \(Int(percentile(readTimes, 0.99))) µs")
    }
}

/// A thread that appends durably, back to back, until stopped: the write load of a read workload.
final class BackgroundWriter: @unchecked Sendable {
    let backend: any Backend
    let fixture: Fixture
    private let lock = NSLock()
    private var running = true
    private var failure: (any Error)?
    private let done = DispatchSemaphore(value: 0)

    init(backend: any Backend, fixture: Fixture) { (self.backend, self.fixture) = (backend, fixture) }

    func start() {
        Thread.detachNewThread { [self] in
            var sequence = 3_000_000
            let session = fixture.sessions[fixture.longSessions.last ?? 0].id
            while lock.withLock({ running }) {
                do { try backend.append(fixture.turn(session: 0, sequence: sequence), to: session) } catch {
                    lock.withLock { failure = error }
                    break
                }
                sequence += 1
            }
            done.signal()
        }
    }

    func stop() throws {
        lock.withLock { running = false }
        done.wait()
        if let failure { throw failure }
    }
}
