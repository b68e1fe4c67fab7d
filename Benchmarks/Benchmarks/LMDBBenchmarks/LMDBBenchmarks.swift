// What the Swift LMDB layer costs over the C calls it makes: the same operations on two stores
// holding identical data, one through `LMDB` (Environment/Database/Cursor), one through the C API
// directly. Keys look like turn keys (16-byte session id ‖ big-endian sequence), values are 300
// bytes. Run:  cd Benchmarks && swift package benchmark --target LMDBBenchmarks
import Benchmark
import CLMDBBaseline
import Foundation
import TimelineLMDB

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )
    let fixture = Fixture.shared

    // One read transaction, 100 random point reads, each value's bytes touched.
    Benchmark("get ×100 in a read txn — LMDB layer") { benchmark in
        for round in benchmark.scaledIterations {
            let sum = try fixture.wrapped.read { txn in
                var sum = 0
                for i in 0..<100 {
                    let key = fixture.keys[fixture.order[(round &* 100 &+ i) % fixture.order.count]]
                    if let value = try fixture.wrappedDB.get(key, in: txn) { sum &+= Int(value[0]) &+ value.count }
                }
                return sum
            }
            blackHole(sum)
        }
    }
    Benchmark("get ×100 in a read txn — raw C") { benchmark in
        for round in benchmark.scaledIterations {
            var txn: OpaquePointer?
            mdb_txn_begin(fixture.raw, nil, UInt32(MDB_RDONLY), &txn)
            var sum = 0
            for i in 0..<100 {
                fixture.keys[fixture.order[(round &* 100 &+ i) % fixture.order.count]].withUnsafeBytes { key in
                    var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
                    var v = MDB_val()
                    if mdb_get(txn, fixture.rawDBI, &k, &v) == 0 {
                        sum &+= Int(v.mv_data.load(as: UInt8.self)) &+ v.mv_size
                    }
                }
            }
            mdb_txn_abort(txn)
            blackHole(sum)
        }
    }

    // A read transaction with a single get: the per-transaction overhead shows here.
    Benchmark("read txn + 1 get — LMDB layer") { benchmark in
        for round in benchmark.scaledIterations {
            let key = fixture.keys[fixture.order[round % fixture.order.count]]
            let size = try fixture.wrapped.read { txn in try fixture.wrappedDB.get(key, in: txn)?.count ?? 0 }
            blackHole(size)
        }
    }
    Benchmark("read txn + 1 get — raw C") { benchmark in
        for round in benchmark.scaledIterations {
            var txn: OpaquePointer?
            mdb_txn_begin(fixture.raw, nil, UInt32(MDB_RDONLY), &txn)
            let size = fixture.keys[fixture.order[round % fixture.order.count]].withUnsafeBytes { key in
                var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
                var v = MDB_val()
                return mdb_get(txn, fixture.rawDBI, &k, &v) == 0 ? v.mv_size : 0
            }
            mdb_txn_abort(txn)
            blackHole(size)
        }
    }

    // Scan one session's 100 turns with a prefix range.
    Benchmark("scan 100 turns by prefix — LMDB layer") { benchmark in
        for round in benchmark.scaledIterations {
            let prefix = fixture.sessions[round % fixture.sessions.count]
            let total = try fixture.wrapped.read { txn in
                try fixture.wrappedDB.withCursor(in: txn) { cursor in
                    var entries = cursor.entries(in: .prefix(prefix))
                    var total = 0
                    while let entry = try entries.next() { total &+= entry.value.count }
                    return total
                }
            }
            blackHole(total)
        }
    }
    Benchmark("scan 100 turns by prefix — raw C") { benchmark in
        for round in benchmark.scaledIterations {
            var txn: OpaquePointer?, cursor: OpaquePointer?
            mdb_txn_begin(fixture.raw, nil, UInt32(MDB_RDONLY), &txn)
            mdb_cursor_open(txn, fixture.rawDBI, &cursor)
            var total = 0
            fixture.sessions[round % fixture.sessions.count].withUnsafeBytes { prefix in
                var k = MDB_val(mv_size: prefix.count, mv_data: UnsafeMutableRawPointer(mutating: prefix.baseAddress))
                var v = MDB_val()
                var rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
                while rc == 0, k.mv_size >= prefix.count, memcmp(k.mv_data, prefix.baseAddress!, prefix.count) == 0 {
                    total &+= v.mv_size
                    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
                }
            }
            mdb_cursor_close(cursor)
            mdb_txn_abort(txn)
            blackHole(total)
        }
    }

    // One write transaction per put, not synced (so the comparison is of CPU, not of fsync).
    Benchmark("write txn + 1 put (noSync) — LMDB layer") { benchmark in
        for _ in benchmark.scaledIterations {
            let key = fixture.nextWrappedKey()
            try fixture.wrapped.write { txn in try fixture.wrappedDB.put(fixture.value, for: key, in: txn) }
        }
    }
    Benchmark("write txn + 1 put (noSync) — raw C") { benchmark in
        for _ in benchmark.scaledIterations {
            let key = fixture.nextRawKey()
            var txn: OpaquePointer?
            mdb_txn_begin(fixture.raw, nil, 0, &txn)
            key.withUnsafeBytes { k in
                fixture.value.withUnsafeBytes { v in
                    var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
                    var vv = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
                    _ = mdb_put(txn, fixture.rawDBI, &kv, &vv, 0)
                }
            }
            mdb_txn_commit(txn)
        }
    }
}

