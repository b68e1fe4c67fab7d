import CLMDBBaseline
import Foundation

/// The limit: raw LMDB through its C API, durable (fsync at every commit), with TimelineStore's
/// key layout but no record format — a turn's value is its content bytes behind a 16-byte header
/// of fixed fields, a session's is 64 fixed bytes and its title — and no checks beyond LMDB's.
/// Nothing can be faster on LMDB; the gap to it is what TimelineStore's records, validation and
/// API cost.
/// `@unchecked Sendable`: LMDB serializes the writers; each transaction stays on its thread.
final class RawLMDBBackend: Backend, @unchecked Sendable {
    let name = "raw LMDB (limit)"
    let directory: String
    private var env: OpaquePointer?
    private var sessions: MDB_dbi = 0, turns: MDB_dbi = 0, byProject: MDB_dbi = 0, byActivity: MDB_dbi = 0

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try open()
    }

    private func check(_ rc: Int32, _ what: @autoclosure () -> String) throws {
        if rc != 0 { throw Failure(description: "\(what()): \(String(cString: mdb_strerror(rc)))") }
    }

    private func open() throws {
        try check(mdb_env_create(&env), "create")
        mdb_env_set_maxdbs(env, 8)
        mdb_env_set_mapsize(env, 1 << 40)
        try check(mdb_env_open(env, directory, UInt32(MDB_NOTLS), 0o600), "open \(directory)")
        try write { txn in
            for (name, dbi) in [("sessions", \RawLMDBBackend.sessions), ("turns", \.turns), ("project", \.byProject), ("activity", \.byActivity)] {
                var handle: MDB_dbi = 0
                try check(mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &handle), "open \(name)")
                self[keyPath: dbi] = handle
            }
        }
    }

    private func transaction<T>(readOnly: Bool, _ body: (OpaquePointer) throws -> T) throws -> T {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn), "begin")
        guard let txn else { throw Failure(description: "no transaction") }
        do {
            let result = try body(txn)
            if readOnly { mdb_txn_abort(txn) } else { try check(mdb_txn_commit(txn), "commit") }
            return result
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
    }

    private func write<T>(_ body: (OpaquePointer) throws -> T) throws -> T { try transaction(readOnly: false, body) }
    private func read<T>(_ body: (OpaquePointer) throws -> T) throws -> T { try transaction(readOnly: true, body) }

    private func put(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8]) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in
                var keyValue = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
                var dataValue = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress ?? UnsafeRawPointer(k.baseAddress!)))
                try check(mdb_put(txn, dbi, &keyValue, &dataValue, 0), "put")
            }
        }
    }

    private func get(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8]) throws -> UnsafeRawBufferPointer? {
        try key.withUnsafeBytes { k in
            var keyValue = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var value = MDB_val()
            let rc = mdb_get(txn, dbi, &keyValue, &value)
            if rc == MDB_NOTFOUND { return nil }
            try check(rc, "get")
            return UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
        }
    }

    private func delete(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8]) throws {
        try key.withUnsafeBytes { k in
            var keyValue = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            let rc = mdb_del(txn, dbi, &keyValue, nil)
            if rc != MDB_NOTFOUND { try check(rc, "delete") }
        }
    }

    // MARK: Layout

    static func bytes(_ id: UUID) -> [UInt8] { withUnsafeBytes(of: id.uuid) { Array($0) } }
    static func bigEndian(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
    static func turnKey(_ id: UUID, _ sequence: Int) -> [UInt8] { bytes(id) + bigEndian(UInt64(sequence)) }

    /// A session's value: turn count, branch point, last activity (µs), parent (16 bytes, zero for
    /// none), token and cost totals, then the project (length-prefixed) and the title.
    struct SessionValue {
        var turnCount: Int, branchPoint: Int, activity: Int, parent: UUID?, inputTokens: Int, cost: Double, project: String, title: String

        var encoded: [UInt8] {
            var out: [UInt8] = []
            for number in [turnCount, branchPoint, activity, inputTokens] { withUnsafeBytes(of: UInt64(number)) { out += $0 } }
            withUnsafeBytes(of: cost) { out += $0 }
            out += parent.map(RawLMDBBackend.bytes) ?? [UInt8](repeating: 0, count: 16)
            out += [UInt8(project.utf8.count)] + Array(project.utf8) + Array(title.utf8)
            return out
        }

        init(turnCount: Int, branchPoint: Int, activity: Int, parent: UUID?, inputTokens: Int, cost: Double, project: String, title: String) {
            (self.turnCount, self.branchPoint, self.activity, self.parent) = (turnCount, branchPoint, activity, parent)
            (self.inputTokens, self.cost, self.project, self.title) = (inputTokens, cost, project, title)
        }

        init(_ raw: UnsafeRawBufferPointer) {
            func word(_ at: Int) -> Int { Int(raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            (turnCount, branchPoint, activity, inputTokens) = (word(0), word(8), word(16), word(24))
            cost = raw.loadUnaligned(fromByteOffset: 32, as: Double.self)
            let parentBytes = Array(raw[40..<56])
            parent = parentBytes.allSatisfy { $0 == 0 } ? nil : UUID(uuid: parentBytes.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) })
            let projectLength = Int(raw[56])
            project = String(decoding: raw[57..<57 + projectLength], as: UTF8.self)
            title = String(decoding: raw[(57 + projectLength)...], as: UTF8.self)
        }
    }

    static func projectKey(_ session: SessionValue, _ id: UUID) -> [UInt8] {
        Array(session.project.utf8) + [0] + bigEndian(~UInt64(session.activity)) + bytes(id)
    }
    static func activityKey(_ session: SessionValue, _ id: UUID) -> [UInt8] { bigEndian(~UInt64(session.activity)) + bytes(id) }

    /// A turn's value: created (µs), input and output tokens (u32 each), then the content.
    static func turnValue(_ turn: TurnData) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(SQLiteBackend.micros(turn.created))) { out += $0 }
        withUnsafeBytes(of: UInt32(clamping: turn.inputTokens)) { out += $0 }
        withUnsafeBytes(of: UInt32(clamping: turn.outputTokens)) { out += $0 }
        return out + Array(turn.content.utf8)
    }

    private func putSession(_ txn: OpaquePointer, _ id: UUID, _ value: SessionValue, replacing old: SessionValue?) throws {
        if let old {
            try delete(txn, byProject, Self.projectKey(old, id))
            try delete(txn, byActivity, Self.activityKey(old, id))
        }
        try put(txn, sessions, Self.bytes(id), value.encoded)
        try put(txn, byProject, Self.projectKey(value, id), [])
        try put(txn, byActivity, Self.activityKey(value, id), [])
    }

    private func appendTurns(_ txn: OpaquePointer, _ turns: [TurnData], to id: UUID) throws {
        guard let raw = try get(txn, sessions, Self.bytes(id)) else { throw Failure(description: "no session \(id)") }
        let old = SessionValue(raw)
        var new = old
        for turn in turns {
            try put(txn, self.turns, Self.turnKey(id, new.turnCount), Self.turnValue(turn))
            new.turnCount += 1
            new.inputTokens += turn.inputTokens
            new.cost += turn.cost
        }
        // Activity is the time of the append, as TimelineStore keeps it: every backend lists in the same order.
        new.activity = max(old.activity, SQLiteBackend.micros(Date()))
        try putSession(txn, id, new, replacing: old)
    }

    // MARK: Backend

    func settings() throws -> [String: String] {
        var flags: UInt32 = 0
        mdb_env_get_flags(env, &flags)
        let durability = flags & UInt32(MDB_NOSYNC) != 0 ? "noSync" : flags & UInt32(MDB_NOMETASYNC) != 0 ? "noMetaSync" : "durable"
        return ["engine": String(cString: mdb_version(nil, nil, nil)), "durability": durability]
    }

    func load(_ fixture: Fixture) throws {
        for (index, session) in fixture.sessions.enumerated() {
            let created = SQLiteBackend.micros(Fixture.epoch.addingTimeInterval(Double(index * 100)))
            try write { txn in
                // A fork's activity is the time it was made, as in TimelineStore.
                let activity = session.parent == nil ? created : SQLiteBackend.micros(Date())
                let value = SessionValue(turnCount: session.branchPoint, branchPoint: session.branchPoint, activity: activity,
                                         parent: session.parent.map { fixture.sessions[$0].id }, inputTokens: 0, cost: 0,
                                         project: session.project, title: session.title)
                try putSession(txn, session.id, value, replacing: nil)
            }
            var sequence = 0
            while sequence < session.ownTurns {
                let count = min(5_000, session.ownTurns - sequence)
                let turns = (sequence..<sequence + count).map { fixture.turn(session: index, sequence: session.branchPoint + $0) }
                try write { txn in try appendTurns(txn, turns, to: session.id) }
                sequence += count
            }
        }
    }

    func append(_ turn: TurnData, to session: UUID) throws {
        try write { txn in try appendTurns(txn, [turn], to: session) }
    }

    func appendConcurrently(_ jobs: [(UUID, TurnData)]) async throws {
        // One thread per writer, each with its own durable transaction: LMDB serializes them.
        let group = DispatchGroup()
        let failures = FailureBox()
        for (session, turn) in jobs {
            group.enter()
            Thread.detachNewThread {
                do { try self.append(turn, to: session) } catch { failures.record(error) }
                group.leave()
            }
        }
        await withCheckedContinuation { continuation in group.notify(queue: .global()) { continuation.resume() } }
        if let error = failures.first { throw error }
    }

    private func segments(_ txn: OpaquePointer, of id: UUID) throws -> [(UUID, Int, Int)] {
        try lineage(of: id) { current in
            guard let raw = try get(txn, sessions, Self.bytes(current)) else { throw Failure(description: "no session \(current)") }
            let session = SessionValue(raw)
            return (session.parent, session.branchPoint, session.turnCount)
        }
    }

    private func readTurns(of id: UUID, limit: Int, descending: Bool) throws -> Int {
        try read { txn in
            var cursor: OpaquePointer?
            try check(mdb_cursor_open(txn, turns, &cursor), "cursor")
            defer { mdb_cursor_close(cursor) }
            var bytes = 0, read = 0
            let parts = try segments(txn, of: id)
            for (session, start, end) in descending ? parts.reversed() : parts where read < limit {
                var first = Self.turnKey(session, descending ? end - 1 : start)
                try first.withUnsafeMutableBytes { k in
                    var key = MDB_val(mv_size: k.count, mv_data: k.baseAddress!), value = MDB_val()
                    var rc = mdb_cursor_get(cursor, &key, &value, MDB_SET)
                    var remaining = min(end - start, limit - read)
                    while rc == 0 && remaining > 0 {
                        bytes += value.mv_size - 16
                        read += 1
                        remaining -= 1
                        rc = mdb_cursor_get(cursor, &key, &value, descending ? MDB_PREV : MDB_NEXT)
                    }
                    if rc != 0 && rc != MDB_NOTFOUND { try check(rc, "scan") }
                }
            }
            return bytes
        }
    }

    func latestTurns(of session: UUID, limit: Int) throws -> Int { try readTurns(of: session, limit: limit, descending: true) }

    static let hexDigits = Array("0123456789abcdef".utf8)

    /// The limit for JSON: each turn's fixed fields as numbers and its content escaped by a plain
    /// loop over its bytes, runs copied whole (the content is the fixture's, known to be UTF-8:
    /// nothing is checked).
    func latestTurnsJSON(of id: UUID, limit: Int) throws -> Int {
        try read { txn in
            var cursor: OpaquePointer?
            try check(mdb_cursor_open(txn, turns, &cursor), "cursor")
            defer { mdb_cursor_close(cursor) }
            var json: [UInt8] = [UInt8(ascii: "[")]
            var read = 0
            for (session, start, end) in try segments(txn, of: id).reversed() where read < limit {
                var first = Self.turnKey(session, end - 1)
                try first.withUnsafeMutableBytes { k in
                    var key = MDB_val(mv_size: k.count, mv_data: k.baseAddress!), value = MDB_val()
                    var rc = mdb_cursor_get(cursor, &key, &value, MDB_SET)
                    var sequence = end - 1
                    while rc == 0 && sequence >= start && read < limit {
                        let fields = UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
                        if read > 0 { json.append(UInt8(ascii: ",")) }
                        json.append(contentsOf: #"{"sequence":\#(sequence),"created":\#(fields.loadUnaligned(as: UInt64.self)),"inputTokens":\#(fields.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),"outputTokens":\#(fields.loadUnaligned(fromByteOffset: 12, as: UInt32.self)),"content":""#.utf8)
                        // Runs that need no escape are copied whole; a byte at a time, only the check.
                        json.reserveCapacity(json.count + fields.count + 128)
                        var run = 16
                        for index in 16..<fields.count {
                            let byte = fields[index]
                            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") { continue }
                            json.append(contentsOf: fields[run..<index])
                            switch byte {
                            case 0x0A: json.append(contentsOf: "\\n".utf8)
                            case ..<0x20: json.append(contentsOf: "\\u00".utf8); json.append(Self.hexDigits[Int(byte >> 4)]); json.append(Self.hexDigits[Int(byte & 15)])
                            default: json.append(UInt8(ascii: "\\")); json.append(byte)
                            }
                            run = index + 1
                        }
                        json.append(contentsOf: fields[run...])
                        json.append(contentsOf: #""}"#.utf8)
                        read += 1
                        sequence -= 1
                        rc = mdb_cursor_get(cursor, &key, &value, MDB_PREV)
                    }
                    if rc != 0 && rc != MDB_NOTFOUND { try check(rc, "scan") }
                }
            }
            json.append(UInt8(ascii: "]"))
            return read
        }
    }

    func history(of session: UUID) throws -> Int { try readTurns(of: session, limit: .max, descending: false) }

    func recentSessions(project: String, limit: Int, after cursor: Any?) throws -> (bytes: Int, next: Any?) {
        try read { txn in
            var handle: OpaquePointer?
            try check(mdb_cursor_open(txn, byProject, &handle), "cursor")
            defer { mdb_cursor_close(handle) }
            let prefix = Array(project.utf8) + [0]
            var start = (cursor as? [UInt8]) ?? prefix
            var bytes = 0, count = 0
            var last: [UInt8]?
            try start.withUnsafeMutableBytes { k in
                var key = MDB_val(mv_size: k.count, mv_data: k.baseAddress!), value = MDB_val()
                var rc = mdb_cursor_get(handle, &key, &value, MDB_SET_RANGE)
                if rc == 0, cursor != nil, key.mv_size == k.count, memcmp(key.mv_data!, k.baseAddress!, k.count) == 0 {
                    rc = mdb_cursor_get(handle, &key, &value, MDB_NEXT)
                }
                while rc == 0 && count < limit {
                    let entry = UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size)
                    guard entry.starts(with: prefix) else { break }
                    let id = Array(entry.suffix(16))
                    if let raw = try get(txn, sessions, id) { bytes += SessionValue(raw).title.utf8.count }
                    last = Array(entry)
                    count += 1
                    rc = mdb_cursor_get(handle, &key, &value, MDB_NEXT)
                }
            }
            return (bytes, count == limit ? last : nil)
        }
    }

    func turn(of session: UUID, sequence: Int) throws -> Int {
        try read { txn in
            guard let value = try get(txn, turns, Self.turnKey(session, sequence)) else { throw Failure(description: "no turn \(sequence)") }
            return value.count - 16
        }
    }

    func fork(_ session: UUID, at point: Int) throws -> UUID {
        let id = UUID()
        try write { txn in
            guard let raw = try get(txn, sessions, Self.bytes(session)) else { throw Failure(description: "no session \(session)") }
            let parent = SessionValue(raw)
            guard point <= parent.turnCount else { throw Failure(description: "fork point past the end") }
            let fork = SessionValue(turnCount: point, branchPoint: point, activity: SQLiteBackend.micros(Date()), parent: session,
                                    inputTokens: 0, cost: 0, project: parent.project, title: parent.title)
            try putSession(txn, id, fork, replacing: nil)
        }
        return id
    }

    func delete(_ session: UUID) throws {
        try write { txn in
            guard let raw = try get(txn, sessions, Self.bytes(session)) else { throw Failure(description: "no session \(session)") }
            let value = SessionValue(raw)
            for sequence in value.branchPoint..<value.turnCount { try delete(txn, turns, Self.turnKey(session, sequence)) }
            try delete(txn, byProject, Self.projectKey(value, session))
            try delete(txn, byActivity, Self.activityKey(value, session))
            try delete(txn, sessions, Self.bytes(session))
        }
    }

    func makeSession(turns: [TurnData]) throws -> UUID {
        let id = UUID()
        try write { txn in
            try putSession(txn, id, SessionValue(turnCount: 0, branchPoint: 0, activity: SQLiteBackend.micros(Date()), parent: nil,
                                                 inputTokens: 0, cost: 0, project: "scratch", title: "to delete"), replacing: nil)
            try appendTurns(txn, turns, to: id)
        }
        return id
    }

    func reopenAndList() async throws -> Int {
        try await close()
        try open()
        return try read { txn in
            var handle: OpaquePointer?
            try check(mdb_cursor_open(txn, byActivity, &handle), "cursor")
            defer { mdb_cursor_close(handle) }
            var key = MDB_val(), value = MDB_val(), count = 0
            var rc = mdb_cursor_get(handle, &key, &value, MDB_FIRST)
            while rc == 0 && count < 20 {
                let id = Array(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size).suffix(16))
                if try get(txn, sessions, id) != nil { count += 1 }
                rc = mdb_cursor_get(handle, &key, &value, MDB_NEXT)
            }
            return count
        }
    }

    func commits() throws -> Int {
        var info = MDB_envinfo()
        try check(mdb_env_info(env, &info), "info")
        return info.me_last_txnid
    }

    func diskBytes() throws -> Int { directoryBytes(directory) }

    func close() async throws {
        if let env { mdb_env_close(env) }
        env = nil
    }
}

/// The first error of several threads.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var first: (any Error)?
    func record(_ error: any Error) { lock.withLock { if first == nil { first = error } } }
}
