import Foundation
import Synchronization
import TimelineLMDB
import Testing
import TestSupport

/// `Durability.writeAheadLog`: commits reach `data.wal` before they return, a checkpoint folds
/// them into `data.mdb`, and opening after a power cut rolls back to the checkpoint and replays
/// the log. The power-cut images of a real workload are in `PowerLossTests`; these tests cover
/// the log's life cycle and its rules for other openers.
@Suite("Write-ahead log")
struct WriteAheadLogTests {
    /// The boot the child writers claim: never this test process's, so that opening what they
    /// left behind here is opening it after a restart of the machine.
    static let writerBoot = ["TIMELINESTORE_BOOT_ID": "the-writer's-boot"]

    /// The size of `data.wal` after a clean close: its two header slots (4 KiB of fields and two
    /// 4 KiB meta pages each).
    static let emptyLogSize = 2 * (4096 + 2 * 4096)

    @Test("the log's CRC-32C: the known check value, and the CPU's instructions agree with the table at every length and alignment")
    func checksum() {
        let check = Array("123456789".utf8)
        #expect(check.withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
        #expect(check.withUnsafeBytes { CRC32C.updateByTable(0, $0) } == 0xE306_9283)
        #expect([UInt8]().withUnsafeBytes { CRC32C.checksum($0) } == 0)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4_200).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { raw in
            for start in 0..<9 {
                for count in Array(0..<300) + [1_000, 4_096, 4_191 - start] {
                    let piece = UnsafeRawBufferPointer(rebasing: raw[start..<start + count])
                    #expect(CRC32C.checksum(piece) == CRC32C.updateByTable(0, piece), "\(start), \(count)")
                }
            }
            // Continued in two parts, the same as in one.
            let whole = CRC32C.checksum(raw)
            #expect(CRC32C.update(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[..<1_001])),
                                  UnsafeRawBufferPointer(rebasing: raw[1_001...])) == whole)
        }
        #if arch(x86_64)
        #expect(CRC32C.inHardware)   // SSE 4.2: every x86-64 machine this runs on since 2008
        #endif
    }

    @Test("every kind of write goes through the log; a clean close leaves it empty and the data in data.mdb")
    func lifeCycle() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            var model: [[UInt8]: [UInt8]] = [:]
            do {
                let env = try Environment(path: path, configuration: .init(durability: .writeAheadLog))
                #expect(try env.effectiveDurability() == .writeAheadLog)
                let db = try env.openDatabase("data")
                let dups = try env.openDatabase("dups", flags: .dupSort)
                let scratch = try env.openDatabase("scratch")
                for round in 0..<50 {
                    try env.write { txn in
                        let key = bytes("key\(round)")
                        try db.put(bytes("value\(round)"), for: key, in: txn)
                        model[key] = bytes("value\(round)")
                        try dups.put(bytes("a\(round)"), for: bytes("d"), in: txn)
                        try dups.put(bytes("b\(round)"), for: bytes("d"), in: txn)
                        try dups.delete(bytes("d"), value: bytes("a\(round)"), in: txn)
                        try scratch.put(bytes("x"), for: bytes("x\(round)"), in: txn)
                        if round % 10 == 9 { try scratch.clear(in: txn) }
                        if round % 5 == 0, round > 0 {
                            try db.delete(bytes("key\(round - 1)"), in: txn)
                            model[bytes("key\(round - 1)")] = nil
                        }
                        try bytes("reserved").withUnsafeBytes { key in
                            try db.put(reserving: 3, for: key, in: txn) { $0.copyBytes(from: bytes("r\(round % 10)\(round / 10)")) }
                        }
                        model[bytes("reserved")] = bytes("r\(round % 10)\(round / 10)")
                        try? txn.nested { child in
                            try db.put(bytes("never"), for: bytes("aborted"), in: child)
                            throw LMDBError(.retry, operation: "abort a nested write")
                        }
                    }
                }
                let logSize = try FileManager.default.attributesOfItem(atPath: path + "/data.wal")[.size] as? Int ?? 0
                #expect(logSize > Self.emptyLogSize, "the commits were not written to the log")
                try env.close()
            }
            let logSize = try FileManager.default.attributesOfItem(atPath: path + "/data.wal")[.size] as? Int ?? 0
            #expect(logSize == Self.emptyLogSize)
            let reader = try Environment(path: path, configuration: .init(readOnly: true))
            let db = try reader.openDatabase("data", create: false)
            let dups = try reader.openDatabase("dups", flags: .dupSort, create: false)
            let scratch = try reader.openDatabase("scratch", create: false)
            try reader.read { txn in
                let stored = try collect(db, in: txn)
                #expect(stored.count == model.count)
                for (key, value) in stored { #expect(model[key] == value) }
                #expect(try collect(dups, in: txn).map { String(decoding: $0.1, as: UTF8.self) } == (0..<50).map { "b\($0)" }.sorted())
                #expect(try scratch.count(in: txn) == 0)
            }
        }
    }

    @Test("opening databases that exist writes no record: an open of a store syncs nothing but its checkpoint")
    func openingExistingDatabasesLogsNothing() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let names = (0..<8).map { "collection\($0)" }
            do {
                let env = try Environment(path: path, configuration: .init(durability: .writeAheadLog))
                for name in names { _ = try env.openDatabase(name) }
                try env.close()
            }
            let env = try Environment(path: path, configuration: .init(durability: .writeAheadLog))
            for name in names { _ = try env.openDatabase(name) }
            try env.write { txn in _ = try txn.openDatabase(names[0]) }
            // A record would have grown the log past its two header slots.
            let logSize = try FileManager.default.attributesOfItem(atPath: path + "/data.wal")[.size] as? Int ?? 0
            #expect(logSize == Self.emptyLogSize)
            try env.close()
        }
    }

    @Test("the map grows under the pinned reader, commit after commit, and nothing is lost")
    func mapGrowth() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let big = [UInt8](repeating: 0x5A, count: 64 << 10)
            do {
                let env = try Environment(path: path, configuration: .init(mapSize: 1 << 20, durability: .writeAheadLog))
                let db = try env.openDatabase("data")
                for index in 0..<200 {
                    try env.write { txn in try db.put(big + bytes("\(index)"), for: bytes("big\(index)"), in: txn) }
                }
                #expect(env.mapSize > 8 << 20)
                try env.close()
            }
            let reader = try Environment(path: path, configuration: .init(readOnly: true))
            let db = try reader.openDatabase("data", create: false)
            let (count, last) = try reader.read { txn in (try db.count(in: txn), copy(try db.get(bytes("big199"), in: txn))) }
            #expect(count == 200 && last == big + bytes("199"))
        }
    }

    @Test("after a power cut: data.mdb as the checkpoint left it plus the log recovers every commit, with or without the log afterwards")
    func recoversAfterPowerCut() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let writer = try Child(["wal-write", path, "200"], environment: Self.writerBoot).finish()
            #expect(writer.status == 0 && writer.output.contains("wrote 200"), "\(writer.errors)")
            // What the disk holds after the cut: data.mdb as synced by the last checkpoint, and
            // the log (synced at every commit) with a torn record at its end.
            var log = try Data(contentsOf: URL(fileURLWithPath: path + "/data.wal"))
            let checkpoint = try Data(contentsOf: URL(fileURLWithPath: path + ".checkpoint"))
            for keep in [false, true] {
                let image = dir + "/image-\(keep)"
                try FileManager.default.createDirectory(atPath: image, withIntermediateDirectories: true)
                try checkpoint.write(to: URL(fileURLWithPath: image + "/data.mdb"))
                try log.write(to: URL(fileURLWithPath: image + "/data.wal"))
                // A reader cannot replay the log, and says so.
                let reader = try Child(["read-only", image]).finish()
                #expect(reader.output.contains("error recoveryNeeded"), "\(reader)")
                let env = try Environment(path: image, configuration: .init(durability: keep ? .writeAheadLog : .durable))
                let db = try env.openDatabase("data")
                _ = try env.openDatabase("empty", create: false)
                try env.read { txn in
                    let stored = try collect(db, in: txn)
                    #expect(stored.count == 200)
                    #expect(stored.map(\.0) == (0..<200).map { Array(String(format: "k%08d", $0).utf8) })
                }
                try env.close()
                #expect(FileManager.default.fileExists(atPath: image + "/data.wal") == keep)
                let after = try Child(["read-only", image]).finish()
                #expect(after.output.contains("saw 200"), "\(after)")
            }
            // A record cut short by the power cut is not replayed: cut the last record in half.
            let lastRecordEnd = log.count - log.reversed().prefix { $0 == 0 }.count
            log.replaceSubrange(lastRecordEnd - 20..<lastRecordEnd, with: [UInt8](repeating: 0, count: 20))
            let torn = dir + "/torn"
            try FileManager.default.createDirectory(atPath: torn, withIntermediateDirectories: true)
            try checkpoint.write(to: URL(fileURLWithPath: torn + "/data.mdb"))
            try log.write(to: URL(fileURLWithPath: torn + "/data.wal"))
            let env = try Environment(path: torn)
            let db = try env.openDatabase("data")
            #expect(try env.read { txn in try db.count(in: txn) } == 199)
        }
    }

    @Test("a writer killed without a power cut leaves a store that readers and the next writer open as it is")
    func killedWriterSameBoot() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let writer = try Child(["wal-write", path, "50"], environment: Self.writerBoot).finish()
            #expect(writer.status == 0, "\(writer.errors)")
            // Same boot: the page cache holds every commit, so a reader need not wait for recovery.
            let reader = try Child(["read-only", path], environment: Self.writerBoot).finish()
            #expect(reader.output.contains("saw 50"), "\(reader)")
            let next = try Child(["wal-write", path, "60"], environment: Self.writerBoot).finish()
            #expect(next.status == 0, "\(next.errors)")
            let last = try Child(["read-only", path], environment: Self.writerBoot).finish()
            #expect(last.output.contains("saw 60"), "\(last)")
        }
    }

    /// `lmdb-child`'s key and `wal-churn` value of transaction `index`.
    /// Opens `path` with the log, puts `k0`… → `v0`… into a `data` database, one commit each,
    /// and closes it cleanly (the log is then its two header slots).
    static func writeAndClose(_ path: String, entries: Int) throws {
        let env = try Environment(path: path, configuration: .init(durability: .writeAheadLog))
        let db = try env.openDatabase("data")
        for index in 0..<entries { try env.write { txn in try db.put(bytes("v\(index)"), for: bytes("k\(index)"), in: txn) } }
        try env.close()
    }

    static func key(_ index: Int) -> [UInt8] { bytes(String(format: "k%08d", index)) }
    static func churnValue(_ index: Int) -> [UInt8] {
        [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: index &* 7_919 % 30_000 + 1)
    }

    /// Opens the store at `path` with `durability` and checks that it holds what `wal-churn` wrote
    /// in `count` transactions: each a value put, each third also deleting the key ten before it.
    static func expectChurn(_ count: Int, at path: String, durability: Environment.Durability) throws {
        var model: [[UInt8]: [UInt8]] = [:]
        for index in 0..<count {
            model[key(index)] = churnValue(index)
            if index % 3 == 0 && index >= 10 { model[key(index - 10)] = nil }
        }
        let env = try Environment(path: path, configuration: .init(durability: durability))
        let db = try env.openDatabase("data")
        try env.read { txn in
            let stored = try collect(db, in: txn)
            #expect(stored.count == model.count)
            #expect(stored.allSatisfy { model[$0.0] == $0.1 })
        }
        try env.close()
    }

    @Test("checkpoints run beside the commits and the log's chain wraps and jumps; a power cut after hundreds of them recovers every commit")
    func churnRecovers() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let count = 400
            let writer = try Child(["wal-churn", path, "\(count)"], environment: Self.writerBoot).finish()
            #expect(writer.status == 0 && writer.output.contains("wrote \(count)"), "\(writer.errors)")
            let written = (0..<count).reduce(0) { $0 + Self.churnValue($1).count }
            let logSize = Int(writer.output.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? .max)
            #expect(logSize < written / 2, "the log (\(logSize) bytes) did not reuse its space; \(written) bytes of values were written")
            // The newest header names a checkpoint made beside the commits: its chain starts past
            // the head of the record area (offset 40 of a slot, the version 2 start field).
            let log = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/data.wal")))
            func word(_ at: Int) -> UInt64 { log.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) } }
            let newest = word(16) >= word(Self.slotSize + 16) ? 0 : Self.slotSize
            #expect(word(newest + 40) > UInt64(2 * Self.slotSize))
            // Opened here, on another boot: data.mdb is rolled back to that checkpoint and the
            // chain is replayed; then again without the log, which folds it into data.mdb.
            for durability in [Environment.Durability.writeAheadLog, .durable] {
                try Self.expectChurn(count, at: path, durability: durability)
            }
            #expect(!FileManager.default.fileExists(atPath: path + "/data.wal"))
        }
    }

    @Test("an open that resumes the last checkpoint (closed cleanly in this boot) keeps every commit through a power cut after it")
    func resumedCheckpointRecovers() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            // The first writer closes cleanly; the second, in the same boot, opens without a
            // checkpoint, commits through checkpoints beside its commits, and stops without closing.
            let first = try Child(["wal-churn", path, "100", "close"], environment: Self.writerBoot).finish()
            #expect(first.status == 0, "\(first.errors)")
            let second = try Child(["wal-churn", path, "300"], environment: Self.writerBoot).finish()
            #expect(second.status == 0, "\(second.errors)")
            try Self.expectChurn(300, at: path, durability: .writeAheadLog)
        }
    }

    @Test("opening and closing with nothing committed in between writes nothing: the checkpoint the log names is taken up")
    func idleOpenWritesNothing() throws {
        // An open takes up the checkpoint only in the boot that wrote it: fix the process's boot
        // before the first close (other suites set it to the same value, never another).
        useTestProcessBootID()
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let configuration = Environment.Configuration(durability: .writeAheadLog)
            try Self.writeAndClose(path, entries: 20)
            let files = { () throws -> [Data] in
                try ["data.wal", "data.mdb"].map { try Data(contentsOf: URL(fileURLWithPath: path + "/" + $0)) }
            }
            let before = try files()
            for _ in 0..<3 {
                let env = try Environment(path: path, configuration: configuration)
                let db = try env.openDatabase("data")
                #expect(try env.read { txn in try db.count(in: txn) } == 20)
                try env.sync()
                try env.close()
            }
            #expect(try files() == before, "an open, a sync or a close with nothing committed wrote to the store")
            // A commit after such an open is logged and checkpointed as usual.
            do {
                let env = try Environment(path: path, configuration: configuration)
                let db = try env.openDatabase("data")
                try env.write { txn in try db.put(bytes("v20"), for: bytes("k20"), in: txn) }
                try env.close()
            }
            #expect(try files()[0] != before[0])
            let reader = try Environment(path: path, configuration: .init(readOnly: true))
            let db = try reader.openDatabase("data", create: false)
            #expect(try reader.read { txn in try db.count(in: txn) } == 21)
        }
    }

    @Test("several threads commit while checkpoints run beside them: the log stays small, every commit is kept, a clean close empties it")
    func concurrentChurn() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            var configuration = Environment.Configuration(durability: .writeAheadLog)
            configuration.checkpointCommits = 2
            let threads = 4, perThread = 120
            do {
                let env = try Environment(path: path, configuration: configuration)
                let db = try env.openDatabase("data")
                let largest = Mutex(0)
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    for round in 0..<perThread {
                        let index = thread * perThread + round
                        try! env.write { txn in try db.put(Self.churnValue(index), for: Self.key(index), in: txn) }
                        let size = (try? FileManager.default.attributesOfItem(atPath: path + "/data.wal")[.size] as? Int) ?? 0
                        largest.withLock { $0 = max($0, size) }
                    }
                }
                let written = (0..<threads * perThread).reduce(0) { $0 + Self.churnValue($1).count }
                #expect(largest.withLock { $0 } < written / 2, "the log did not reuse its space")
                try env.close()
            }
            let logSize = try FileManager.default.attributesOfItem(atPath: path + "/data.wal")[.size] as? Int ?? 0
            #expect(logSize == Self.emptyLogSize)
            let reader = try Environment(path: path, configuration: .init(readOnly: true))
            let db = try reader.openDatabase("data", create: false)
            try reader.read { txn in
                let stored = try collect(db, in: txn)
                #expect(stored.count == threads * perThread)
                #expect(stored.allSatisfy { $0.1 == Self.churnValue(Int(String(decoding: $0.0.dropFirst(), as: UTF8.self))!) })
            }
        }
    }

    @Test("a damaged, empty or foreign data.wal is refused with an error that names it; data.mdb is left as it was")
    func damagedLog() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            _ = try Child(["wal-write", path, "5"]).finish()
            let dataBefore = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
            let garbage = (0..<40_000).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
            for content in [Data(), Data(garbage), Data("not a log".utf8)] {
                try content.write(to: URL(fileURLWithPath: path + "/data.wal"))
                for configuration in [Environment.Configuration(durability: .writeAheadLog), .init(), .init(readOnly: true)] {
                    let error = #expect(throws: LMDBError.self) { try Environment(path: path, configuration: configuration) }
                    #expect(error?.code == .corrupted && error?.description.contains("data.wal") == true, "\(String(describing: error))")
                }
                #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == dataBefore)
            }
        }
    }

    @Test("a forged header — counters that cannot go on, a chain start outside the record area — gives an error or is not taken up; never a trap or a write over the header", arguments: ["generation", "transaction", "start in the header", "start past the end"])
    func forgedHeader(_ forgery: String) throws {
        useTestProcessBootID()
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let configuration = Environment.Configuration(durability: .writeAheadLog)
            try Self.writeAndClose(path, entries: 5)
            // Both slots rewritten with the forged field and sealed again (Docs/format.md), so
            // that the checksums hold, as a forger would make them.
            var log = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/data.wal")))
            #expect(log.count == Self.emptyLogSize)
            for slot in [0, Self.slotSize] {
                let (offset, value): (Int, UInt64) = switch forgery {
                case "generation": (16, .max)
                case "transaction": (24, .max)
                case "start in the header": (40, 100)
                default: (40, 1 << 40)
                }
                log.withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: slot + offset, as: UInt64.self) }
                Self.seal(&log, slot: slot)
            }
            try Data(log).write(to: URL(fileURLWithPath: path + "/data.wal"))
            if forgery == "generation" || forgery == "transaction" {
                let error = #expect(throws: LMDBError.self) { try Environment(path: path, configuration: configuration) }
                #expect(error?.code == .corrupted && error?.description.contains("data.wal") == true, "\(String(describing: error))")
                return
            }
            // The forged start is not taken up: the open makes a checkpoint of its own, which
            // starts the chain afresh at the head of the record area.
            let env = try Environment(path: path, configuration: configuration)
            let db = try env.openDatabase("data")
            try env.write { txn in try db.put(bytes("v5"), for: bytes("k5"), in: txn) }
            let size = try FileManager.default.attributesOfItem(atPath: path + "/data.wal")[.size] as? Int ?? .max
            #expect(size < 16 << 20, "the log grew to \(size) bytes towards a forged start")
            try env.close()
            let reopened = try Environment(path: path, configuration: configuration)
            let again = try reopened.openDatabase("data")
            #expect(try reopened.read { txn in try again.count(in: txn) } == 6)
        }
    }

    /// The size of a header slot: 4 KiB of fields, then the two saved meta pages.
    static let slotSize = 4096 + 2 * 4096

    /// Seals the header slot at `slot` again after a forgery, as a checkpoint seals it
    /// (`Docs/format.md`): the CRC-32C at 96 covers bytes 0–95, 100–4095 and the saved meta pages.
    static func seal(_ log: inout [UInt8], slot: Int) {
        let crc = checksum(log, slot: slot)
        log.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: slot + 96, as: UInt32.self) }
    }

    /// The CRC-32C a sealed header slot at `slot` holds at 96.
    static func checksum(_ log: [UInt8], slot: Int) -> UInt32 {
        log.withUnsafeBytes { raw in
            var crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[slot..<slot + 96]))
            crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: raw[slot + 100..<slot + 4096]))
            return CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: raw[slot + 4096..<slot + slotSize]))
        }
    }

    @Test("a checkpoint whose saved meta page names an unsound tree (the free list's root made the main database's) is refused before data.mdb is touched, not left to LMDB's assertions (a wal fuzz finding); without the log, data.mdb opens")
    func forgedCheckpointTree() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            // Commits and checkpoints beside them, left by a writer of another boot: opening it
            // here rolls data.mdb back to the newest checkpoint the log names.
            let writer = try Child(["wal-churn", path, "400"], environment: Self.writerBoot).finish()
            #expect(writer.status == 0, "\(writer.errors)")
            var log = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/data.wal")))
            // In each slot's newer saved meta page (transaction id at 144), the free list's root
            // (u64 at 80) becomes the main database's (at 128): a page that names itself, so the
            // checks before the walk pass, and LMDB would read the main database's entries as
            // lists of free pages and hand them out.
            // Only slots that are whole: the writer exits beside its checkpoint thread, which may
            // be half-way through a slot then, and sealing that one would make a torn slot current
            // (the likely cause of one failure under heavy load, whose open found nothing to refuse).
            var forged = 0
            for slot in [0, Self.slotSize] {
                func word(_ at: Int) -> UInt64 { log.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) } }
                guard log.withUnsafeBytes({ UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: slot + 96, as: UInt32.self)) }) == Self.checksum(log, slot: slot)
                else { continue }
                forged += 1
                let newer = [slot + 4096, slot + 8192].max { word($0 + 144) < word($1 + 144) }!
                let mainRoot = word(newer + 128)
                #expect(mainRoot != .max, "the checkpoint's main database is empty")
                log.withUnsafeMutableBytes { $0.storeBytes(of: mainRoot, toByteOffset: newer + 80, as: UInt64.self) }
                Self.seal(&log, slot: slot)
            }
            #expect(forged > 0, "neither header slot is whole")
            try Data(log).write(to: URL(fileURLWithPath: path + "/data.wal"))
            let before = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
            for durability in [Environment.Durability.writeAheadLog, .durable] {
                let error = #expect(throws: LMDBError.self) { try Environment(path: path, configuration: .init(durability: durability)) }
                #expect(error?.code == .corrupted && error?.description.contains("not a sound tree") == true, "\(String(describing: error))")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == before)
            try FileManager.default.removeItem(atPath: path + "/data.wal")
            let env = try Environment(path: path)
            let db = try env.openDatabase("data")
            #expect(try env.read { txn in try db.count(in: txn) } > 0)
            #expect(try env.verifyPages().isEmpty)
            try env.close()
        }
    }

    @Test("a data.wal that claims more than half the machine's memory (a sparse file) is refused at once with an error that names it, not read")
    func hugeSparseLog() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            try Self.writeAndClose(path, entries: 3)
            let dataBefore = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
            let memory = sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))
            #expect(truncate(path + "/data.wal", off_t(memory)) == 0)
            let started = Date()
            for configuration in [Environment.Configuration(durability: .writeAheadLog), .init(), .init(readOnly: true)] {
                let error = #expect(throws: LMDBError.self) { try Environment(path: path, configuration: configuration) }
                #expect(error?.code == .corrupted && error?.description.contains("data.wal") == true, "\(String(describing: error))")
            }
            #expect(Date().timeIntervalSince(started) < 10)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == dataBefore)
            // Without the log, data.mdb opens as the clean close left it.
            try FileManager.default.removeItem(atPath: path + "/data.wal")
            let env = try Environment(path: path)
            let db = try env.openDatabase("data")
            #expect(try env.read { txn in try db.count(in: txn) } == 3)
            try env.close()
        }
    }

    @Test("a data.wal that is not a regular file (a named pipe, a directory) gives an error that names it; no open waits on it", arguments: ["pipe", "directory"])
    func logNotAFile(_ kind: String) throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            try Self.writeAndClose(path, entries: 3)
            try FileManager.default.removeItem(atPath: path + "/data.wal")
            if kind == "pipe" {
                #expect(mkfifo(path + "/data.wal", 0o600) == 0)
            } else {
                try FileManager.default.createDirectory(atPath: path + "/data.wal", withIntermediateDirectories: false)
            }
            for configuration in [Environment.Configuration(durability: .writeAheadLog), .init(), .init(readOnly: true)] {
                let error = #expect(throws: LMDBError.self) { try Environment(path: path, configuration: configuration) }
                #expect(error?.description.contains("data.wal") == true, "\(String(describing: error))")
            }
        }
    }

    @Test("closing and reopening at once succeeds while the process starts children, which hold a copy of the log's lock until they run their program")
    func reopenWhileSpawning() throws {
        let stop = Atomic<Bool>(false)
        let spawner = Thread {
            while !stop.load(ordering: .relaxed) {
                let child = Process()
                child.executableURL = URL(fileURLWithPath: "/bin/true")
                try? child.run()
                child.waitUntilExit()
            }
        }
        spawner.start()
        defer { stop.store(true, ordering: .relaxed) }
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            for round in 0..<100 {
                let env = try Environment(path: path, configuration: .init(durability: round % 2 == 0 ? .writeAheadLog : .durable))
                let db = try env.openDatabase("data")
                try env.write { txn in try db.put(bytes("v\(round)"), for: bytes("k\(round)"), in: txn) }
                try env.close()
            }
            let env = try Environment(path: path, configuration: .init(durability: .writeAheadLog))
            let db = try env.openDatabase("data")
            #expect(try env.read { txn in try db.count(in: txn) } == 100)
            try env.close()
        }
    }

    @Test("while a process writes through the log, other processes may read but not write")
    func oneWriterAtATime() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            _ = try Child(["wal-write", path, "1"]).finish()
            let holder = try Child(["wal-hold", path])
            defer { kill(holder.process.processIdentifier, SIGKILL); _ = holder.finish() }
            holder.waitFor("holding")
            let writer = try Child(["open", path]).finish()
            #expect(writer.output.contains("error busy"), "\(writer)")
            #expect(throws: LMDBError.self) { try Environment(path: path, configuration: .init(durability: .writeAheadLog)) }
            let reader = try Child(["read-only", path]).finish()
            #expect(reader.output.contains("saw 1"), "\(reader)")
        }
    }

    @Test("a writer through the log is refused while another process has the store open for writing without it, whose commits the log would not hold")
    func noLogBesideAWriterWithout() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            _ = try Child(["write", path, "1"]).finish()
            let holder = try Child(["hold-write", path])
            holder.waitFor("holding")
            let error = #expect(throws: LMDBError.self) { try Environment(path: path, configuration: .init(durability: .writeAheadLog)) }
            #expect(error?.code == .busy && error?.description.contains("without the write-ahead log") == true, "\(String(describing: error))")
            #expect(!FileManager.default.fileExists(atPath: path + "/data.wal"))
            // Writers without the log share the store as before.
            let other = try Child(["open", path]).finish()
            #expect(other.output.contains("opened"), "\(other)")
            kill(holder.process.processIdentifier, SIGKILL)
            _ = holder.finish()
            let env = try Environment(path: path, configuration: .init(durability: .writeAheadLog))
            try env.close()
        }
    }
}
