import Foundation
import BenchFixtures
import GRDB
import SQLiteBaseline
import Timeline

/// Counts a database's commits (GRDB calls `databaseDidCommit` on every observer).
final class CommitCounter: TransactionObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var commits: Int { lock.withLock { count } }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: GRDB.Database) { lock.withLock { count += 1 } }
    func databaseDidRollback(_ db: GRDB.Database) {}
}

/// Both GRDB backends' settings, read back from the engine.
func grdbSettings(_ pool: DatabasePool) throws -> [String: String] {
    let synchronous = ["0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"]
    return try pool.read { db in
        ["engine": "SQLite \(try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "?") through GRDB",
         "journal_mode": try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?",
         "synchronous (readers)": synchronous[try String.fetchOne(db, sql: "PRAGMA synchronous") ?? ""] ?? "?"]
    }.merging(try pool.write { db in ["synchronous (writer)": synchronous[try String.fetchOne(db, sql: "PRAGMA synchronous") ?? ""] ?? "?"] }) { a, _ in a }
}

/// SQLite through GRDB as a GRDB user writes it — the baseline of the package-benchmark suite
/// (`Sources/SQLiteBaseline`): `Codable` records, dates as text, tool calls and metadata as JSON
/// columns, an append that reads and rewrites the session row, a fork that copies the parent's
/// rows, pages by `OFFSET`. Dates keep milliseconds, so two sessions active in the same
/// millisecond may list in another order than elsewhere: its listings are not compared.
final class GRDBNaiveBackend: Backend, @unchecked Sendable {
    let name = "SQLite (GRDB, as written)"
    let directory: String
    private var baseline: SQLiteTimeline
    private let counter = CommitCounter()
    let exactOrder = false

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        baseline = try SQLiteTimeline(path: directory + "/grdb.sqlite")
        baseline.pool.add(transactionObserver: counter, extent: .databaseLifetime)
    }

    func settings() throws -> [String: String] { try grdbSettings(baseline.pool) }

    func load(_ fixture: Fixture) throws {
        for (index, session) in fixture.sessions.enumerated() {
            try baseline.pool.write { db in
                if let parent = session.parent {
                    _ = try baseline.fork(fixture.sessions[parent].id, at: session.branchPoint, as: session.id, in: db)
                    try db.execute(sql: "UPDATE sessions SET title = ? WHERE id = ?", arguments: [session.title, session.id])
                } else {
                    _ = try baseline.createSession(id: session.id, title: session.title, project: session.project,
                                                   created: Fixture.epoch.addingTimeInterval(Double(index * 100)), in: db)
                }
            }
            var sequence = 0
            while sequence < session.ownTurns {
                let count = min(5_000, session.ownTurns - sequence)
                let turns = (sequence..<sequence + count).map { TimelineStoreBackend.newTurn(fixture.turn(session: index, sequence: session.branchPoint + $0)) }
                try baseline.pool.write { db in try baseline.append(turns, to: session.id, in: db) }
                sequence += count
            }
        }
    }

    func append(_ turn: TurnData, to session: UUID) throws {
        try baseline.pool.write { db in try baseline.append([TimelineStoreBackend.newTurn(turn)], to: session, in: db) }
    }

    func appendConcurrently(_ jobs: [(UUID, TurnData)]) async throws {
        let baseline = self.baseline
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (session, turn) in jobs {
                let new = TimelineStoreBackend.newTurn(turn)
                group.addTask { try await baseline.pool.write { db in try baseline.append([new], to: session, in: db) } }
            }
            try await group.waitForAll()
        }
    }

    func latestTurns(of session: UUID, limit: Int) throws -> Int {
        try baseline.pool.read { db in
            try SQLiteTimeline.TurnRow.filter(Column("sessionID") == session).order(Column("sequence").desc).limit(limit)
                .fetchAll(db).reduce(0) { $0 + $1.content.utf8.count }
        }
    }

    /// The records, then `JSONEncoder`: what a GRDB user writes first.
    func latestTurnsJSON(of session: UUID, limit: Int) throws -> Int {
        let rows = try baseline.pool.read { db in
            try SQLiteTimeline.TurnRow.filter(Column("sessionID") == session).order(Column("sequence").desc).limit(limit).fetchAll(db)
        }
        _ = try JSONEncoder().encode(rows)
        return rows.count
    }

    func history(of session: UUID) throws -> Int {
        try baseline.pool.read { db in
            try SQLiteTimeline.TurnRow.filter(Column("sessionID") == session).order(Column("sequence")).fetchAll(db).reduce(0) { $0 + $1.content.utf8.count }
        }
    }

    func recentSessions(project: String, limit: Int, after cursor: Any?) throws -> (bytes: Int, next: Any?) {
        let offset = cursor as? Int ?? 0
        let rows = try baseline.pool.read { db in
            try SQLiteTimeline.SessionRow.filter(Column("project") == project && Column("archived") == false)
                .order(Column("lastActivity").desc, Column("id").desc).limit(limit, offset: offset).fetchAll(db)
        }
        return (rows.reduce(0) { $0 + $1.title.utf8.count }, rows.count == limit ? offset + limit : nil)
    }

    func turn(of session: UUID, sequence: Int) throws -> Int {
        try baseline.pool.read { db in
            guard let row = try SQLiteTimeline.TurnRow.fetchOne(db, key: ["sessionID": session, "sequence": sequence]) else {
                throw DatabaseError(message: "no turn \(sequence) in \(session)")
            }
            return row.content.utf8.count
        }
    }

    func fork(_ session: UUID, at point: Int) throws -> UUID {
        try baseline.pool.write { db in try baseline.fork(session, at: point, in: db) }
    }

    func delete(_ session: UUID) throws {
        try baseline.pool.write { db in try baseline.deleteSession(session, in: db) }
    }

    func makeSession(turns: [TurnData]) throws -> UUID {
        try baseline.pool.write { db in
            let session = try baseline.createSession(title: "to delete", project: "scratch", in: db)
            try baseline.append(turns.map(TimelineStoreBackend.newTurn), to: session.id, in: db)
            return session.id
        }
    }

    func reopenAndList() async throws -> Int {
        try baseline.pool.close()
        baseline = try SQLiteTimeline(path: directory + "/grdb.sqlite")
        baseline.pool.add(transactionObserver: counter, extent: .databaseLifetime)
        return try await baseline.pool.read { db in
            try SQLiteTimeline.SessionRow.filter(Column("archived") == false).order(Column("lastActivity").desc).limit(20).fetchCount(db)
        }
    }

    func commits() throws -> Int { counter.commits }

    func diskBytes() throws -> Int {
        _ = try baseline.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        return directoryBytes(directory)
    }

    func close() async throws { try baseline.pool.close() }
}

