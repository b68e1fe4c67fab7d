import TestSupport
import Foundation
import TimelineLMDB
import Testing
import Timeline

/// A power cut, made reproducible: the `timeline-child` workload runs under the write recorder
/// (`Tests/Helpers/write-recorder`, an LD_PRELOAD library), which logs every write to and sync of
/// `data.mdb` and every line the workload prints, in order. From the log the test rebuilds the
/// file as the disk could hold it at each moment: every write followed by a sync (or written
/// through an O_DSYNC descriptor) is there; of the writes since the last sync, any subset of
/// their pages, applied in order. Each such image must open, check clean, and hold every
/// operation acknowledged before that moment (``WorkloadModel``).
@Suite("Power loss, simulated")
struct PowerLossTests {
    /// One entry of the recorder's log.
    enum Event {
        /// A write to `data.mdb` (file 0) or its write-ahead log (file 1).
        case write(file: Int, offset: Int, bytes: [UInt8], synchronous: Bool)
        case sync(file: Int)
        case mark(Substring)
    }

    /// The store's files, by the recorder's file number.
    static let fileNames = ["data.mdb", "data.wal"]

    /// Images per crash point beyond "no unsynced page" and "every unsynced page": random subsets.
    static let extraSubsets = ProcessInfo.processInfo.environment["TIMELINESTORE_POWERLOSS_SUBSETS"].flatMap(Int.init) ?? 2


