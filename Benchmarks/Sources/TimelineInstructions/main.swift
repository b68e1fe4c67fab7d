// Counts the instructions of loading a session's latest 100 turns and of listing a project's 100
// most recent sessions, by way of reading, under callgrind — steadier than wall time on a shared
// machine. Run through `Benchmarks/instructions.sh timeline`, which subtracts a run of 0 iterations.
//
//   TimelineInstructions <iterations> <mode>
//     raw               LMDB alone: one read transaction, a cursor over the same 100 stored values
//     sqlite            the tuned SQLite C API (timeline-bench's peer): the session's row, then the
//                       100 rows' content, role, created and input_tokens, read by position
//     views             forEachTurn reading those four fields in place
//     records           turns(of:reverse:limit:) — 100 `Turn` values
//     json              turnsJSON(of:reverse:limit:) — one JSON array, transcoded from the records
//     sqlite-json       the same page as JSON from SQLite: each row made a JSON object by SQLite's own
//                       json_object (its JSON1 functions, in C), the rows joined into one array
//     records-json      turns(of:…) and then JSONEncoder: what a service does without turnsJSON
//     sessions-raw      LMDB alone: the project index's first 100 entries and each session's value
//     sessions-sqlite   SQLite: id, title, last_activity and turn_count of the 100 rows
//     sessions-views    forEachSession reading those four fields in place
//     sessions-records  listSessions — 100 `Session` values
//     views-1, sessions-views-1   a page of one: what a call costs besides its records
//     append            one turn appended per write transaction, round 150 sessions (per append,
//                       not per page)
//     burst             bursts of 64 (TIMELINE_INSTRUCTIONS_BURST_SIZE) concurrent async appends
//                       through the group committer: one write transaction a burst (per append;
//                       valgrind 3.19 cannot run it: time it with `perf stat -e task-clock`)
import BenchFixtures
import CSQLite
import Foundation
import Timeline
import TimelineLMDB

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "0") ?? 0
let mode = CommandLine.arguments.dropFirst(2).first ?? "raw"
let path = NSTemporaryDirectory() + "/timelinestore-timeline-instructions-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: path) }

