import BenchFixtures
import Benchmark
import TimelineCBOR
import TimelineDocumentStore
import Foundation
import TimelineLMDB

/// The same 10,000 turns in three stores: a DocumentStore collection (envelope + CBOR), a plain
/// LMDB database holding the identical value bytes (read without decoding: the floor), and a
/// plain LMDB database holding Foundation JSON (what users would otherwise do).
final class RecordFixture: @unchecked Sendable {
    static let shared = RecordFixture()
    static let count = 10_000

    let store: Store
    let turns: DocumentCollection<BenchTurn>
    let fastTurns: DocumentCollection<FastBenchTurn>
    let rawEnvironment: Environment
    let rawCBOR: Database
    let rawJSON: Database
    let keys: [KeyBytes]
    private let lock = NSLock()
    private var next = 1_000_000

    init() {
        let base = NSTemporaryDirectory() + "/timelinestore-records-\(getpid())"
        // Each benchmark runs in a process of its own: remove the stores of processes that ended.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? [] where name.hasPrefix("timelinestore-records-") {
            if let pid = Int32(name.dropFirst("timelinestore-records-".count)), pid != getpid(), kill(pid, 0) != 0 {
                try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "/" + name)
            }
        }
        try? FileManager.default.removeItem(atPath: base)
        do {
            let store = try Store(path: base + "/store", configuration: .init(mapSize: 256 << 20, durability: .noSync))
            let turns = try store.collection("turns", primaryKey: { (turn: BenchTurn) in KeyBytes(turn.sessionID, turn.sequence) })
            // The same database, read through the fast path.
            let fastTurns = try store.collection("turns", primaryKey: { (fast: FastBenchTurn) in KeyBytes(fast.turn.sessionID, fast.turn.sequence) })
            let rawEnvironment = try Environment(path: base + "/raw", configuration: .init(mapSize: 256 << 20, durability: .noSync))
            let rawCBOR = try rawEnvironment.openDatabase("cbor")
            let rawJSON = try rawEnvironment.openDatabase("json")
            var keys: [KeyBytes] = []
            let session = UUID()
            try store.write { txn in
                for sequence in 0..<RecordFixture.count {
                    var turn = BenchTurn.sample
                    turn.sessionID = session
                    turn.sequence = UInt64(sequence)
                    try turns.put(turn, in: txn)
                    keys.append(KeyBytes(session, UInt64(sequence)))
                }
            }
            let stored = try store.read { txn in
                try keys.map { key in Array(try turns.database.get(key.bytes, in: txn) ?? UnsafeRawBufferPointer(start: nil, count: 0)) }
            }
            let encoder = JSONEncoder()
            try rawEnvironment.write { txn in
                for (key, value) in zip(keys, stored) {
                    try rawCBOR.put(value, for: key.bytes, in: txn)
                    var turn = BenchTurn.sample
                    turn.sequence = UInt64(key.bytes.count)
                    try rawJSON.put(Array(try encoder.encode(turn)), for: key.bytes, in: txn)
                }
            }
            self.store = store
            self.turns = turns
            self.fastTurns = fastTurns
            self.rawEnvironment = rawEnvironment
            self.rawCBOR = rawCBOR
            self.rawJSON = rawJSON
            self.keys = keys.shuffled()
        } catch {
            fatalError("record benchmark fixture: \(error)")
        }
    }

    /// A fresh key for the write benchmarks.
    func nextKey() -> KeyBytes {
        lock.withLock {
            next += 1
            return KeyBytes(UUID(), UInt64(next))
        }
    }
}

