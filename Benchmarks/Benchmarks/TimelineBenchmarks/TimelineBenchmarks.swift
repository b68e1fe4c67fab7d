// TimelineStore against SQLite through GRDB (the classic sessions/turns schema, WAL,
// synchronous = FULL), both durable, on the same generated timeline, side by side. Run:
//   cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target TimelineBenchmarks
import Benchmark
import Foundation
import GRDB
import SQLiteBaseline
import Timeline

/// Both stores, filled with the same timeline: `sessionCount` sessions of `turnsPerSession`
/// turns over `projects.count` projects — 1,000,000 turns by default, as DESIGN.md asks
/// (`TIMELINE_BENCH_SESSIONS=1000` makes a quicker, 100,000-turn run).
final class TimelineFixture: @unchecked Sendable {
    static let shared = TimelineFixture()
    static let sessionCount = ProcessInfo.processInfo.environment["TIMELINE_BENCH_SESSIONS"].flatMap(Int.init) ?? 10_000
    static let turnsPerSession = 100
    static let projects = (0..<10).map { "project-\($0)" }

    let timeline: TimelineStore
    let sqlite: SQLiteTimeline
    /// Session ids in each store.
    let timelineSessions: [UUID]
    let sqliteSessions: [UUID]
    /// Sessions the append benchmarks write to (16, one per concurrent task).
    let timelineTargets: [UUID]
    let sqliteTargets: [UUID]
    /// Where this process's stores are.
    let base: String

    /// package-benchmark runs every benchmark in a process of its own: the stores are generated
    /// once into a pristine directory (kept between runs), and each process works on a copy.
    init() {
        let pristine = NSTemporaryDirectory() + "/timelinestore-bench-fixture-\(Self.sessionCount)x\(Self.turnsPerSession)-v1"
        let base = NSTemporaryDirectory() + "/timelinestore-bench-\(getpid())"
        self.base = base
        do {
            if !FileManager.default.fileExists(atPath: pristine + "/complete") {
                try? FileManager.default.removeItem(atPath: pristine)
                try FileManager.default.createDirectory(atPath: pristine, withIntermediateDirectories: true)
                try Self.generate(in: pristine)
                _ = FileManager.default.createFile(atPath: pristine + "/complete", contents: nil)
            }
            Self.removeCopiesOfEndedRuns()
            try? FileManager.default.removeItem(atPath: base)
            try FileManager.default.copyItem(atPath: pristine, toPath: base)
            let timeline = try TimelineStore(path: base + "/timeline")
            let sqlite = try SQLiteTimeline(path: base + "/sqlite.db")
            self.timeline = timeline
            self.sqlite = sqlite
            timelineSessions = try timeline.listSessions(filter: SessionFilter(archived: nil), limit: .max).items.map(\.id)
            sqliteSessions = try sqlite.pool.read { db in try UUID.fetchAll(db, sql: "SELECT id FROM sessions") }
            timelineTargets = try timeline.write { txn in try (0..<16).map { _ in try txn.createSession(NewSession(title: "target")).id } }
            sqliteTargets = try sqlite.pool.write { db in try (0..<16).map { _ in try sqlite.createSession(title: "target", project: nil, in: db).id } }
        } catch {
            fatalError("timeline benchmark fixture: \(error)")
        }
    }

    /// Removes the working copies of benchmark processes that have ended (each is as large as
    /// the fixture; a process cannot remove its own at exit).
    private static func removeCopiesOfEndedRuns() {
        let temporary = NSTemporaryDirectory()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where name.hasPrefix("timelinestore-bench-") {
            guard let pid = Int32(name.dropFirst("timelinestore-bench-".count)), pid != getpid(), kill(pid, 0) != 0 else { continue }
            try? FileManager.default.removeItem(atPath: temporary + "/" + name)
        }
    }