// One session of 1,000 turns shaped like timeline-bench's: 50 B–4 KiB of prose (log-uniform, as
// the harness's turns without its rare tool outputs; `Prose`), token counts, a cost, and a tool
// call on every fourth turn; and 150 more sessions of one turn in its project. Before 2026-11-30
// every turn held the same ~560 bytes of one repeated word. With TIMELINE_INSTRUCTIONS_LZ4=1
// the store compresses large records (`compression: .lz4`).
let turns = (0..<1_000).map { index in
    NewTurn(role: index % 2 == 0 ? .user : .assistant, content: Prose.piece(index),
            inputTokens: 120, outputTokens: 340, cost: 0.0021,
            toolCalls: index % 4 == 0 ? [Turn.ToolCall(id: "c\(index)", name: "search", arguments: #"{"q":"lisbon"}"#, result: "ok")] : [])
}
let compression: ValueCompression = ProcessInfo.processInfo.environment["TIMELINE_INSTRUCTIONS_LZ4"] == "1" ? .lz4 : .none
// TIMELINE_INSTRUCTIONS_DURABILITY=log or durable: for timing a burst's syncs (strace), not counting.
let durability: Environment.Durability = switch ProcessInfo.processInfo.environment["TIMELINE_INSTRUCTIONS_DURABILITY"] {
    case "log": .writeAheadLog
    case "durable": .durable
    default: .noSync
}
let timeline = try TimelineStore(path: path + "/store", configuration: .init(mapSize: 64 << 20, durability: durability), compression: compression)
let session = try timeline.write { tx in try tx.createSession(NewSession(title: "instructions", project: "p")) }
try timeline.write { tx in _ = try tx.append(turns, to: session.id) }
let listed = try timeline.write { tx in
    try (0..<150).map { index in
        let other = try tx.createSession(NewSession(title: "session \(index) of the project", project: "p"))
        _ = try tx.append(turns[index], to: other.id)
        return other
    }
}
let turnsDatabase = try timeline.environment.openDatabase("turns", create: false)
let projectIndex = try timeline.environment.openDatabase("idx.sessions.project", create: false)
let sessionsDatabase = try timeline.environment.openDatabase("sessions", create: false)
let sessionKey = withUnsafeBytes(of: session.id.uuid) { Array($0) }
let first = sessionKey + withUnsafeBytes(of: UInt64(900).bigEndian) { Array($0) }
let end = sessionKey + withUnsafeBytes(of: UInt64(1_000).bigEndian) { Array($0) }

/// The same rows in the tuned SQLite baseline's schema (`TunedSQL`), WAL, one read connection.
final class SQLitePeer {
    var db: OpaquePointer?
    var lineage, latest, list, latestJSON: OpaquePointer?

    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard sqlite3_open(directory + "/peer.sqlite", &db) == SQLITE_OK, sqlite3_exec(db, TunedSQL.schema, nil, nil, nil) == SQLITE_OK else {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    func prepare(_ sql: String) throws -> OpaquePointer? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: sqlite3_errmsg(db))])
        }
        return statement
    }

    func bind(_ statement: OpaquePointer?, _ index: Int32, _ id: UUID) {
        withUnsafeBytes(of: id.uuid) { _ = sqlite3_bind_blob(statement, index, $0.baseAddress, 16, unsafeBitCast(-1, to: sqlite3_destructor_type.self)) }
    }

    func bind(_ statement: OpaquePointer?, _ index: Int32, _ text: String) {
        _ = sqlite3_bind_text(statement, index, text, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
    }

    func run(_ statement: OpaquePointer?) throws {
        guard sqlite3_step(statement) == SQLITE_DONE else { throw CocoaError(.fileWriteUnknown) }
        sqlite3_reset(statement)
    }

    func load(session: UUID, turns: [NewTurn], others: [UUID]) throws {
        let insertSession = try prepare(TunedSQL.insertSession), insertTurn = try prepare(TunedSQL.insertTurn)
        sqlite3_exec(db, "BEGIN", nil, nil, nil)
        for (number, id) in ([session] + others).enumerated() {
            let count = number == 0 ? turns.count : 1
            bind(insertSession, 1, id)
            bind(insertSession, 2, number == 0 ? "instructions" : "session \(number - 1) of the project")
            bind(insertSession, 3, "p")
            sqlite3_bind_null(insertSession, 4)
            sqlite3_bind_int64(insertSession, 5, 0)
            for column in Int32(6)...8 { sqlite3_bind_int64(insertSession, column, 1_000_000 + Int64(number)) }
            sqlite3_bind_int64(insertSession, 9, Int64(count))
            try run(insertSession)
            for (sequence, turn) in turns.prefix(count).enumerated() {
                bind(insertTurn, 1, id)
                sqlite3_bind_int64(insertTurn, 2, Int64(sequence))
                bind(insertTurn, 3, turn.id)
                bind(insertTurn, 4, turn.role.description)
                bind(insertTurn, 5, turn.content)
                sqlite3_bind_int64(insertTurn, 6, 1_000_000)
                sqlite3_bind_int64(insertTurn, 7, Int64(turn.inputTokens ?? 0))
                sqlite3_bind_int64(insertTurn, 8, Int64(turn.outputTokens ?? 0))
                sqlite3_bind_double(insertTurn, 9, 0.0021)
                bind(insertTurn, 10, turn.toolCalls.isEmpty ? "" : #"[{"id":"c","name":"search"}]"#)
                try run(insertTurn)
            }
        }
        sqlite3_exec(db, "COMMIT", nil, nil, nil)
        sqlite3_finalize(insertSession)
        sqlite3_finalize(insertTurn)
        lineage = try prepare(TunedSQL.lineage)
        latest = try prepare(TunedSQL.turnsDescending)
        list = try prepare(TunedSQL.listFirst)
        latestJSON = try prepare(TunedSQL.turnsJSONDescending)
    }

    /// Reads the session's row (its turn count), then binds `statement` to its latest 100 turns.
    func bindLatestPage(_ statement: OpaquePointer?, _ id: UUID) {
        bind(lineage, 1, id)
        var count: Int64 = 0
        if sqlite3_step(lineage) == SQLITE_ROW { count = sqlite3_column_int64(lineage, 2) }
        sqlite3_reset(lineage)
        bind(statement, 1, id)
        sqlite3_bind_int64(statement, 2, 0)
        sqlite3_bind_int64(statement, 3, count)
        sqlite3_bind_int64(statement, 4, 100)
    }

    /// What a service on SQLite does for "the latest 100 turns as JSON": the session's row, then
    /// one JSON object per row from SQLite, joined into one array.
    func latestTurnsJSON(_ id: UUID) -> Int {
        bindLatestPage(latestJSON, id)
        var json: [UInt8] = [UInt8(ascii: "[")]
        while sqlite3_step(latestJSON) == SQLITE_ROW {
            if json.count > 1 { json.append(UInt8(ascii: ",")) }
            if let text = sqlite3_column_text(latestJSON, 0) {
                json.append(contentsOf: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(latestJSON, 0))))
            }
        }
        json.append(UInt8(ascii: "]"))
        sqlite3_reset(latestJSON)
        return json.count
    }

    /// What the tuned backend's `latestTurns` does: the session's row, then the rows.
    func latestTurns(_ id: UUID) -> Int {
        bindLatestPage(latest, id)
        var bytes = 0
        while sqlite3_step(latest) == SQLITE_ROW {
            _ = sqlite3_column_text(latest, 0)
            bytes &+= Int(sqlite3_column_bytes(latest, 0))
            _ = sqlite3_column_text(latest, 1)
            _ = sqlite3_column_int64(latest, 2)
            _ = sqlite3_column_int64(latest, 3)
        }
        sqlite3_reset(latest)
        return bytes
    }

    func recentSessions() -> Int {
        bind(list, 1, "p")
        sqlite3_bind_int64(list, 2, 100)
        var bytes = 0
        while sqlite3_step(list) == SQLITE_ROW {
            _ = sqlite3_column_blob(list, 0)
            _ = sqlite3_column_text(list, 1)
            bytes &+= Int(sqlite3_column_bytes(list, 1))
            _ = sqlite3_column_int64(list, 2)
            _ = sqlite3_column_int64(list, 3)
        }
        sqlite3_reset(list)
        return bytes
    }
}

