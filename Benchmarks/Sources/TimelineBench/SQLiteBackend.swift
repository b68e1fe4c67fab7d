import CSQLite
import BenchFixtures
import Dispatch
import Foundation

/// The best SQLite a user could write, on the C API: WAL with `synchronous = FULL` (every commit
/// as durable as TimelineStore's), statements prepared once, columns read by position, dates as
/// integer microseconds, counters updated in place (`turn_count = turn_count + 1 … RETURNING`),
/// and a fork that stores its parent and branch point instead of copying rows (reads walk the
/// ancestry, like TimelineStore). One writer connection behind a serial queue — SQLite has one
/// writer at a time — and a pool of reader connections, as GRDB's `DatabasePool` keeps.
/// `@unchecked Sendable`: writes run on the serial `queue`; each read holds a reader connection of the pool.
final class SQLiteBackend: Backend, @unchecked Sendable {
    let name = "SQLite (C API, tuned)"
    let directory: String
    /// The open connections and their statements; `nil` once closed.
    private var state: Statements?
    private let queue = DispatchQueue(label: "sqlite-writer")


    /// The writer connection and its statements, prepared once, and the pool of readers.
    final class Statements {
        let writer: SQLiteConnection
        let readers: ReaderPool
        let begin, commit, rollback, insertSession, bumpSession, insertTurn, insertCheckpoint, insertCrystal: SQLiteConnection.Statement
        let forkSession, children, deleteTurns, deleteCheckpoints, deleteCrystals, deleteSession: SQLiteConnection.Statement

        init(writer: SQLiteConnection, readers: ReaderPool) throws {
            self.writer = writer
            self.readers = readers
            begin = try writer.prepare("BEGIN IMMEDIATE")
            commit = try writer.prepare("COMMIT")
            rollback = try writer.prepare("ROLLBACK")
            insertSession = try writer.prepare(TunedSQL.insertSession)
            bumpSession = try writer.prepare(TunedSQL.bumpSession)
            insertTurn = try writer.prepare(TunedSQL.insertTurn)
            insertCheckpoint = try writer.prepare(TunedSQL.insertCheckpoint)
            insertCrystal = try writer.prepare(TunedSQL.insertCrystal)
            forkSession = try writer.prepare(TunedSQL.forkSession)
            children = try writer.prepare("SELECT id FROM sessions WHERE parent = ?")
            deleteTurns = try writer.prepare("DELETE FROM turns WHERE session = ?")
            deleteCheckpoints = try writer.prepare("DELETE FROM checkpoints WHERE session = ?")
            deleteCrystals = try writer.prepare("DELETE FROM crystals WHERE session = ?")
            deleteSession = try writer.prepare("DELETE FROM sessions WHERE id = ?")
        }
    }

    /// A reader connection and its statements, prepared once.
    final class Reader {
        let connection: SQLiteConnection
        let lineage, turnsAscending, turnsDescending, turnsJSON, oneTurn, listFirst, listAfter, listNewest: SQLiteConnection.Statement

        init(path: String) throws {
            connection = try SQLiteConnection(path: path)
            try connection.execute("PRAGMA synchronous = FULL")
            lineage = try connection.prepare(TunedSQL.lineage)
            turnsAscending = try connection.prepare(TunedSQL.turnsAscending)
            turnsDescending = try connection.prepare(TunedSQL.turnsDescending)
            turnsJSON = try connection.prepare(TunedSQL.turnsJSONDescending)
            oneTurn = try connection.prepare(TunedSQL.oneTurn)
            listFirst = try connection.prepare(TunedSQL.listFirst)
            listAfter = try connection.prepare(TunedSQL.listAfter)
            listNewest = try connection.prepare(TunedSQL.listNewest)
        }
    }

    /// Reader connections for concurrent reads (WAL lets them read beside the writer), made on
    /// demand and reused — what GRDB's `DatabasePool` does.
    final class ReaderPool: @unchecked Sendable {
        let path: String
        private let lock = NSLock()
        private var idle: [Reader] = []

        init(path: String) throws {
            self.path = path
            idle = [try Reader(path: path)]
        }