    /// Builds the recorder with the C compiler at hand, once per test process.
    static let recorder: Result<String, any Error> = Result {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Helpers/write-recorder/write_recorder.c").standardized.path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("write-recorder-\(getpid()).so").path
        for compiler in ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"] where FileManager.default.isExecutableFile(atPath: compiler) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: compiler)
            process.arguments = ["-shared", "-fPIC", "-O1", "-o", output, source, "-ldl", "-lpthread"]
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus == 0 { return output }
        }
        throw RecorderNotBuilt(source: source)
    }

    /// No C compiler on the machine built the recorder.
    struct RecorderNotBuilt: Error, CustomStringConvertible {
        let source: String
        var description: String { "no C compiler (cc, gcc, clang in /usr/bin) built \(source)" }
    }

    /// The log's records in order. A record cut short at the end (the process ended while another
    /// thread was recording) is left out: the image before it is one a disk could hold.
    static func parse(_ log: Data) -> [Event] {
        let bytes = [UInt8](log)
        var events: [Event] = []
        var at = 0
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, count <= bytes.count - at else { return nil }
            defer { at += count }
            return bytes[at..<at + count]
        }
        func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            take(MemoryLayout<T>.size).map { piece in piece.reversed().reduce(T.zero) { $0 << 8 | T($1) } }
        }
        while let kind = take(1)?.first {
            switch kind {
            case UInt8(ascii: "W"):
                guard let flag = take(1)?.first, let offset = integer(UInt64.self), let length = integer(UInt32.self),
                      let piece = take(Int(length)) else { return events }
                events.append(.write(file: flag & 2 != 0 ? 1 : 0, offset: Int(offset), bytes: Array(piece), synchronous: flag & 1 != 0))
            case UInt8(ascii: "S"):
                guard let file = take(1)?.first else { return events }
                events.append(.sync(file: Int(file)))
            default:
                guard let length = integer(UInt32.self), let text = take(Int(length)) else { return events }
                events.append(.mark(Substring(String(decoding: text, as: UTF8.self))))
            }
        }
        return events
    }

    /// Runs the workload under the recorder and replays its log; returns the failures found and
    /// how many images were tried.
    /// It stops after `enough` failures, or at the first failure that is not page damage when
    /// `untilLoss` (a test of a broken setting wants to see an acknowledged operation lost, not
    /// only damaged pages).
    static func simulate(durability: String, seed: UInt64, operations: Int, in dir: String,
                         enough: Int = 20, untilLoss: Bool = false) async throws -> (failures: [String], images: Int, acknowledged: Int, jumped: Bool) {
        let library = try recorder.get()
        // The workload runs in one "boot" of the machine, the images are opened in another. With
        // the write-ahead log it runs twice, each half of the operations: the first closes the
        // store cleanly, and the second open, in the same boot, takes up the checkpoint that close
        // made instead of making one — the cuts then land on either side of that too.
        useTestProcessBootID()
        let runs = durability == "wal" ? [operations / 2, operations - operations / 2] : [operations]
        var events: [Event] = []
        for (number, count) in runs.enumerated() {
            let log = dir + "/writes-\(number).log"
            let status = try runHelper("timeline-child", [dir + "/store", "--seed", "\(seed &+ UInt64(number))", "--ops", "\(count)", "--durability", durability],
                                       environment: ["LD_PRELOAD": library, "WRITE_RECORDER_LOG": log, "TIMELINESTORE_BOOT_ID": "before-the-power-cut"])
            #expect(status == 0)
            let run = parse(try Data(contentsOf: URL(fileURLWithPath: log)))
            if number > 0 {
                // Nothing was committed since the first run's close: the open writes no log record.
                let opening = run.prefix { if case .mark = $0 { false } else { true } }
                #expect(!opening.contains { if case .write(1, _, _, _) = $0 { true } else { false } },
                        "reopening a cleanly closed store in the same boot wrote to its log")
            }
            events += run
        }
        #expect(events.contains { if case .mark = $0 { true } else { false } }, "the recorder saw no line of the workload")
        // Whether the log's chain wrapped: a jump (a record header whose length is 0xFFFFFFFF) was written.
        let jumped = events.contains { if case .write(1, _, let bytes, _) = $0 { bytes.count == 32 && bytes.prefix(4).allSatisfy { $0 == 0xFF } } else { false } }

        var random = SeededGenerator(seed: seed)
        var model = WorkloadModel()
        var lastSync = [0, 0]     // per file: its events before this index are on disk
        var failures: [String] = []
        var images = 0
        let image = dir + "/image"
        for point in 0...events.count {
            if point > 0 {
                switch events[point - 1] {
                case .sync(let file): lastSync[file] = point
                case .mark(let line): model.read(line)
                case .write: break
                }
            }
            // Pages written since the last sync, not through an O_DSYNC descriptor: any subset may be on disk.
            var pending: [(event: Int, page: Int)] = []
            for index in lastSync.min()!..<point {
                if case .write(let file, _, let bytes, false) = events[index], index >= lastSync[file] {
                    for page in stride(from: 0, to: bytes.count, by: 4096) { pending.append((index, page)) }
                }
            }
            var subsets: [Set<Int>] = [[], Set(pending.indices)]
            if !pending.isEmpty {
                for _ in 0..<extraSubsets { subsets.append(Set(pending.indices.filter { _ in random.next() % 2 == 0 })) }
            }
            for subset in Set(subsets) {
                images += 1
                let chosen = Set(subset.map { pending[$0].event * 65_536 + pending[$0].page / 4096 })
                var files: [[UInt8]?] = [nil, nil]
                for index in 0..<point {
                    guard case .write(let number, let offset, let bytes, let synchronous) = events[index] else { continue }
                    var file = files[number] ?? []
                    for page in stride(from: 0, to: bytes.count, by: 4096)
                    where index < lastSync[number] || synchronous || chosen.contains(index * 65_536 + page / 4096) {
                        let piece = bytes[page..<min(bytes.count, page + 4096)]
                        let start = offset + page
                        if file.count < start + piece.count { file += [UInt8](repeating: 0, count: start + piece.count - file.count) }
                        file.replaceSubrange(start..<start + piece.count, with: piece)
                    }
                    files[number] = file
                }
                if let problem = try await verify(image: files, at: image, model: model) {
                    failures.append("crash after event \(point) of \(events.count), \(subset.count) of \(pending.count) unsynced pages: \(problem)")
                    if failures.count >= enough || (untilLoss && !problem.hasPrefix("damaged pages")) {
                        return (failures, images, model.acknowledged, jumped)
                    }
                }
            }
        }
        return (failures, images, model.acknowledged, jumped)
    }

    /// Opens `file` as a store and checks it against `model`; a description of what is wrong, or nil.
    static func verify(image files: [[UInt8]?], at path: String, model: WorkloadModel) async throws -> String? {
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (number, file) in files.enumerated() {
            if let file { try Data(file).write(to: URL(fileURLWithPath: path + "/" + fileNames[number])) }
        }
        do {
            if files[1] != nil {
                // A store with a write-ahead log recovers when it is first opened read-write, on
                // what is, to the log, another boot of the machine (`testProcessBootID`).
                let recovering = try TimelineStore(path: path, configuration: .init(durability: .writeAheadLog), migrationPolicy: .lazy)
                await recovering.close()
            }
            let environment = try Environment(path: path, configuration: .init(readOnly: true))
            let pages = try environment.verifyPages()
            try environment.close()
            if !pages.isEmpty { return "damaged pages: \(pages.prefix(3))" }
            // Read-only: a damaged image (the broken settings make them) is examined, never written to.
            let timeline = try TimelineStore(path: path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
            var copy = model
            let problems = try await copy.verify(timeline)
            await timeline.close()
            return problems.isEmpty ? nil : problems.prefix(3).joined(separator: "; ")
        } catch {
            // A store that never acknowledged anything may not exist yet on disk.
            return model.acknowledged == 0 ? nil : "does not open: \(error)"
        }
    }

    /// The default durability, and the write-ahead log (whose images are recovered first).
    @Test("every image a power cut can leave opens, checks clean and holds every acknowledged operation",
          arguments: [("durable", [UInt64(11), 12, 13]), ("wal", [UInt64(31), 32, 33])])
    func survives(durability: String, seeds: [UInt64]) async throws {
        try await withTemporaryDirectory { dir in
            var total = (images: 0, acknowledged: 0, jumped: false)
            // Whether a run's log wraps depends on when its checkpoint thread gets to run: on a
            // loaded machine none of three runs wrapped once, so the log's runs go on, up to three
            // more seeds, until one has.
            let extra = durability == "wal" ? seeds.map { $0 + 100 } : []
            for seed in seeds + extra where !(extra.contains(seed) && total.jumped) {
                let run = dir + "/run\(seed)"
                try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
                let result = try await Self.simulate(durability: durability, seed: seed, operations: 40, in: run)
                #expect(result.failures.isEmpty, "seed \(seed): \(result.failures.prefix(3))")
                total.images += result.images
                total.acknowledged += result.acknowledged
                total.jumped = total.jumped || result.jumped
            }
            #expect(total.images > 300)
            #expect(total.jumped || durability != "wal", "the workload's log never wrapped")
            print("power loss (\(durability)): \(total.images) disk images verified, \(total.acknowledged) acknowledged operations, 0 lost")
        }
    }

    @Test("a broken setting fails it: with .noSync, power cuts lose acknowledged operations")
    func noSyncFails() async throws {
        try await withTemporaryDirectory { dir in
            let result = try await Self.simulate(durability: "nosync", seed: 21, operations: 40, in: dir, enough: 2_000, untilLoss: true)
            #expect(!result.failures.isEmpty, "no image of \(result.images) lost an acknowledged operation under .noSync")
            #expect(result.failures.contains { $0.contains("acknowledged") || $0.contains("missing") || $0.contains("does not open") }, "\(result.failures.prefix(2))")
            print("power loss under .noSync: \(result.failures.count) failing images, e.g. \(result.failures.first ?? "")")
        }
    }
}