/// Runs `mode`; a function, so that its loop state is not in globals (checked on every use).
func run(_ mode: String, _ iterations: Int, _ id: UUID) throws -> Int {
    var total = 0
    switch mode {
    case "raw":
        let range = KeyRange.halfOpen(first, end)
        for _ in 0..<iterations {
            total &+= try timeline.environment.read { txn in
                var bytes = 0
                try turnsDatabase.forEachEntry(range, reverse: true, in: txn) { bytes &+= $0.value.count }
                return bytes
            }
        }
    case "sqlite", "sessions-sqlite", "sqlite-json":
        let peer = try SQLitePeer(directory: path + "/sqlite")
        try peer.load(session: id, turns: turns, others: listed.map(\.id))
        for _ in 0..<iterations {
            let bytes = switch mode {
            case "sqlite": peer.latestTurns(id)
            case "sqlite-json": peer.latestTurnsJSON(id)
            default: peer.recentSessions()
            }
            total &+= bytes
        }
    case "views":
        for _ in 0..<iterations {
            try timeline.forEachTurn(of: id, reverse: true, limit: 100) { turn in
                _ = try turn.role
                total &+= try turn.withContentUTF8 { $0.count }
                _ = try turn.created
                _ = try turn.inputTokens
            }
        }
    case "records":
        for _ in 0..<iterations { total &+= try timeline.turns(of: id, reverse: true, limit: 100).items.count }
    case "json":
        for _ in 0..<iterations { total &+= try timeline.turnsJSON(of: id, reverse: true, limit: 100).json.count }
    case "records-json":
        let encoder = JSONEncoder()
        for _ in 0..<iterations { total &+= try encoder.encode(timeline.turns(of: id, reverse: true, limit: 100).items).count }
    case "sessions-raw":
        for _ in 0..<iterations {
            total &+= try timeline.environment.read { txn in
                var bytes = 0, seen = 0
                try projectIndex.withCursor(in: txn) { cursor in
                    var entries = cursor.entries(in: .all)
                    while seen < 100, let entry = try entries.next() {
                        let session = UnsafeRawBufferPointer(rebasing: entry.key[(entry.key.count - 16)...])
                        bytes &+= try sessionsDatabase.get(session, in: txn)?.count ?? 0
                        seen += 1
                    }
                }
                return bytes
            }
        }
    case "sessions-views":
        let filter = SessionFilter(project: "p")
        for _ in 0..<iterations {
            try timeline.forEachSession(filter: filter, limit: 100) { session in
                total &+= try session.withTitleUTF8 { $0.count }
                _ = try session.lastActivity
                _ = try session.turnCount
            }
        }
    case "sessions-views-1":
        let filter = SessionFilter(project: "p")
        for _ in 0..<iterations { try timeline.forEachSession(filter: filter, limit: 1) { session in total &+= try session.withTitleUTF8 { $0.count } } }
    case "views-1":
        for _ in 0..<iterations { try timeline.forEachTurn(of: id, reverse: true, limit: 1) { turn in total &+= try turn.withContentUTF8 { $0.count } } }
    case "sessions-records":
        let filter = SessionFilter(project: "p")
        for _ in 0..<iterations { total &+= try timeline.listSessions(filter: filter, limit: 100).items.count }
    case "append":
        // One turn per write transaction, round the project's sessions, as the harness's lone
        // append writes (the store is `.noSync`: the instructions, not the syncs).
        let sessions = listed.map(\.id)
        for index in 0..<iterations {
            let turn = turns[index % turns.count]
            let new = NewTurn(role: turn.role, content: turn.content, inputTokens: turn.inputTokens, outputTokens: turn.outputTokens,
                              cost: turn.cost, toolCalls: turn.toolCalls)
            total &+= try timeline.write { tx in try tx.append(new, to: sessions[index % sessions.count]).sequence }
        }
    default:
        print("unknown mode \(mode): raw, sqlite, views, records, json, sqlite-json, records-json, sessions-raw, sessions-sqlite, sessions-views, sessions-records, views-1, sessions-views-1, append")
        exit(2)
    }
    return total
}

