import Foundation
import Timeline

/// `timeline-bench`: every workload of a chat service's history on every backend, on the same
/// generated timeline, side by side in one run, with a report (`Docs/benchmarks.md`).
///
///     swift run -c release --package-path Benchmarks timeline-bench [--turns N] [--quick] [--output DIR]
@main
struct TimelineBench {
    struct Options {
        var turns = 1_000_000
        var quick = false
        var output = "timeline-bench-results"
        var fixtures = NSTemporaryDirectory() + "timeline-bench"
        var seed: UInt64 = 2026
        /// A `results.json` to draw the table and charts from again, instead of running.
        var render: String?
        /// Only the change feed's figures, not the comparison.
        var feedOnly = false
        /// TimelineStore's backends store large records compressed (`compression: .lz4`), in
        /// kept stores of their own.
        var compressed = false
        /// The backends to run, by slug (`--backends`); all when nil.
        var only: Set<String>?
        /// Timeline sizes for the growth workloads, smallest first; the main size last.
        var growth: [Int] { quick ? [5_000, 20_000] : [10_000, 100_000, turns].filter { $0 <= turns }.uniqued() }
        /// Iterations per timed workload, scaled down in quick mode.
        func iterations(_ full: Int) -> Int { quick ? max(3, full / 10) : full }

        init(arguments: [String]) throws {
            var rest = arguments[...]
            while let argument = rest.popFirst() {
                switch argument {
                case "--turns": guard let value = rest.popFirst().flatMap(Int.init), value >= 1_000 else { throw Usage("--turns takes a number ≥ 1000") }
                    turns = value
                case "--quick": quick = true; turns = 20_000
                case "--output": guard let value = rest.popFirst() else { throw Usage("--output takes a directory") }
                    output = value
                case "--fixtures": guard let value = rest.popFirst() else { throw Usage("--fixtures takes a directory") }
                    fixtures = value
                case "--seed": guard let value = rest.popFirst().flatMap(UInt64.init) else { throw Usage("--seed takes a number") }
                    seed = value
                case "--render": guard let value = rest.popFirst() else { throw Usage("--render takes a results.json") }
                    render = value
                case "--feed-only": feedOnly = true
                case "--compressed": compressed = true
                case "--backends":
                    let known = Set(TimelineBench.backends.map(\.slug))
                    guard let value = rest.popFirst(), case let slugs = Set(value.split(separator: ",").map(String.init)),
                          !slugs.isEmpty, slugs.isSubset(of: known) else {
                        throw Usage("--backends takes a comma-separated list of \(known.sorted().joined(separator: ", "))")
                    }
                    only = slugs
                case "-h", "--help": throw Usage(nil)
                default: throw Usage("unknown argument \(argument)")
                }
            }
        }
    }

    struct Usage: Error {
        let problem: String?
        init(_ problem: String?) { self.problem = problem }
        static let text = """
            usage: timeline-bench [--turns N] [--quick] [--output DIR] [--fixtures DIR] [--seed S] [--backends LIST] [--feed-only] [--compressed]
              --turns N      the timeline's size (default 1,000,000 turns, 10,000 sessions)
              --quick        20,000 turns and few iterations: a smoke run of every workload
              --output DIR   where results.json, results.csv and the SVG charts go (default ./timeline-bench-results)
              --fixtures DIR where generated stores are kept between runs (default $TMPDIR/timeline-bench)
              --render FILE  draw the table and charts of an earlier run's results.json into --output
              --backends L   only these backends, by comma-separated slug: timelinestore, timelinestore-wal,
                             grdb-naive, grdb-tuned, sqlite-tuned, raw-lmdb (all by default)
              --feed-only    only the change feed's figures (log reads, followers, incremental backup)
              --compressed   TimelineStore stores large records compressed (compression: .lz4)
            """
    }

    static func main() async {
        do {
            if CommandLine.arguments.dropFirst().first == "--follow-child" {
                return try await FeedBench.child(Array(CommandLine.arguments.dropFirst(2)))
            }
            let options = try Options(arguments: Array(CommandLine.arguments.dropFirst()))
            TimelineStoreBackend.compression = options.compressed ? .lz4 : .none
            try await run(options)
        } catch let usage as Usage {
            if let problem = usage.problem { print("timeline-bench: \(problem)") }
            print(Usage.text)
            exit(usage.problem == nil ? 0 : 64)
        } catch {
            print("timeline-bench: \(error)")
            exit(1)
        }
    }

