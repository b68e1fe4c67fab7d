// swift-tools-version: 6.1
import PackageDescription
import class Foundation.NSString

/// SwiftPM names a path dependency after its directory, which depends on where the repository was
/// cloned: derive it instead of hard-coding it.
let root = (((#filePath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent as NSString)
    .lastPathComponent.lowercased()

// The benchmarks live in their own package so that embedders of TimelineStore never build
// package-benchmark or GRDB. Run the micro-suites with:  cd Benchmarks && swift package benchmark
// and the large-timeline harness with:  swift run -c release --package-path Benchmarks timeline-bench
let package = Package(
    name: "TimelineStoreBenchmarks",
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // Raw LMDB for the baselines, under a module name of its own.
        .systemLibrary(name: "CLMDBBaseline", path: "Sources/CLMDBBaseline", pkgConfig: "lmdb"),
        .executableTarget(
            name: "LMDBBenchmarks",
            dependencies: [
                .product(name: "TimelineLMDB", package: root),
                .product(name: "Benchmark", package: "package-benchmark"),
                "CLMDBBaseline",
            ],
            path: "Benchmarks/LMDBBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // The turn record the record benchmarks share.
        .target(
            name: "BenchFixtures",
            dependencies: [.product(name: "TimelineCBOR", package: root)],
            path: "Sources/BenchFixtures"
        ),
        // Instructions per record read under callgrind (instructions.sh): immune to machine noise.
        .executableTarget(
            name: "RecordInstructions",
            dependencies: [
                "BenchFixtures",
                .product(name: "TimelineCBOR", package: root),
                .product(name: "TimelineDocumentStore", package: root),
                .product(name: "TimelineLMDB", package: root),
            ],
            path: "Sources/RecordInstructions"
        ),
        // Instructions of loading a session's latest 100 turns and listing 100 sessions: records,
        // views, JSON, raw LMDB, the tuned SQLite C API.
        .executableTarget(
            name: "TimelineInstructions",
            dependencies: [
                "BenchFixtures",
                "CSQLite",
                .product(name: "Timeline", package: root),
                .product(name: "TimelineLMDB", package: root),
            ],
            path: "Sources/TimelineInstructions"
        ),
        .executableTarget(
            name: "CBORBenchmarks",
            dependencies: [
                "BenchFixtures",
                .product(name: "TimelineCBOR", package: root),
                .product(name: "TimelineDocumentStore", package: root),
                .product(name: "TimelineLMDB", package: root),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/CBORBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // The raw SQLite C API, for the best-SQLite baseline of timeline-bench.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // timeline-bench: every workload on every backend — TimelineStore, SQLite through GRDB (as
        // a GRDB user writes it, and tuned), the SQLite C API tuned, raw LMDB — with a report
        // (Docs/benchmarks.md). CI runs its --quick mode.
        .executableTarget(
            name: "timeline-bench",
            dependencies: [
                .product(name: "Timeline", package: root),
                .product(name: "TimelineLMDB", package: root),
                .product(name: "GRDB", package: "GRDB.swift"),
                "BenchFixtures",
                "SQLiteBaseline",
                "CSQLite",
                "CLMDBBaseline",
            ],
            path: "Sources/TimelineBench",
            // Exported so that liblmdb's and libsqlite3's fsync, fdatasync and pwrite reach the
            // counting versions in SyncCounter.swift first.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"])]
        ),
        // SQLite through GRDB as a GRDB user writes it: Codable records, JSON columns, a fork
        // that copies rows. Shared by the package-benchmark suite and timeline-bench.
        .target(
            name: "SQLiteBaseline",
            dependencies: [
                .product(name: "Timeline", package: root),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Sources/SQLiteBaseline"
        ),
        .executableTarget(
            name: "TimelineBenchmarks",
            dependencies: [
                "SQLiteBaseline",
                .product(name: "Timeline", package: root),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/TimelineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