    /// Writes the same generated timeline into a TimelineStore and a SQLite database in `directory`.
    private static func generate(in directory: String) throws {
        let timeline = try TimelineStore(path: directory + "/timeline")
        let sqlite = try SQLiteTimeline(path: directory + "/sqlite.db")
        for chunk in stride(from: 0, to: sessionCount, by: 100) {
            let range = chunk..<min(chunk + 100, sessionCount)
            try timeline.write { txn in
                for index in range {
                    let session = try txn.createSession(NewSession(title: "session \(index)", project: projects[index % 10]))
                    try txn.append(benchTurns(turnsPerSession), to: session.id)
                }
            }
            try sqlite.pool.write { db in
                for index in range {
                    let session = try sqlite.createSession(title: "session \(index)", project: projects[index % 10], in: db)
                    try sqlite.append(benchTurns(turnsPerSession), to: session.id, in: db)
                }
            }
        }
        // Fold the WAL into the database file, so that a copy of the directory is complete.
        _ = try sqlite.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }
}

/// `count` realistic turns: alternating roles, about 300 bytes of text, token counts, and a tool
/// call on every fourth.
func benchTurns(_ count: Int) -> [NewTurn] {
    (0..<count).map { index in
        NewTurn(
            role: index % 2 == 0 ? .user : .assistant,
            content: String(repeating: "The migration plan keeps every record readable while it runs. ", count: 5),
            duration: index % 2 == 0 ? nil : 1.5, inputTokens: 120, outputTokens: index % 2 == 0 ? nil : 340,
            cost: 0.002,
            toolCalls: index % 4 == 1 ? [Turn.ToolCall(id: "call-\(index)", name: "search", arguments: #"{"q":"plan"}"#, result: "3 hits")] : [],
            metadata: ["model": "gpt-x"]
        )
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 10,
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )
    let fixture = TimelineFixture.shared
    let oneTurn = benchTurns(2)[1]

    // MARK: Durable writes

    Benchmark("append 1 turn, durable — TimelineStore") { _ in
        try await fixture.timeline.append(oneTurn, to: fixture.timelineTargets[0])
    }
    Benchmark("append 1 turn, durable — SQLite (GRDB)") { _ in
        try await fixture.sqlite.pool.write { db in try fixture.sqlite.append([oneTurn], to: fixture.sqliteTargets[0], in: db) }
    }
    Benchmark("16 concurrent appends, durable — TimelineStore") { _ in
        try await withThrowingTaskGroup(of: Void.self) { group in
            for target in fixture.timelineTargets {
                group.addTask { try await fixture.timeline.append(oneTurn, to: target) }
            }
            try await group.waitForAll()
        }
    }
    Benchmark("16 concurrent appends, durable — SQLite (GRDB)") { _ in
        try await withThrowingTaskGroup(of: Void.self) { group in
            for target in fixture.sqliteTargets {
                group.addTask { try await fixture.sqlite.pool.write { db in try fixture.sqlite.append([oneTurn], to: target, in: db) } }
            }
            try await group.waitForAll()
        }
    }
    let bulk = benchTurns(1_000)
    Benchmark("import a 1,000-turn session, durable — TimelineStore") { _ in
        try fixture.timeline.write { txn in
            let session = try txn.createSession(NewSession(title: "bulk"))
            try txn.append(bulk, to: session.id)
        }
    }
    Benchmark("import a 1,000-turn session, durable — SQLite (GRDB)") { _ in
        try fixture.sqlite.pool.write { db in
            let session = try fixture.sqlite.createSession(title: "bulk", project: nil, in: db)
            try fixture.sqlite.append(bulk, to: session.id, in: db)
        }
    }

    // MARK: Opening

    // A second copy of each store (LMDB allows one open environment per file and process), opened
    // from cold in every iteration; the time to open and answer a first query must not grow with
    // the store.
    Benchmark("open the store, list its 20 newest sessions — TimelineStore") { _ in
        let timeline = try TimelineStore(path: fixture.base + "/timeline-copy", migrationPolicy: .failIfNeeded)
        blackHole(try timeline.read { txn in try txn.listSessions(limit: 20) })
    } setup: {
        try? FileManager.default.removeItem(atPath: fixture.base + "/timeline-copy")
        try fixture.timeline.environment.copy(to: fixture.base + "/timeline-copy")
    }
    Benchmark("open the store, list its 20 newest sessions — SQLite (GRDB)") { _ in
        let pool = try DatabasePool(path: fixture.base + "/sqlite.db")
        blackHole(try pool.read { db in
            try SQLiteTimeline.SessionRow.filter(Column("archived") == false).order(Column("lastActivity").desc).limit(20).fetchAll(db)
        })
    }

    // MARK: Reads

    Benchmark("load 100 turns of a session — TimelineStore") { _ in
        let id = fixture.timelineSessions[Int.random(in: 0..<fixture.timelineSessions.count)]
        blackHole(try fixture.timeline.read { txn in try txn.turns(of: id, limit: 100) })
    }
    Benchmark("load 100 turns of a session — SQLite (GRDB)") { _ in
        let id = fixture.sqliteSessions[Int.random(in: 0..<fixture.sqliteSessions.count)]
        blackHole(try fixture.sqlite.pool.read { db in try fixture.sqlite.turns(of: id, limit: 100, in: db) })
    }
    Benchmark("list 100 recent sessions of a project — TimelineStore") { _ in
        let filter = SessionFilter(project: TimelineFixture.projects.randomElement()!)
        blackHole(try fixture.timeline.read { txn in try txn.listSessions(filter: filter, limit: 100) })
    }
    Benchmark("list 100 recent sessions of a project — SQLite (GRDB)") { _ in
        let project = TimelineFixture.projects.randomElement()!
        blackHole(try fixture.sqlite.pool.read { db in try fixture.sqlite.listSessions(project: project, limit: 100, in: db) })
    }

    // MARK: Fork and delete

    Benchmark("fork a 100-turn session at turn 50, durable — TimelineStore") { _ in
        let id = fixture.timelineSessions[Int.random(in: 0..<fixture.timelineSessions.count)]
        blackHole(try await fixture.timeline.fork(session: id, at: 50))
    }
    Benchmark("fork a 100-turn session at turn 50, durable — SQLite (GRDB)") { _ in
        let id = fixture.sqliteSessions[Int.random(in: 0..<fixture.sqliteSessions.count)]
        blackHole(try await fixture.sqlite.pool.write { db in try fixture.sqlite.fork(id, at: 50, in: db) })
    }
    // Sessions to delete are made in each benchmark's setup, outside the measurement.
    let deletes = Benchmark.Configuration(warmupIterations: 10, scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 500)
    let doomed = (timeline: Doomed(), sqlite: Doomed())
    let hundred = benchTurns(100)
    Benchmark("delete a 100-turn session, durable — TimelineStore", configuration: deletes) { _ in
        guard let id = doomed.timeline.next() else { throw DoomedExhausted() }
        try await fixture.timeline.deleteSession(id)
    } setup: {
        try doomed.timeline.fill(fixture.timeline.write { txn in
            try (0..<Doomed.count).map { _ in
                let session = try txn.createSession(NewSession(title: "doomed"))
                try txn.append(hundred, to: session.id)
                return session.id
            }
        })
    }
    Benchmark("delete a 100-turn session, durable — SQLite (GRDB)", configuration: deletes) { _ in
        guard let id = doomed.sqlite.next() else { throw DoomedExhausted() }
        try await fixture.sqlite.pool.write { db in try fixture.sqlite.deleteSession(id, in: db) }
    } setup: {
        try doomed.sqlite.fill(fixture.sqlite.pool.write { db in
            try (0..<Doomed.count).map { _ in
                let session = try fixture.sqlite.createSession(title: "doomed", project: nil, in: db)
                try fixture.sqlite.append(hundred, to: session.id, in: db)
                return session.id
            }
        })
    }
}

/// Sessions made ahead for a delete benchmark: each iteration deletes one.
final class Doomed: @unchecked Sendable {
    /// More than the benchmark's warm-up plus its most iterations.
    static let count = 600
    private let lock = NSLock()
    private var ids: [UUID] = []

    func fill(_ ids: [UUID]) { lock.withLock { self.ids = ids } }
    func next() -> UUID? { lock.withLock { ids.popLast() } }
}

struct DoomedExhausted: Error {}
