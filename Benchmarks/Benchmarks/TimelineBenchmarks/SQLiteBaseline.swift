import Foundation
import GRDB
import Timeline

/// The classic design a Swift service would otherwise reach for: SQLite through GRDB, a
/// `sessions` table and a `turns` table keyed by (session, sequence), the usual indexes, WAL,
/// and `synchronous = FULL` so that every commit is as durable as TimelineStore's default.
/// A fork copies the parent's turns (the classic schema has no shared history).
final class SQLiteTimeline: Sendable {
    let pool: DatabasePool

    struct SessionRow: Codable, FetchableRecord, PersistableRecord, Sendable {
        static let databaseTableName = "sessions"
        var id: UUID
        var title: String
        var project: String?
        var parentID: UUID?
        var branchPoint: Int?
        var created: Date
        var updated: Date
        var lastActivity: Date
        var turnCount: Int
        var inputTokens: Int
        var outputTokens: Int
        var cost: Double
        var archived: Bool
        var metadata: [String: String]
    }

    struct TurnRow: Codable, FetchableRecord, PersistableRecord, Sendable {
        static let databaseTableName = "turns"
        var sessionID: UUID
        var sequence: Int
        var id: UUID
        var role: String
        var content: String
        var created: Date
        var duration: Double?
        var inputTokens: Int?
        var outputTokens: Int?
        var cost: Double?
        var toolCalls: [Turn.ToolCall]
        var blocks: [Turn.Block]
        var metadata: [String: String]
    }

    init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS sessions (
                    id BLOB PRIMARY KEY NOT NULL, title TEXT NOT NULL, project TEXT, parentID BLOB REFERENCES sessions(id),
                    branchPoint INTEGER, created TEXT NOT NULL, updated TEXT NOT NULL, lastActivity TEXT NOT NULL,
                    turnCount INTEGER NOT NULL, inputTokens INTEGER NOT NULL, outputTokens INTEGER NOT NULL,
                    cost REAL NOT NULL, archived INTEGER NOT NULL, metadata TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS sessions_project ON sessions(project, archived, lastActivity);
                CREATE INDEX IF NOT EXISTS sessions_activity ON sessions(archived, lastActivity);
                CREATE INDEX IF NOT EXISTS sessions_parent ON sessions(parentID);
                CREATE TABLE IF NOT EXISTS turns (
                    sessionID BLOB NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, sequence INTEGER NOT NULL,
                    id BLOB NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, created TEXT NOT NULL,
                    duration REAL, inputTokens INTEGER, outputTokens INTEGER, cost REAL,
                    toolCalls TEXT NOT NULL, blocks TEXT NOT NULL, metadata TEXT NOT NULL,
                    PRIMARY KEY (sessionID, sequence)) WITHOUT ROWID;
                """)
        }
    }

    func createSession(title: String, project: String?, in db: GRDB.Database) throws -> SessionRow {
        let now = Date()
        let row = SessionRow(id: UUID(), title: title, project: project, parentID: nil, branchPoint: nil, created: now, updated: now,
                             lastActivity: now, turnCount: 0, inputTokens: 0, outputTokens: 0, cost: 0, archived: false, metadata: [:])
        try row.insert(db)
        return row
    }

    /// Appends turns the way a service on this schema would: read the session, insert the turns
    /// at the next sequences, update the session's counters and activity, in one transaction.
    func append(_ turns: [NewTurn], to id: UUID, in db: GRDB.Database) throws {
        guard var session = try SessionRow.fetchOne(db, key: id) else { throw DatabaseError(message: "no session") }
        let now = Date()
        for turn in turns {
            try TurnRow(sessionID: id, sequence: session.turnCount, id: turn.id, role: turn.role.description, content: turn.content,
                        created: turn.created ?? now, duration: turn.duration, inputTokens: turn.inputTokens,
                        outputTokens: turn.outputTokens, cost: turn.cost, toolCalls: turn.toolCalls, blocks: turn.blocks,
                        metadata: turn.metadata).insert(db)
            session.turnCount += 1
            session.inputTokens += turn.inputTokens ?? 0
            session.outputTokens += turn.outputTokens ?? 0
            session.cost += turn.cost ?? 0
        }
        session.lastActivity = now
        session.updated = now
        try session.update(db)
    }

    func turns(of id: UUID, limit: Int, in db: GRDB.Database) throws -> [TurnRow] {
        try TurnRow.filter(Column("sessionID") == id).order(Column("sequence")).limit(limit).fetchAll(db)
    }

    func listSessions(project: String, limit: Int, in db: GRDB.Database) throws -> [SessionRow] {
        try SessionRow.filter(Column("project") == project && Column("archived") == false)
            .order(Column("lastActivity").desc).limit(limit).fetchAll(db)
    }

    /// A fork on the classic schema: a new session row and a copy of the parent's turns up to `at`.
    func fork(_ id: UUID, at: Int, in db: GRDB.Database) throws -> UUID {
        guard var session = try SessionRow.fetchOne(db, key: id) else { throw DatabaseError(message: "no session") }
        let child = UUID()
        session.parentID = id
        session.branchPoint = at
        session.id = child
        session.turnCount = at
        session.created = Date()
        try session.insert(db)
        try db.execute(sql: """
            INSERT INTO turns SELECT ?, sequence, id, role, content, created, duration, inputTokens, outputTokens, cost,
                toolCalls, blocks, metadata FROM turns WHERE sessionID = ? AND sequence < ?
            """, arguments: [child, id, at])
        return child
    }

    func deleteSession(_ id: UUID, in db: GRDB.Database) throws {
        try db.execute(sql: "DELETE FROM turns WHERE sessionID = ?", arguments: [id])
        _ = try SessionRow.deleteOne(db, key: id)
    }
}