        func with<T>(_ body: (Reader) throws -> T) throws -> T {
            let reader = try lock.withLock { idle.popLast() } ?? Reader(path: path)
            defer { lock.withLock { idle.append(reader) } }
            return try body(reader)
        }
    }

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        state = try Self.open(directory)
    }

    /// The open connections, or an error once closed.
    private func current() throws -> Statements {
        guard let state else { throw SQLiteConnection.Failure(description: "the SQLite store is closed") }
        return state
    }

    private static func open(_ directory: String) throws -> Statements {
        let writer = try SQLiteConnection(path: directory + "/timeline.sqlite")
        writer.countCommits()
        try writer.execute(TunedSQL.schema)
        try writer.execute("PRAGMA synchronous = FULL")
        return try Statements(writer: writer, readers: ReaderPool(path: directory + "/timeline.sqlite"))
    }

    func settings() throws -> [String: String] {
        let s = try current()
        let synchronous = ["0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"]
        return [
            "engine": "SQLite \(String(cString: sqlite3_libversion()))",
            "journal_mode": try s.writer.text("PRAGMA journal_mode"),
            "synchronous (writer)": synchronous[try s.writer.text("PRAGMA synchronous")] ?? "?",
            "synchronous (readers)": synchronous[try s.readers.with { try $0.connection.text("PRAGMA synchronous") }] ?? "?",
        ]
    }

    static func micros(_ date: Date) -> Int { Int(date.timeIntervalSince1970 * 1_000_000) }

    /// Runs `body` in one immediate write transaction on the writer connection.
    private func transaction<T>(_ body: () throws -> T) throws -> T {
        let s = try current()
        try s.begin.bind().run()
        do {
            let result = try body()
            try s.commit.bind().run()
            return result
        } catch {
            try? s.rollback.bind().run()
            throw error
        }
    }

    private func insert(_ turns: [TurnData], to session: UUID) throws {
        let s = try current()
        let input = turns.reduce(0) { $0 + $1.inputTokens }, output = turns.reduce(0) { $0 + $1.outputTokens }
        let cost = turns.reduce(0) { $0 + $1.cost }
        // Activity is the time of the append, as TimelineStore keeps it: every backend lists in the same order.
        let now = Self.micros(Date())
        let bump = try s.bumpSession.bind(turns.count, input, output, cost, now, now, session)
        guard try bump.step() else { throw SQLiteConnection.Failure(description: "no session \(session)") }
        let first = bump.int(0) - turns.count
        try bump.run()
        for (offset, turn) in turns.enumerated() {
            let tools = turn.toolName.map { #"[{"id":"c","name":"\#($0)","arguments":\#(turn.toolArguments ?? "null")}]"# }
            try s.insertTurn.bind(session, first + offset, UUID(), turn.role, turn.content, Self.micros(turn.created),
                                           turn.inputTokens, turn.outputTokens, turn.cost, tools).run()
        }
    }

    func load(_ fixture: Fixture) throws {
        let s = try current()
        for (index, session) in fixture.sessions.enumerated() {
            let created = Self.micros(Fixture.epoch.addingTimeInterval(Double(index * 100)))
            // A fork's activity is the time it was made, as in TimelineStore.
            let activity = session.parent == nil ? created : Self.micros(Date())
            try transaction {
                let parent = session.parent.map { fixture.sessions[$0].id }
                try s.insertSession.bind(session.id, session.title, session.project, parent, session.branchPoint,
                                         created, activity, activity, session.branchPoint).run()
            }
            var sequence = 0
            while sequence < session.ownTurns {
                let count = min(5_000, session.ownTurns - sequence)
                let turns = (sequence..<sequence + count).map { fixture.turn(session: index, sequence: session.branchPoint + $0) }
                try transaction { try insert(turns, to: session.id) }
                sequence += count
            }
            if session.ownTurns >= 20 {
                try transaction {
                    for _ in 0..<(session.ownTurns / 50) {
                        try s.insertCheckpoint.bind(UUID(), [UInt8]("{}".utf8), created, session.id).run()
                        try s.writer.execute("UPDATE sessions SET checkpoint_count = checkpoint_count + 1 WHERE id = x'\(Self.hex(session.id))'")
                    }
                    try s.insertCrystal.bind("Summary of \(session.title)", created, session.id).run()
                }
            }
        }
    }

    static func hex(_ id: UUID) -> String { withUnsafeBytes(of: id.uuid) { $0.map { String(format: "%02x", $0) }.joined() } }

    func append(_ turn: TurnData, to session: UUID) throws {
        try queue.sync { try transaction { try insert([turn], to: session) } }
    }

    func appendConcurrently(_ jobs: [(UUID, TurnData)]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (session, turn) in jobs {
                group.addTask {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                        self.queue.async {
                            continuation.resume(with: Result { try self.transaction { try self.insert([turn], to: session) } })
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Where a session's history is stored: (session, first, end) from the root to the session.
    private func segments(of session: UUID, _ r: Reader) throws -> [(UUID, Int, Int)] {
        try lineage(of: session) { current in
            let row = try r.lineage.bind(current)
            guard try row.step() else { throw SQLiteConnection.Failure(description: "no session \(current)") }
            defer { try? row.run() }
            return (row.uuid(0), row.int(1), row.int(2))
        }
    }

    private func readTurns(of session: UUID, limit: Int, descending: Bool) throws -> Int {
        try current().readers.with { r in
            var bytes = 0, read = 0
            let parts = try segments(of: session, r)
            for (id, start, end) in descending ? parts.reversed() : parts where read < limit {
                let rows = try (descending ? r.turnsDescending : r.turnsAscending).bind(id, start, end, limit - read)
                while try rows.step() {
                    bytes += rows.text(0).utf8.count
                    _ = (rows.text(1), rows.int(2), rows.int(3))
                    read += 1
                }
            }
            return bytes
        }
    }

    func latestTurns(of session: UUID, limit: Int) throws -> Int { try readTurns(of: session, limit: limit, descending: true) }

    func history(of session: UUID) throws -> Int { try readTurns(of: session, limit: .max, descending: false) }

    /// Each row made a JSON object by SQLite (`json_object`), the objects joined into one array.
    func latestTurnsJSON(of session: UUID, limit: Int) throws -> Int {
        try current().readers.with { r in
            var json: [UInt8] = [UInt8(ascii: "[")]
            var read = 0
            for (id, start, end) in try segments(of: session, r).reversed() where read < limit {
                let rows = try r.turnsJSON.bind(id, start, end, limit - read)
                while try rows.step() {
                    if read > 0 { json.append(UInt8(ascii: ",")) }
                    rows.withText(0) { json.append(contentsOf: $0) }
                    read += 1
                }
            }
            json.append(UInt8(ascii: "]"))
            return read
        }
    }

    func recentSessions(project: String, limit: Int, after cursor: Any?) throws -> (bytes: Int, next: Any?) {
        try current().readers.with { r in
            let rows: SQLiteConnection.Statement
            if let (activity, id) = cursor as? (Int, UUID) {
                rows = try r.listAfter.bind(project, activity, id, limit)
            } else {
                rows = try r.listFirst.bind(project, limit)
            }
            var bytes = 0, count = 0
            var last: (Int, UUID)?
            while try rows.step() {
                bytes += rows.text(1).utf8.count
                if let id = rows.uuid(0) { last = (rows.int(2), id) }
                _ = rows.int(3)
                count += 1
            }
            return (bytes, count == limit ? last : nil)
        }
    }

    func turn(of session: UUID, sequence: Int) throws -> Int {
        try current().readers.with { r in
            let row = try r.oneTurn.bind(session, sequence)
            guard try row.step() else { throw SQLiteConnection.Failure(description: "no turn \(sequence) in \(session)") }
            defer { try? row.run() }
            return row.text(0).utf8.count
        }
    }

    func fork(_ session: UUID, at point: Int) throws -> UUID {
        let s = try current()
        let id = UUID()
        let now = Self.micros(Date())
        try queue.sync {
            try transaction {
                try s.forkSession.bind(id, point, now, now, now, point, session, point).run()
                guard sqlite3_changes(s.writer.handle) == 1 else { throw SQLiteConnection.Failure(description: "cannot fork \(session) at \(point)") }
            }
        }
        return id
    }

    func delete(_ session: UUID) throws {
        let s = try current()
        try queue.sync {
            try transaction {
                // Forks would first receive the turns they inherit, as TimelineStore does; none here.
                let forks = try s.children.bind(session)
                if try forks.step() { throw SQLiteConnection.Failure(description: "the benchmark deletes sessions without forks") }
                for statement in [s.deleteTurns, s.deleteCheckpoints, s.deleteCrystals, s.deleteSession] {
                    try statement.bind(session).run()
                }
            }
        }
    }

    func makeSession(turns: [TurnData]) throws -> UUID {
        let s = try current()
        let id = UUID()
        let now = Self.micros(Date())
        try queue.sync {
            try transaction {
                try s.insertSession.bind(id, "to delete", "scratch", nil, 0, now, now, now, 0).run()
                try insert(turns, to: id)
            }
        }
        return id
    }

    func reopenAndList() async throws -> Int {
        try await close()
        let s = try Self.open(directory)
        state = s
        return try s.readers.with { r in
            let rows = try r.listNewest.bind()
            var count = 0
            while try rows.step() { count += 1 }
            return count
        }
    }

    func commits() throws -> Int { try current().writer.commits }

    func diskBytes() throws -> Int {
        let s = try current()
        try s.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return directoryBytes(directory)
    }

    func close() async throws {
        // The statements go with their connections, which close when the last reference does.
        state = nil
    }
}
