// CBOR against Foundation's JSON coders, on a realistic 10-field turn (about 300 bytes of text,
// dates, optionals, a small dictionary); and the same turn stored and read through a
// DocumentStore collection against raw LMDB (RecordBenchmarks.swift). Run:
//   cd Benchmarks && swift package benchmark --target CBORBenchmarks
import BenchFixtures
import Benchmark
import TimelineCBOR
import Foundation

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