    static var backends: [(name: String, slug: String, make: (String) throws -> any Backend)] { [
        ("TimelineStore", "timelinestore", { try TimelineStoreBackend(directory: $0) }),
        (TimelineStoreBackend.withLogName, "timelinestore-wal", { try TimelineStoreBackend(directory: $0, durability: .writeAheadLog) }),
        ("SQLite (GRDB, as written)", "grdb-naive", { try GRDBNaiveBackend(directory: $0) }),
        ("SQLite (GRDB, tuned)", "grdb-tuned", { try GRDBTunedBackend(directory: $0) }),
        ("SQLite (C API, tuned)", "sqlite-tuned", { try SQLiteBackend(directory: $0) }),
        ("raw LMDB (limit)", "raw-lmdb", { try RawLMDBBackend(directory: $0) }),
    ] }

    static func run(_ options: Options) async throws {
        if let render = options.render {
            let document = try JSONDecoder().decode(Report.Document.self, from: Data(contentsOf: URL(fileURLWithPath: render)))
            var original = options
            (original.turns, original.quick, original.seed) = (document.turns, document.quick, document.seed)
            let report = Report(options: original, results: document.results, settings: document.settings,
                                started: ISO8601DateFormatter().date(from: document.started) ?? Date())
            try report.write()
            print(report.table())
            return
        }
        if options.feedOnly {
            try FileManager.default.createDirectory(atPath: options.output, withIntermediateDirectories: true)
            let lines = try await runFeed(options)
            print("The change feed (also in feed.json):\n  " + lines.joined(separator: "\n  "))
            return
        }
        let started = Date()
        let selected = backends.filter { options.only?.contains($0.slug) ?? true }
        print("timeline-bench: \(options.turns) turns\(options.quick ? " (quick)" : ""), backends: \(selected.map(\.name).joined(separator: ", "))")
        var results: [Measurement] = []
        var settings: [String: [String: String]] = [:]
        for size in options.growth {
            let fixture = Fixture(turns: size, seed: options.seed)
            let main = size == options.growth.last
            print("\n— \(size) turns in \(fixture.sessions.count) sessions\(main ? "" : " (growth)")")
            for backend in selected {
                let store = try await prepare(backend, fixture: fixture, options: options)
                defer { try? FileManager.default.removeItem(atPath: store.directory) }
                if main { settings[backend.name] = try store.backend.settings() }
                var workloads = Workloads(backend: store.backend, fixture: fixture, size: size, options: options)
                try await workloads.run(full: main)
                try await store.backend.close()
                results += workloads.results
                if main, let importFigures = store.importFigures { results += importFigures }
            }
        }
        let report = Report(options: options, results: results, settings: settings, started: started)
        try report.write()
        // The change feed and the space report read TimelineStore's stores.
        let feed = options.only?.contains("timelinestore") ?? true ? try await runFeed(options) : []
        let space = try SpaceBench.run(options)
        print(report.table())
        print("The change feed (TimelineStore only; also in feed.json):\n  " + feed.joined(separator: "\n  "))
        print("Where the LMDB stores' bytes go (also in space.json):\n  " + space.joined(separator: "\n  "))
        // What the quick run in CI checks: every backend produced every figure, and the same
        // answers to the same reads — not the figures themselves.
        let problems = report.missingFigures() + report.answerMismatches().map { "answers differ: \($0)" } + report.weakDurability()
        if !problems.isEmpty {
            print("timeline-bench: incomplete results:\n  " + problems.joined(separator: "\n  "))
            exit(1)
        }
    }

    /// The change feed's figures, on a fresh copy of TimelineStore's main fixture.
    static func runFeed(_ options: Options) async throws -> [String] {
        let fixture = Fixture(turns: options.growth.last ?? options.turns, seed: options.seed)
        let ours = try await prepare(backends[0], fixture: fixture, options: options)
        try await ours.backend.close()
        defer { try? FileManager.default.removeItem(atPath: ours.directory) }
        var feed = FeedBench(options: options, fixture: fixture)
        try await feed.run(directory: ours.directory)
        return feed.lines
    }