/// Two stores with the same 100,000 turn-shaped entries: one opened through the LMDB layer, one
/// through the C API (LMDB forbids opening one store twice in a process).
final class Fixture: @unchecked Sendable {
    static let shared = Fixture()
    static let sessionCount = 1_000
    static let turnsPerSession = 100

    let wrapped: Environment
    let wrappedDB: Database
    let raw: OpaquePointer
    let rawDBI: MDB_dbi
    let sessions: [[UInt8]]
    let keys: [[UInt8]]
    let order: [Int]
    let value = [UInt8](repeating: 0x61, count: 300)
    private let lock = NSLock()
    private var wrappedNext = 0
    private var rawNext = 0

    init() {
        var random = SystemRandomNumberGenerator()
        let sessions = (0..<Fixture.sessionCount).map { _ in (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) } }
        let keys = sessions.flatMap { session in
            (0..<Fixture.turnsPerSession).map { session + withUnsafeBytes(of: UInt64($0).bigEndian) { Array($0) } }
        }
        let sortedKeys = keys.sorted(by: { $0.lexicographicallyPrecedes($1) })
        let value = self.value
        self.sessions = sessions
        self.keys = keys
        order = keys.indices.shuffled()
        let base = NSTemporaryDirectory() + "/timelinestore-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: base)
        do {
            let env = try Environment(path: base + "/wrapped", configuration: .init(mapSize: 1 << 30, durability: .noSync))
            let db = try env.openDatabase("turns")
            try env.write { txn in
                for key in sortedKeys { try db.put(value, for: key, flags: .append, in: txn) }
            }
            wrapped = env
            wrappedDB = db
        } catch {
            fatalError("benchmark fixture: \(error)")
        }
        var env: OpaquePointer?
        mdb_env_create(&env)
        mdb_env_set_maxdbs(env, 4)
        mdb_env_set_mapsize(env, 1 << 30)
        try? FileManager.default.createDirectory(atPath: base + "/raw", withIntermediateDirectories: true)
        guard mdb_env_open(env, base + "/raw", UInt32(MDB_NOTLS | MDB_NOSYNC), 0o600) == 0, let env else {
            fatalError("benchmark fixture: cannot open the raw store")
        }
        raw = env
        var txn: OpaquePointer?
        var dbi: MDB_dbi = 0
        mdb_txn_begin(env, nil, 0, &txn)
        mdb_dbi_open(txn, "turns", UInt32(MDB_CREATE), &dbi)
        for key in sortedKeys {
            key.withUnsafeBytes { k in
                value.withUnsafeBytes { v in
                    var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
                    var vv = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
                    _ = mdb_put(txn, dbi, &kv, &vv, UInt32(MDB_APPEND))
                }
            }
        }
        mdb_txn_commit(txn)
        rawDBI = dbi
    }

    /// A key after every existing one, for the write benchmarks of the LMDB layer.
    func nextWrappedKey() -> [UInt8] {
        lock.withLock {
            wrappedNext += 1
            return [0xFF] + withUnsafeBytes(of: UInt64(wrappedNext).bigEndian) { Array($0) }
        }
    }

    /// A key after every existing one, for the raw write benchmarks.
    func nextRawKey() -> [UInt8] {
        lock.withLock {
            rawNext += 1
            return [0xFF] + withUnsafeBytes(of: UInt64(rawNext).bigEndian) { Array($0) }
        }
    }
}