/// SQLite through GRDB, tuned as the issue describes a careful GRDB user: the C-API backend's
/// schema (dates as integers, counters updated in place, forks by parent pointer), statements
/// cached by GRDB (`cachedStatement`), rows read by column position from cursors, GRDB's
/// `DatabasePool` (a serialized writer, concurrent readers).
final class GRDBTunedBackend: Backend, @unchecked Sendable {
    let name = "SQLite (GRDB, tuned)"
    let directory: String
    private var pool: DatabasePool
    private let counter = CommitCounter()

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        pool = try Self.open(directory, counter)
    }

    private static func open(_ directory: String, _ counter: CommitCounter) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let pool = try DatabasePool(path: directory + "/grdb-tuned.sqlite", configuration: configuration)
        // GRDB sets `synchronous = NORMAL` on the writer of a WAL pool after `prepareDatabase`.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: TunedSQL.schema)
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool.add(transactionObserver: counter, extent: .databaseLifetime)
        return pool
    }

    func settings() throws -> [String: String] { try grdbSettings(pool) }

    static func micros(_ date: Date) -> Int { SQLiteBackend.micros(date) }

    private func insert(_ turns: [TurnData], to session: UUID, in db: GRDB.Database) throws {
        let now = Self.micros(Date())
        let bump = try db.cachedStatement(sql: TunedSQL.bumpSession)
        guard let count = try Int.fetchOne(bump, arguments: [turns.count, turns.reduce(0) { $0 + $1.inputTokens },
                                                              turns.reduce(0) { $0 + $1.outputTokens }, turns.reduce(0) { $0 + $1.cost },
                                                              now, now, session]) else {
            throw DatabaseError(message: "no session \(session)")
        }
        let insert = try db.cachedStatement(sql: TunedSQL.insertTurn)
        for (offset, turn) in turns.enumerated() {
            let tools = turn.toolName.map { #"[{"id":"c","name":"\#($0)","arguments":\#(turn.toolArguments ?? "null")}]"# }
            try insert.execute(arguments: [session, count - turns.count + offset, UUID(), turn.role, turn.content, Self.micros(turn.created),
                                           turn.inputTokens, turn.outputTokens, turn.cost, tools])
        }
    }

    private func insertSession(_ id: UUID, title: String, project: String, parent: UUID?, branchPoint: Int, created: Int, activity: Int, in db: GRDB.Database) throws {
        try db.cachedStatement(sql: TunedSQL.insertSession).execute(arguments: [id, title, project, parent, branchPoint, created, activity, activity, branchPoint])
    }

    func load(_ fixture: Fixture) throws {
        for (index, session) in fixture.sessions.enumerated() {
            let created = Self.micros(Fixture.epoch.addingTimeInterval(Double(index * 100)))
            try pool.write { db in
                try insertSession(session.id, title: session.title, project: session.project, parent: session.parent.map { fixture.sessions[$0].id },
                                  branchPoint: session.branchPoint, created: created, activity: session.parent == nil ? created : Self.micros(Date()), in: db)
            }
            var sequence = 0
            while sequence < session.ownTurns {
                let count = min(5_000, session.ownTurns - sequence)
                let turns = (sequence..<sequence + count).map { fixture.turn(session: index, sequence: session.branchPoint + $0) }
                try pool.write { db in try insert(turns, to: session.id, in: db) }
                sequence += count
            }
        }
    }

    func append(_ turn: TurnData, to session: UUID) throws {
        try pool.write { db in try insert([turn], to: session, in: db) }
    }

    func appendConcurrently(_ jobs: [(UUID, TurnData)]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (session, turn) in jobs {
                group.addTask { try await self.pool.write { db in try self.insert([turn], to: session, in: db) } }
            }
            try await group.waitForAll()
        }
    }

    /// Where a session's history is stored: (session, first, end) from the root to the session.
    private func segments(of session: UUID, in db: GRDB.Database) throws -> [(UUID, Int, Int)] {
        let statement = try db.cachedStatement(sql: TunedSQL.lineage)
        return try lineage(of: session) { current in
            guard let row = try Row.fetchOne(statement, arguments: [current]) else { throw DatabaseError(message: "no session \(current)") }
            return (row[0], row[1], row[2])
        }
    }

    private func readTurns(of session: UUID, limit: Int, descending: Bool) throws -> Int {
        try pool.read { db in
            var bytes = 0, read = 0
            let parts = try segments(of: session, in: db)
            let statement = try db.cachedStatement(sql: descending ? TunedSQL.turnsDescending : TunedSQL.turnsAscending)
            for (id, start, end) in descending ? parts.reversed() : parts where read < limit {
                let rows = try Row.fetchCursor(statement, arguments: [id, start, end, limit - read])
                while let row = try rows.next() {
                    let content: String = row[0]
                    bytes += content.utf8.count
                    _ = (row[1] as String, row[2] as Int, row[3] as Int?)
                    read += 1
                }
            }
            return bytes
        }
    }

    func latestTurns(of session: UUID, limit: Int) throws -> Int { try readTurns(of: session, limit: limit, descending: true) }

    func history(of session: UUID) throws -> Int { try readTurns(of: session, limit: .max, descending: false) }

    /// Each row made a JSON object by SQLite (`json_object`), read as a `String` and joined.
    func latestTurnsJSON(of session: UUID, limit: Int) throws -> Int {
        try pool.read { db in
            var json: [UInt8] = [UInt8(ascii: "[")]
            var read = 0
            let statement = try db.cachedStatement(sql: TunedSQL.turnsJSONDescending)
            for (id, start, end) in try segments(of: session, in: db).reversed() where read < limit {
                let rows = try String.fetchCursor(statement, arguments: [id, start, end, limit - read])
                while let object = try rows.next() {
                    if read > 0 { json.append(UInt8(ascii: ",")) }
                    json.append(contentsOf: object.utf8)
                    read += 1
                }
            }
            json.append(UInt8(ascii: "]"))
            return read
        }
    }

    func recentSessions(project: String, limit: Int, after cursor: Any?) throws -> (bytes: Int, next: Any?) {
        try pool.read { db in
            let rows: RowCursor
            if let (activity, id) = cursor as? (Int, UUID) {
                rows = try Row.fetchCursor(db.cachedStatement(sql: TunedSQL.listAfter), arguments: [project, activity, id, limit])
            } else {
                rows = try Row.fetchCursor(db.cachedStatement(sql: TunedSQL.listFirst), arguments: [project, limit])
            }
            var bytes = 0, count = 0
            var last: (Int, UUID)?
            while let row = try rows.next() {
                let title: String = row[1]
                bytes += title.utf8.count
                last = (row[2], row[0])
                count += 1
            }
            return (bytes, count == limit ? last : nil)
        }
    }

    func turn(of session: UUID, sequence: Int) throws -> Int {
        try pool.read { db in
            guard let content = try String.fetchOne(db.cachedStatement(sql: TunedSQL.oneTurn),
                                                    arguments: [session, sequence]) else {
                throw DatabaseError(message: "no turn \(sequence) in \(session)")
            }
            return content.utf8.count
        }
    }

    func fork(_ session: UUID, at point: Int) throws -> UUID {
        let id = UUID(), now = Self.micros(Date())
        try pool.write { db in
            try db.cachedStatement(sql: TunedSQL.forkSession).execute(arguments: [id, point, now, now, now, point, session, point])
            guard db.changesCount == 1 else { throw DatabaseError(message: "cannot fork \(session) at \(point)") }
        }
        return id
    }

    func delete(_ session: UUID) throws {
        try pool.write { db in
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM sessions WHERE parent = ?"), arguments: [session]) != nil {
                throw DatabaseError(message: "the benchmark deletes sessions without forks")
            }
            for table in ["turns", "checkpoints", "crystals"] {
                try db.cachedStatement(sql: "DELETE FROM \(table) WHERE session = ?").execute(arguments: [session])
            }
            try db.cachedStatement(sql: "DELETE FROM sessions WHERE id = ?").execute(arguments: [session])
        }
    }

    func makeSession(turns: [TurnData]) throws -> UUID {
        let id = UUID(), now = Self.micros(Date())
        try pool.write { db in
            try insertSession(id, title: "to delete", project: "scratch", parent: nil, branchPoint: 0, created: now, activity: now, in: db)
            try insert(turns, to: id, in: db)
        }
        return id
    }

    func reopenAndList() async throws -> Int {
        try pool.close()
        pool = try Self.open(directory, counter)
        return try await pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: TunedSQL.listNewest)).count
        }
    }

    func commits() throws -> Int { counter.commits }

    func diskBytes() throws -> Int {
        _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        return directoryBytes(directory)
    }

    func close() async throws { try pool.close() }
}
