// Counts the instructions of loading a session's latest 100 turns, by way of reading, under
// callgrind — steadier than wall time on a shared machine. Run through
// `Benchmarks/instructions.sh timeline`, which subtracts a run of 0 iterations.
//
//   TimelineInstructions <iterations> <mode>
//     raw           LMDB alone: one read transaction, a cursor over the same 100 stored values
//     records       turns(of:reverse:limit:) — 100 `Turn` values
//     json          turnsJSON(of:reverse:limit:) — one JSON array, transcoded from the records
//     records-json  turns(of:…) and then JSONEncoder: what a service does without turnsJSON
import Foundation
import Timeline
import TimelineLMDB

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "0") ?? 0
let mode = CommandLine.arguments.dropFirst(2).first ?? "raw"
let path = NSTemporaryDirectory() + "/timelinestore-timeline-instructions-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: path) }

// One session of 1,000 turns shaped like timeline-bench's: 600 bytes of text, token counts, a
// cost, and a tool call on every fourth turn.
let timeline = try TimelineStore(path: path, configuration: .init(mapSize: 64 << 20, durability: .noSync))
let session = try timeline.write { tx in try tx.createSession(NewSession(title: "instructions", project: "p")) }
try timeline.write { tx in
    let turns = (0..<1_000).map { index in
        NewTurn(role: index % 2 == 0 ? .user : .assistant, content: String(repeating: "word \(index % 10) ", count: 80),
                inputTokens: 120, outputTokens: 340, cost: 0.0021,
                toolCalls: index % 4 == 0 ? [Turn.ToolCall(id: "c\(index)", name: "search", arguments: #"{"q":"lisbon"}"#, result: "ok")] : [])
    }
    _ = try tx.append(turns, to: session.id)
}
let turnsDatabase = try timeline.environment.openDatabase("turns", create: false)
var sessionKey = withUnsafeBytes(of: session.id.uuid) { Array($0) }
let first = sessionKey + withUnsafeBytes(of: UInt64(900).bigEndian) { Array($0) }
let end = sessionKey + withUnsafeBytes(of: UInt64(1_000).bigEndian) { Array($0) }

/// Runs `mode`; a function, so that its loop state is not in globals (checked on every use).
func run(_ mode: String, _ iterations: Int, _ timeline: TimelineStore, _ id: UUID, _ database: Database, _ range: KeyRange) throws -> Int {
    var total = 0
    switch mode {
    case "raw":
        for _ in 0..<iterations {
            total &+= try timeline.environment.read { txn in
                var bytes = 0
                try database.forEachEntry(range, reverse: true, in: txn) { bytes &+= $0.value.count }
                return bytes
            }
        }
    case "records":
        for _ in 0..<iterations { total &+= try timeline.turns(of: id, reverse: true, limit: 100).items.count }
    case "json":
        for _ in 0..<iterations { total &+= try timeline.turnsJSON(of: id, reverse: true, limit: 100).json.count }
    case "records-json":
        let encoder = JSONEncoder()
        for _ in 0..<iterations { total &+= try encoder.encode(timeline.turns(of: id, reverse: true, limit: 100).items).count }
    default:
        print("unknown mode \(mode): raw, records, json, records-json")
        exit(2)
    }
    return total
}

print(try run(mode, iterations, timeline, session.id, turnsDatabase, .halfOpen(first, end)))