    /// Where a backend's store of `fixture` is kept between runs. TimelineStore's kept copy names
    /// its record version: a copy written by older code would be migrated when opened, and the
    /// migration would be timed as the cold open.
    /// The write-ahead log's backend imports its own store (through the log), so that its import
    /// rate and file size are its own. `v2`: the fixture's text since 2026-11-30 (prose that
    /// compresses as English does; `Fixture.text`).
    static func keptStore(slug: String, fixture: Fixture, options: Options) -> String {
        let format = slug.hasPrefix("timelinestore") ? "-records\(Turn.recordVersion)\(options.compressed ? "-lz4" : "")" : ""
        return "\(options.fixtures)/\(slug)-\(fixture.turnCount)-\(fixture.seed)-v2\(format)"
    }

    /// A backend's store holding `fixture`, in a working directory of its own: loaded from a
    /// copy kept from an earlier run, or loaded now (and kept). Loading is the import workload.
    static func prepare(_ backend: (name: String, slug: String, make: (String) throws -> any Backend), fixture: Fixture,
                        options: Options) async throws -> (backend: any Backend, directory: String, importFigures: [Measurement]?) {
        let manager = FileManager.default
        let kept = keptStore(slug: backend.slug, fixture: fixture, options: options)
        let work = "\(options.fixtures)/work-\(backend.slug)-\(getpid())"
        try? manager.removeItem(atPath: work)
        try manager.createDirectory(atPath: options.fixtures, withIntermediateDirectories: true)
        var figures: [Measurement]?
        if !manager.fileExists(atPath: kept + "/complete") {
            try? manager.removeItem(atPath: kept)
            resetPeakRSS()
            let before = peakRSS() ?? 0
            let store = try backend.make(kept)
            let start = now()
            try store.load(fixture)
            let seconds = Double(now() - start) / 1e9
            let bytes = try store.diskBytes()
            try await store.close()
            figures = [
                Measurement(size: fixture.turnCount, workload: "import (bulk load of the whole timeline)", backend: backend.name, operations: fixture.turnCount,
                            perSecond: Double(fixture.turnCount) / seconds, unit: "turns/s"),
                Measurement(size: fixture.turnCount, workload: "file size per turn", backend: backend.name, operations: fixture.turnCount,
                            value: Double(bytes) / Double(fixture.turnCount), unit: "bytes"),
                Measurement(size: fixture.turnCount, workload: "peak RSS during import", backend: backend.name, operations: 1,
                            value: Double(max(peakRSS() ?? 0, before)) / 1_048_576, unit: "MiB"),
            ]
            print("  \(backend.name): loaded in \(String(format: "%.1f", seconds)) s, \(bytes / 1_048_576) MiB")
            // Kept with the store: a later run that reuses it reports the same import figures.
            try JSONEncoder().encode(figures).write(to: URL(fileURLWithPath: kept + "/import.json"))
            _ = manager.createFile(atPath: kept + "/complete", contents: Data())
        } else {
            figures = try? JSONDecoder().decode([Measurement].self, from: Data(contentsOf: URL(fileURLWithPath: kept + "/import.json")))
        }
        try manager.copyItem(atPath: kept, toPath: work)
        try syncTree(work)
        return (try backend.make(work), work, figures)
    }

    /// Writes a fresh copy's pages to the disk before its backend runs. The copy is gigabytes of
    /// dirty page cache: left alone, it is flushed in the middle of the workloads — by the first
    /// sync of a database file (LMDB's commit, TimelineStore's checkpoint, SQLite's checkpoint),
    /// or by the kernel's write-back once it is 30 s old — and whichever backend meets that flush
    /// pays for the copy, not for its own work.
    static func syncTree(_ path: String) throws {
        var paths = [path]
        if let walk = FileManager.default.enumerator(atPath: path) {
            for case let name as String in walk { paths.append(path + "/" + name) }
        }
        // Files first, then their directories, the deepest first.
        for path in paths.reversed() {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            defer { close(fd) }
            guard fsync(fd) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