/// How many concurrent appends make a burst: 64, or TIMELINE_INSTRUCTIONS_BURST_SIZE.
let burstSize = max(1, Int(ProcessInfo.processInfo.environment["TIMELINE_INSTRUCTIONS_BURST_SIZE"] ?? "") ?? 64)

/// Appends `count` turns in bursts of `burstSize` concurrent async appends, each a new turn (a turn
/// id of its own) with the content and fields of `turns` in turn, append `index` of burst `round`
/// to session `target(round, index)`.
func bursts(_ count: Int, _ timeline: TimelineStore, _ turns: [NewTurn], _ target: (Int, Int) -> UUID) async throws -> Int {
    var appended = 0
    var times: [UInt64] = []
    defer {
        times.sort()
        if !times.isEmpty {
            print("a burst: p50 \(times[times.count / 2] / 1_000) µs, p90 \(times[times.count * 9 / 10] / 1_000) µs, mean \(times.reduce(0, +) / UInt64(times.count) / 1_000) µs")
        }
    }
    for round in 0..<(count + burstSize - 1) / burstSize {
        let size = min(burstSize, count - round * burstSize)
        let start = DispatchTime.now().uptimeNanoseconds
        defer { times.append(DispatchTime.now().uptimeNanoseconds - start) }
        appended += try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<size {
                let turn = turns[(round * burstSize + index) % turns.count], session = target(round, index)
                group.addTask {
                    let new = NewTurn(role: turn.role, content: turn.content, inputTokens: turn.inputTokens, outputTokens: turn.outputTokens,
                                      cost: turn.cost, toolCalls: turn.toolCalls)
                    _ = try await timeline.append(new, to: session)
                    return 1
                }
            }
            return try await group.reduce(0, +)
        }
    }
    return appended
}

if mode == "burst" {
    // Bursts of `burstSize` concurrent async appends, each to its own session of the project,
    // through the group committer (one write transaction a burst): per append, as `append` (the
    // store is `.noSync` unless TIMELINE_INSTRUCTIONS_DURABILITY says otherwise). With
    // TIMELINE_INSTRUCTIONS_BURST_STORE=PATH, into that store instead (a copy of a timeline-bench
    // store, say), each append to one of its first 10,000 sessions by id, picked at random (read
    // from the `sessions` database, so that a build without the listing indexes can run it too);
    // then it prints appends a second, commits, and the bytes written an append.
    if let other = ProcessInfo.processInfo.environment["TIMELINE_INSTRUCTIONS_BURST_STORE"] {
        let store = try TimelineStore(path: other, configuration: .init(durability: durability))
        let sessionsDB = try store.environment.openDatabase("sessions", create: false)
        let ids: [UUID] = try store.environment.read { txn in
            var ids: [UUID] = []
            try sessionsDB.forEachEntry(.all, reverse: false, in: txn) { entry in
                if ids.count < 10_000, entry.key.count == 16 { ids.append(UUID(uuid: entry.key.loadUnaligned(as: uuid_t.self))) }
            }
            return ids
        }
        let picks = (0..<(iterations + burstSize - 1) / burstSize * burstSize).map { _ in ids.randomElement()! }
        let written = IOCounters.read()?.writeBytes ?? 0
        let start = DispatchTime.now().uptimeNanoseconds, before = try store.environment.info().lastTransactionID
        let appended = try await bursts(iterations, store, turns) { round, index in picks[round * burstSize + index] }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let commits = try store.environment.info().lastTransactionID - before
        print(appended, "appends in \(seconds) s: \(Int(Double(appended) / seconds)) a second, \(commits) commits, \(((IOCounters.read()?.writeBytes ?? 0) - written) / appended) bytes written an append")
        await store.close()
    } else {
        let sessions = listed.map(\.id), before = try timeline.environment.info().lastTransactionID
        let appended = try await bursts(iterations, timeline, turns) { _, index in sessions[index % sessions.count] }
        print(appended, "appends in \(try timeline.environment.info().lastTransactionID - before) commits")
    }
} else {
    print(try run(mode, iterations, session.id))
}
