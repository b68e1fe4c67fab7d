// swift-tools-version: 6.1
import PackageDescription

/// Settings every Swift target of the package shares: Swift 6 mode with strict concurrency
/// (the default of tools 6.x) plus the upcoming features that keep imports and existentials explicit.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "TimelineStore",
    // Linux is where it is built and tested; the Darwin floors are those of `Synchronization`
    // (Mutex, Atomic) and of FoundationEssentials-era Foundation.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    // Module names carry the project's name: `LMDB`, `CLMDB` and `CBOR` are taken by other packages a
    // service may also depend on, and SwiftPM refuses two modules of one name in a build.
    products: [
        .library(name: "TimelineLMDB", targets: ["TimelineLMDB"]),
        .library(name: "TimelineCBOR", targets: ["TimelineCBOR"]),
        .library(name: "TimelineDocumentStore", targets: ["TimelineDocumentStore"]),
        .library(name: "Timeline", targets: ["Timeline"]),
        .executable(name: "kvtool", targets: ["kvtool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation` for the DocC catalogs (scripts/docs.sh); a
        // plugin only: nothing of it is linked into the libraries.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CTimelineLMDB",
            path: "Sources/CTimelineLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"]), .brew(["lmdb"])]
        ),
        // LZ4's block compressor, for record values stored compressed (`Envelope`).
        .systemLibrary(
            name: "CTimelineLZ4",
            path: "Sources/CTimelineLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]
        ),
        // The scan for bytes a JSON string must escape, sixteen at a time (`CBORJSONTranscoder`).
        .target(
            name: "CTimelineText",
            path: "Sources/CTimelineText"
        ),
        // CRC-32C by the CPU's instructions, for the write-ahead log (`CRC32C`).
        .target(
            name: "CTimelineChecksum",
            path: "Sources/CTimelineChecksum"
        ),
        .target(
            name: "TimelineLMDB",
            dependencies: ["CTimelineLMDB", "CTimelineChecksum"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TimelineCBOR",
            dependencies: ["CTimelineText"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TimelineDocumentStore",
            dependencies: ["TimelineLMDB", "TimelineCBOR", "CTimelineLZ4"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Timeline",
            dependencies: ["TimelineLMDB", "TimelineCBOR", "TimelineDocumentStore"],
            swiftSettings: strictSettings
        ),
        // The seeded random generator of the tests and of `kvtool demo` (package access only).
        .target(
            name: "SeededRandom",
            path: "Tools/SeededRandom",
            swiftSettings: strictSettings
        ),
        // kvtool's dump format and key layouts, apart from its commands so that the fuzz targets
        // and tests reach them (package access only: not part of any product's API).
        .target(
            name: "KVToolCore",
            dependencies: ["TimelineCBOR", "TimelineDocumentStore", "Timeline"],
            path: "Tools/KVToolCore",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "kvtool",
            dependencies: [
                "TimelineLMDB",
                "TimelineCBOR",
                "TimelineDocumentStore",
                "Timeline",
                "KVToolCore",
                "SeededRandom",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/kvtool",
            swiftSettings: strictSettings
        ),
        // The fuzz targets' entry points: each takes arbitrary bytes and must only ever throw.
        // `scripts/fuzz.sh` builds them under libFuzzer; the tests replay the seed corpus.
        .target(
            name: "FuzzTargets",
            dependencies: ["TimelineCBOR", "TimelineDocumentStore", "Timeline", "KVToolCore"],
            path: "Tests/Helpers/FuzzTargets",
            swiftSettings: strictSettings
        ),
        // The libFuzzer executable (built with -DFUZZING by scripts/fuzz.sh); without FUZZING it
        // replays files through a target: `timelinestore-fuzz TARGET FILE...`.
        .executableTarget(
            name: "timelinestore-fuzz",
            dependencies: ["FuzzTargets"],
            path: "Tests/Helpers/timelinestore-fuzz",
            swiftSettings: strictSettings
        ),
        // A child process for the multi-process and crash tests: it opens a store and
        // reads or writes on command. Built with the tests; not a product.
        .executableTarget(
            name: "lmdb-child",
            dependencies: ["TimelineLMDB"],
            path: "Tests/Helpers/lmdb-child",
            swiftSettings: strictSettings
        ),
        // Versioned record types and steps shared by the migration tests and their child process.
        .target(
            name: "MigrationFixtures",
            dependencies: ["TimelineDocumentStore"],
            path: "Tests/Helpers/MigrationFixtures",
            swiftSettings: strictSettings
        ),
        // A child process that runs a migration slowly, for the tests that kill it mid-run.
        .executableTarget(
            name: "migration-child",
            dependencies: ["TimelineDocumentStore", "MigrationFixtures"],
            path: "Tests/Helpers/migration-child",
            swiftSettings: strictSettings
        ),
        // The workload of the crash and power-loss tests: every kind of timeline write, printing
        // each acknowledged operation, until it is killed or has done enough.
        .executableTarget(
            name: "timeline-child",
            dependencies: ["Timeline", "TimelineLMDB", "TestSupport"],
            path: "Tests/Helpers/timeline-child",
            swiftSettings: strictSettings
        ),
        // Helpers shared by the test targets (seeded random numbers, temporary directories).
        .target(
            name: "TestSupport",
            dependencies: ["SeededRandom"],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LMDBTests",
            dependencies: ["TestSupport", "TimelineLMDB"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DocumentStoreTests",
            dependencies: ["TestSupport", "TimelineDocumentStore", "TimelineCBOR", "MigrationFixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TimelineTests",
            dependencies: ["TestSupport", "Timeline", "TimelineDocumentStore", "TimelineLMDB", "TimelineCBOR"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KVToolTests",
            dependencies: ["TestSupport", "Timeline", "TimelineDocumentStore", "TimelineLMDB", "TimelineCBOR", "KVToolCore", "FuzzTargets"],
            exclude: ["Golden"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CBORTests",
            dependencies: ["TestSupport", "TimelineCBOR"],
            swiftSettings: strictSettings
        ),
    ]
)
