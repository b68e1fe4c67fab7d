package import Foundation
package import GRDB
package import Timeline

/// The classic design a Swift service would otherwise reach for: SQLite through GRDB, a
/// `sessions` table and a `turns` table keyed by (session, sequence), the usual indexes, WAL,
/// and `synchronous = FULL` so that every commit is as durable as TimelineStore's default.
/// A fork copies the parent's turns (the classic schema has no shared history).
package final class SQLiteTimeline: Sendable {
    package let pool: DatabasePool

    package struct SessionRow: Codable, FetchableRecord, PersistableRecord, Sendable {
        package static let databaseTableName = "sessions"
        package var id: UUID
        package var title: String
        package var project: String?
        package var parentID: UUID?
        package var branchPoint: Int?
        package var created: Date
        package var updated: Date
        package var lastActivity: Date
        package var turnCount: Int
        package var inputTokens: Int
        package var outputTokens: Int
        package var cost: Double
        package var archived: Bool
        package var metadata: [String: String]
    }

    package struct TurnRow: Codable, FetchableRecord, PersistableRecord, Sendable {
        package static let databaseTableName = "turns"
        package var sessionID: UUID
        package var sequence: Int
        package var id: UUID
        package var role: String
        package var content: String
        package var created: Date
        package var duration: Double?
        package var inputTokens: Int?
        package var outputTokens: Int?
        package var cost: Double?
        package var toolCalls: [Turn.ToolCall]
        package var blocks: [Turn.Block]
        package var metadata: [String: String]
    }

    package init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets `synchronous = NORMAL` on the writer of a WAL pool after `prepareDatabase`;
        // the harness reads it back, and only FULL is as durable as TimelineStore's commits.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
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

    package func createSession(id: UUID = UUID(), title: String, project: String?, created: Date = Date(), in db: GRDB.Database) throws -> SessionRow {
        let row = SessionRow(id: id, title: title, project: project, parentID: nil, branchPoint: nil, created: created, updated: created,
                             lastActivity: created, turnCount: 0, inputTokens: 0, outputTokens: 0, cost: 0, archived: false, metadata: [:])
        try row.insert(db)
        return row
    }

    /// Appends turns the way a service on this schema would: read the session, insert the turns
    /// at the next sequences, update the session's counters and activity, in one transaction.
    package func append(_ turns: [NewTurn], to id: UUID, in db: GRDB.Database) throws {
        guard var session = try SessionRow.fetchOne(db, key: id) else { throw DatabaseError(message: "no session") }
        let now = Date()
        for turn in turns {
            try TurnRow(sessionID: id, sequence: session.turnCount, id: turn.id, role: turn.role.description, content: turn.content,
                        created: turn.created ?? now, duration: turn.duration, inputTokens: turn.inputTokens,
                        outputTokens: turn.outputTokens, cost: turn.cost?.doubleValue, toolCalls: turn.toolCalls, blocks: turn.blocks,
                        metadata: turn.metadata).insert(db)
            session.turnCount += 1
            session.inputTokens += turn.inputTokens ?? 0
            session.outputTokens += turn.outputTokens ?? 0
            session.cost += turn.cost?.doubleValue ?? 0
        }
        session.lastActivity = now
        session.updated = now
        try session.update(db)
    }

    package func turns(of id: UUID, limit: Int, in db: GRDB.Database) throws -> [TurnRow] {
        try TurnRow.filter(Column("sessionID") == id).order(Column("sequence")).limit(limit).fetchAll(db)
    }

    package func listSessions(project: String, limit: Int, in db: GRDB.Database) throws -> [SessionRow] {
        try SessionRow.filter(Column("project") == project && Column("archived") == false)
            .order(Column("lastActivity").desc).limit(limit).fetchAll(db)
    }

    /// A fork on the classic schema: a new session row and a copy of the parent's turns up to `at`.
    package func fork(_ id: UUID, at: Int, as child: UUID = UUID(), in db: GRDB.Database) throws -> UUID {
        guard var session = try SessionRow.fetchOne(db, key: id) else { throw DatabaseError(message: "no session") }
        session.parentID = id
        session.branchPoint = at
        session.id = child
        session.turnCount = at
        session.created = Date()
        session.lastActivity = session.created
        try session.insert(db)
        try db.execute(sql: """
            INSERT INTO turns SELECT ?, sequence, id, role, content, created, duration, inputTokens, outputTokens, cost,
                toolCalls, blocks, metadata FROM turns WHERE sessionID = ? AND sequence < ?
            """, arguments: [child, id, at])
        return child
    }

    package func deleteSession(_ id: UUID, in db: GRDB.Database) throws {
        try db.execute(sql: "DELETE FROM turns WHERE sessionID = ?", arguments: [id])
        _ = try SessionRow.deleteOne(db, key: id)
    }
}
