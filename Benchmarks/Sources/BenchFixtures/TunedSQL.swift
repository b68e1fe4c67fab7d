// The tuned SQLite baseline, as SQL text (no SQLite dependency here).

/// The tuned SQLite baseline's schema and statements, shared by timeline-bench's C-API and
/// GRDB-tuned backends and by TimelineInstructions, so that all run exactly the same SQL.
public enum TunedSQL {
    public static let insertSession = """
        INSERT INTO sessions (id, title, project, parent, branch_point, created, updated, last_activity, turn_count,
        input_tokens, output_tokens, cost, archived, checkpoint_count, crystal_count)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0)
        """
    public static let bumpSession = """
        UPDATE sessions SET turn_count = turn_count + ?, input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,
        cost = cost + ?, last_activity = max(last_activity, ?), updated = ? WHERE id = ? RETURNING turn_count
        """
    public static let insertTurn = """
        INSERT INTO turns (session, seq, id, role, content, created, input_tokens, output_tokens, cost, tool_calls)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    public static let insertCheckpoint = """
        INSERT INTO checkpoints (session, number, id, turn_seq, state, created)
        SELECT id, checkpoint_count, ?, turn_count, ?, ? FROM sessions WHERE id = ?
        """
    public static let forkSession = """
        INSERT INTO sessions (id, title, project, parent, branch_point, created, updated, last_activity, turn_count,
        input_tokens, output_tokens, cost, archived, checkpoint_count, crystal_count)
        SELECT ?, title, project, id, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0 FROM sessions WHERE id = ? AND turn_count >= ?
        """
    public static let listFirst = """
        SELECT id, title, last_activity, turn_count FROM sessions WHERE project = ? AND archived = 0
        ORDER BY last_activity DESC, id DESC LIMIT ?
        """
    public static let listAfter = """
        SELECT id, title, last_activity, turn_count FROM sessions WHERE project = ? AND archived = 0 AND (last_activity, id) < (?, ?)
        ORDER BY last_activity DESC, id DESC LIMIT ?
        """
    public static let lineage = """
        SELECT parent, branch_point, turn_count FROM sessions WHERE id = ?
        """
    public static let oneTurn = """
        SELECT content, role, created, input_tokens FROM turns WHERE session = ? AND seq = ?
        """
    public static let listNewest = """
        SELECT id, title, last_activity FROM sessions WHERE archived = 0 ORDER BY last_activity DESC, id DESC LIMIT 20
        """
    public static let turnsAscending = """
        SELECT content, role, created, input_tokens FROM turns WHERE session = ? AND seq >= ? AND seq < ? ORDER BY seq LIMIT ?
        """
    public static let turnsDescending = """
        SELECT content, role, created, input_tokens FROM turns WHERE session = ? AND seq >= ? AND seq < ? ORDER BY seq DESC LIMIT ?
        """
    /// The rows of `turnsDescending` as JSON, one object per row made by SQLite's own
    /// `json_object` (its JSON1 functions, in C), with the names and forms `turnsJSON` writes:
    /// the ids as hex text (SQLite has no UUID form), the time as ISO 8601 text, tool calls as JSON.
    public static let turnsJSONDescending = """
        SELECT json_object('sessionID', hex(session), 'sequence', seq, 'id', hex(id), 'role', role, 'content', content,
                           'created', strftime('%Y-%m-%dT%H:%M:%fZ', created / 1000000.0, 'unixepoch'),
                           'inputTokens', input_tokens, 'outputTokens', output_tokens, 'cost', cost,
                           'toolCalls', json(CASE WHEN tool_calls IS NULL OR tool_calls = '' THEN '[]' ELSE tool_calls END))
        FROM turns WHERE session = ? AND seq >= ? AND seq < ? ORDER BY seq DESC LIMIT ?
        """
    public static let insertCrystal = """
        INSERT INTO crystals (session, version, text, created) SELECT id, crystal_count, ?, ? FROM sessions WHERE id = ?
        """
    /// The tables and indexes (WAL journal): dates as integer microseconds, forks by parent pointer.
    public static let schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS sessions (
            id BLOB PRIMARY KEY NOT NULL, title TEXT NOT NULL, project TEXT, parent BLOB, branch_point INTEGER NOT NULL,
            created INTEGER NOT NULL, updated INTEGER NOT NULL, last_activity INTEGER NOT NULL, turn_count INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost REAL NOT NULL, archived INTEGER NOT NULL,
            checkpoint_count INTEGER NOT NULL, crystal_count INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS sessions_project ON sessions(project, archived, last_activity, id);
        CREATE INDEX IF NOT EXISTS sessions_activity ON sessions(archived, last_activity, id);
        CREATE INDEX IF NOT EXISTS sessions_parent ON sessions(parent);
        CREATE TABLE IF NOT EXISTS turns (
            session BLOB NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
            created INTEGER NOT NULL, input_tokens INTEGER, output_tokens INTEGER, cost REAL, tool_calls TEXT);
        CREATE UNIQUE INDEX IF NOT EXISTS turns_key ON turns(session, seq);
        CREATE TABLE IF NOT EXISTS checkpoints (
            session BLOB NOT NULL, number INTEGER NOT NULL, id BLOB NOT NULL, turn_seq INTEGER NOT NULL, state BLOB,
            created INTEGER NOT NULL, PRIMARY KEY (session, number)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS crystals (
            session BLOB NOT NULL, version INTEGER NOT NULL, text TEXT NOT NULL, created INTEGER NOT NULL,
            PRIMARY KEY (session, version)) WITHOUT ROWID;
        """
}
