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
    Benchmark("decode turn — Foundation JSON") { benchmark in
        let decoder = JSONDecoder()
        for _ in benchmark.scaledIterations { blackHole(try decoder.decode(BenchTurn.self, from: jsonBytes)) }
    }
    recordBenchmarks()
}
