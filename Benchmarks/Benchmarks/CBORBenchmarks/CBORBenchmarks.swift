// CBOR against Foundation's JSON coders, on a realistic 10-field turn (about 300 bytes of text,
// dates, optionals, a small dictionary); and the same turn stored and read through a
// DocumentStore collection against raw LMDB (RecordBenchmarks.swift). Run:
//   cd Benchmarks && swift package benchmark --target CBORBenchmarks
import Benchmark
import CBOR
import Foundation

/// A realistic turn record: what TimelineStore keeps for every message of a conversation.
struct BenchTurn: Codable, Equatable {
    var id: UUID
    var sessionID: UUID
    var sequence: UInt64
    var role: String
    var content: String
    var created: Date
    var durationMs: Double?
    var inputTokens: Int
    var outputTokens: Int?
    var metadata: [String: String]

    static let sample = BenchTurn(
        id: UUID(), sessionID: UUID(), sequence: 4_711, role: "assistant",
        content: String(repeating: "The migration plan keeps every record readable while it runs. ", count: 5),
        created: Date(timeIntervalSince1970: 1_763_000_000.25), durationMs: 812.5,
        inputTokens: 1_523, outputTokens: 377,
        metadata: ["model": "gpt-x", "provider": "local", "temperature": "0.2"]
    )
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 100,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 10_000_000
    )
    let turn = BenchTurn.sample
    let cborBytes = (try? CBOREncoder().encode(turn)) ?? []
    let jsonBytes = (try? JSONEncoder().encode(turn)) ?? Data()

    Benchmark("encode turn — CBOR") { benchmark in
        let encoder = CBOREncoder()
        for _ in benchmark.scaledIterations { blackHole(try encoder.encode(turn)) }
    }
    Benchmark("encode turn — Foundation JSON") { benchmark in
        let encoder = JSONEncoder()
        for _ in benchmark.scaledIterations { blackHole(try encoder.encode(turn)) }
    }
    Benchmark("decode turn — CBOR") { benchmark in
        let decoder = CBORDecoder()
        for _ in benchmark.scaledIterations { blackHole(try decoder.decode(BenchTurn.self, from: cborBytes)) }
    }
    Benchmark("decode turn — CBOR fast path (CBORRecordDecodable)") { benchmark in
        let decoder = CBORDecoder()
        for _ in benchmark.scaledIterations { blackHole(try decoder.decode(FastBenchTurn.self, from: cborBytes)) }
    }
    Benchmark("decode turn — Foundation JSON") { benchmark in
        let decoder = JSONDecoder()
        for _ in benchmark.scaledIterations { blackHole(try decoder.decode(BenchTurn.self, from: jsonBytes)) }
    }
    recordBenchmarks()
}

/// The fast path: the turn read straight from CBOR (what the timeline's own records will do).
struct FastBenchTurn: Codable, Equatable, CBORRecordDecodable {
    var turn: BenchTurn

    init(_ turn: BenchTurn) { self.turn = turn }

    func encode(to encoder: any Encoder) throws { try turn.encode(to: encoder) }
    init(from decoder: any Decoder) throws { turn = try BenchTurn(from: decoder) }

    enum Field: String, CodingKey, CaseIterable {
        case id, sessionID, sequence, role, content, created, durationMs, inputTokens, outputTokens, metadata
    }
    static let fields = CBORFields<Field>()

    init(cbor reader: inout CBORItemReader) throws {
        var id: UUID?, sessionID: UUID?, sequence: UInt64?, role: String?, content: String?, created: Date?
        var durationMs: Double?, inputTokens: Int?, outputTokens: Int?, metadata: [String: String]?
        try reader.readMap(Self.fields) { field, value in
            switch field {
            case .id: id = try value.decode(UUID.self)
            case .sessionID: sessionID = try value.decode(UUID.self)
            case .sequence: sequence = try value.decode(UInt64.self)
            case .role: role = try value.decode(String.self)
            case .content: content = try value.decode(String.self)
            case .created: created = try value.decode(Date.self)
            case .durationMs: durationMs = value.decodeNil() ? nil : try value.decode(Double.self)
            case .inputTokens: inputTokens = try value.decode(Int.self)
            case .outputTokens: outputTokens = value.decodeNil() ? nil : try value.decode(Int.self)
            case .metadata: metadata = try value.decode([String: String].self)
            }
        }
        guard let id, let sessionID, let sequence, let role, let content, let created, let inputTokens, let metadata else {
            throw CBORItemReader.missingField("a required field", in: BenchTurn.self)
        }
        turn = BenchTurn(id: id, sessionID: sessionID, sequence: sequence, role: role, content: content, created: created,
                         durationMs: durationMs, inputTokens: inputTokens, outputTokens: outputTokens, metadata: metadata)
    }
}