func recordBenchmarks() {
    let fixture = RecordFixture.shared

    Benchmark("get + decode turn — DocumentStore collection") { benchmark in
        for round in benchmark.scaledIterations {
            let key = fixture.keys[round % fixture.keys.count]
            blackHole(try fixture.store.read { txn in try fixture.turns.get(key, in: txn) })
        }
    }
    Benchmark("get + decode turn — DocumentStore collection, CBORRecordDecodable") { benchmark in
        for round in benchmark.scaledIterations {
            let key = fixture.keys[round % fixture.keys.count]
            blackHole(try fixture.store.read { txn in try fixture.fastTurns.get(key, in: txn) })
        }
    }
    Benchmark("get + view turn, read sequence, role, inputTokens — DocumentStore collection, CBORMapView") { benchmark in
        for round in benchmark.scaledIterations {
            let key = fixture.keys[round % fixture.keys.count]
            blackHole(try fixture.store.read { txn in
                try fixture.fastTurns.withView(key, fields: FastBenchTurn.fields, in: txn) { turn in
                    let sequence = try turn.decode(.sequence, as: UInt64.self) ?? 0
                    let role = try turn.decode(.role, as: String.self) ?? ""
                    let inputTokens = try turn.decode(.inputTokens, as: Int.self) ?? 0
                    return Int(sequence) &+ role.utf8.count &+ inputTokens   // (a tuple would cost a metadata look-up in blackHole)
                }
            })
        }
    }
    Benchmark("get + view turn, read content — DocumentStore collection, CBORMapView") { benchmark in
        for round in benchmark.scaledIterations {
            let key = fixture.keys[round % fixture.keys.count]
            blackHole(try fixture.store.read { txn in
                try fixture.fastTurns.withView(key, fields: FastBenchTurn.fields, in: txn) { turn in try turn.decode(.content, as: String.self) }
            })
        }
    }
    Benchmark("get turn bytes, no decode — raw LMDB") { benchmark in
        for round in benchmark.scaledIterations {
            let key = fixture.keys[round % fixture.keys.count]
            blackHole(try fixture.rawEnvironment.read { txn in try fixture.rawCBOR.get(key.bytes, in: txn)?.count })
        }
    }
    Benchmark("get turn bytes and read each once — raw LMDB") { benchmark in
        // The bytes fetched, as any use of them must: a word-wise sum touches every cache line
        // of the value, which the pointer-only get above never does.
        for round in benchmark.scaledIterations {
            let key = fixture.keys[round % fixture.keys.count]
            blackHole(try fixture.rawEnvironment.read { txn in try fixture.rawCBOR.get(key.bytes, in: txn).map(wordSum) })
        }
    }
    Benchmark("get + JSON decode turn — raw LMDB + JSONDecoder") { benchmark in
        let decoder = JSONDecoder()
        for round in benchmark.scaledIterations {
            let key = fixture.keys[round % fixture.keys.count]
            blackHole(try fixture.rawEnvironment.read { txn in
                try fixture.rawJSON.get(key.bytes, in: txn).map { try decoder.decode(BenchTurn.self, from: Data($0)) }
            })
        }
    }
    Benchmark("encode + put turn (noSync) — DocumentStore collection") { benchmark in
        for _ in benchmark.scaledIterations {
            var turn = BenchTurn.sample
            turn.sessionID = UUID()
            try fixture.store.write { txn in try fixture.turns.put(turn, in: txn) }
        }
    }
    Benchmark("put pre-encoded turn (noSync) — raw LMDB") { benchmark in
        let bytes = (try? CBOREncoder().encode(BenchTurn.sample)) ?? []
        for _ in benchmark.scaledIterations {
            let key = fixture.nextKey()
            try fixture.rawEnvironment.write { txn in try fixture.rawCBOR.put(bytes, for: key.bytes, in: txn) }
        }
    }
    Benchmark("JSON encode + put turn (noSync) — raw LMDB + JSONEncoder") { benchmark in
        let encoder = JSONEncoder()
        for _ in benchmark.scaledIterations {
            let key = fixture.nextKey()
            let bytes = try encoder.encode(BenchTurn.sample)
            try fixture.rawEnvironment.write { txn in try fixture.rawJSON.put(bytes, for: key.bytes, in: txn) }
        }
    }
}

/// The wrapping sum of `bytes` as little-endian words (and the odd bytes at the end).
@inline(never)
func wordSum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var sum: UInt64 = 0
    var offset = 0
    while offset + 8 <= bytes.count {
        sum &+= bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
    }
    while offset < bytes.count {
        sum &+= UInt64(bytes[offset])
        offset += 1
    }
    return sum
}
