// Counts the instructions of one record read, by kind, under callgrind — figures that, unlike
// wall-clock times, do not depend on what else the machine is doing. Run through
// `Benchmarks/instructions.sh`, which subtracts a run of 0 iterations (start-up and fixture).
//
//   RecordInstructions <iterations> <mode>
import BenchFixtures
import TimelineCBOR
import TimelineDocumentStore
import Foundation
import TimelineLMDB

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "0") ?? 0
let mode = CommandLine.arguments.dropFirst(2).first ?? "raw"
let path = NSTemporaryDirectory() + "/timelinestore-instructions-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: path) }

// 1,000 turns of one session, as the collection writes them.
let store = try Store(path: path, configuration: .init(mapSize: 64 << 20, durability: .noSync))
let fast = try store.collection("turns", primaryKey: { (turn: FastBenchTurn) in KeyBytes(turn.turn.sessionID, turn.turn.sequence) })
let plain = try store.collection("turns", primaryKey: { (turn: BenchTurn) in KeyBytes(turn.sessionID, turn.sequence) })
let session = UUID()
var keys: [KeyBytes] = []
try store.write { txn in
    for sequence in 0..<1_000 {
        var turn = BenchTurn.sample
        turn.sessionID = session
        turn.sequence = UInt64(sequence)
        try plain.put(turn, in: txn)
        keys.append(KeyBytes(session, UInt64(sequence)))
    }
}

@inline(never) func consume<T>(_ value: T) -> T { value }

/// Runs `mode`. A function, not top-level code: globals are checked for exclusive access at run
/// time on every use, which would add a few hundred instructions to every read measured.
func run(_ mode: String, _ iterations: Int, store: Store, fast: DocumentCollection<FastBenchTurn>,
         plain: DocumentCollection<BenchTurn>, keys: [KeyBytes]) throws -> Int {
    var total = 0
    switch mode {
    case "raw":                 // LMDB's get of the stored bytes, nothing decoded
        for round in 0..<iterations {
            total &+= try store.read { txn in try fast.database.get(keys[round % keys.count].bytes, in: txn)?.count ?? 0 }
        }
    case "get":                 // a collection get, decoded through the record's fast path
        for round in 0..<iterations {
            total &+= Int(try store.read { txn in try fast.get(keys[round % keys.count], in: txn) }?.turn.sequence ?? 0)
        }
    case "get-decodable":       // the same through `Decodable`
        for round in 0..<iterations {
            total &+= Int(try store.read { txn in try plain.get(keys[round % keys.count], in: txn) }?.sequence ?? 0)
        }
    case "view-open":           // a collection get that opens a view and reads nothing
        for round in 0..<iterations {
            total &+= try store.read { txn in try fast.withView(keys[round % keys.count], fields: FastBenchTurn.fields, in: txn) { _ in 1 } } ?? 0
        }
    case "view-3":              // … and reads three fields
        for round in 0..<iterations {
            total &+= try store.read { txn in
                try fast.withView(keys[round % keys.count], fields: FastBenchTurn.fields, in: txn) { turn in
                    let sequence = try turn.decode(.sequence, as: UInt64.self) ?? 0
                    let role = try turn.decode(.role, as: String.self) ?? ""
                    let inputTokens = try turn.decode(.inputTokens, as: Int.self) ?? 0
                    return Int(sequence) &+ role.utf8.count &+ inputTokens
                }
            } ?? 0
        }
    case "decode":              // the fast-path decode alone, from bytes in memory
        let bytes = try CBOREncoder().encode(BenchTurn.sample)
        for _ in 0..<iterations { total &+= Int(try CBORDecoder().decode(FastBenchTurn.self, from: bytes).turn.sequence) }
    case "floor":               // no decoding at all: only building the turn's Swift values and freeing them
        let sample = BenchTurn.sample
        let content = Array(sample.content.utf8), role = Array(sample.role.utf8)
        let pairs = sample.metadata.map { (Array($0.key.utf8), Array($0.value.utf8)) }
        for round in 0..<iterations {
            var metadata = [String: String](minimumCapacity: pairs.count)
            for (key, value) in pairs { metadata[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self) }
            let turn = BenchTurn(
                id: UUID(uuid: sample.id.uuid), sessionID: UUID(uuid: sample.sessionID.uuid), sequence: UInt64(round),
                role: String(decoding: role, as: UTF8.self), content: String(decoding: content, as: UTF8.self),
                created: Date(timeIntervalSince1970: Double(round)), durationMs: 812.5, inputTokens: round, outputTokens: 3, metadata: metadata)
            total &+= Int(consume(turn).sequence)
        }
    default:
        print("unknown mode \(mode): raw, get, get-decodable, view-open, view-3, decode, floor")
        exit(2)
    }
    return total
}

print(try run(mode, iterations, store: store, fast: fast, plain: plain, keys: keys))
