import TestSupport
import Foundation
import TimelineLMDB
import Synchronization
import Testing

@Suite("Backups, sync and the stock LMDB tools")
struct MaintenanceTests {
    static func fill(_ env: Environment, _ db: Database, count: Int) throws {
        try env.write { txn throws in
            for i in 0..<count { try db.put(bytes("value \(i)"), for: bytes("key \(i + 100_000)"), in: txn) }
        }
    }

    @Test("copy and compact copy open as the same store; copying onto a store is refused")
    func copies() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            try Self.fill(env, db, count: 5_000)
            try env.write { txn throws in
                for i in 0..<4_000 { try db.delete(bytes("key \(i + 100_000)"), in: txn) }
            }
            try env.sync()
            try env.copy(to: dir + "/plain")
            try env.copy(to: dir + "/compact", compact: true)
            let plainSize = try FileManager.default.attributesOfItem(atPath: dir + "/plain/data.mdb")[.size] as? Int ?? 0
            let compactSize = try FileManager.default.attributesOfItem(atPath: dir + "/compact/data.mdb")[.size] as? Int ?? 0
            #expect(compactSize < plainSize)
            for copyPath in [dir + "/plain", dir + "/compact"] {
                let copy = try Environment(path: copyPath, configuration: .init(readOnly: true))
                let items = try copy.openDatabase("items")
                try copy.read { txn throws in
                    #expect(try items.count(in: txn) == 1_000)
                    #expect(try collect(items, in: txn).first?.1 == bytes("value 4000"))
                }
            }
            let error = #expect(throws: LMDBError.self) { try env.copy(to: dir + "/plain") }
            #expect(error?.description.contains("already holds a store") == true)
        }
    }

    @Test("a copy from inside a write transaction is refused instead of waiting for itself; copies, info and statistics while another thread grows the map are whole")
    func copyBesideWriters() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(mapSize: 1 << 20))
            let db = try env.openDatabase("items")
            try Self.fill(env, db, count: 1_000)
            // A plain copy takes LMDB's writer lock: from the thread that holds it, it never returned.
            let error = #expect(throws: LMDBError.self) { try env.write { _ in try env.copy(to: dir + "/inside") } }
            #expect(error?.code == .nestedWrite, "\(String(describing: error))")
            #expect(!FileManager.default.fileExists(atPath: dir + "/inside/data.mdb"))
            try env.write { _ in try env.copy(to: dir + "/inside-compact", compact: true) }   // a compacting copy needs no writer lock
            // Copies while another thread writes enough to grow the map several times: the copy
            // reads the map, which must not be moved under it.
            let writer = Thread {
                let big = [UInt8](repeating: 7, count: 64 << 10)
                for i in 0..<400 { try? env.write { txn in try db.put(big, for: bytes("big \(i)"), in: txn) } }
            }
            writer.start()
            // So do the calls that read the meta pages outside a transaction.
            let writing = Atomic<Bool>(true)
            let prober = Thread {
                while writing.load(ordering: .relaxed) { _ = try? env.info(); _ = try? env.statistics() }
            }
            prober.start()
            var copies = 0
            while !writer.isFinished || copies < 2 {
                let target = dir + "/copy-\(copies)"
                try env.copy(to: target, compact: copies % 2 == 1)
                let copy = try Environment(path: target, configuration: .init(readOnly: true))
                #expect(try copy.verifyPages().isEmpty)
                let items = try copy.openDatabase("items")
                #expect(try copy.read { txn in try items.count(in: txn) } >= 1_000)
                try copy.close()
                try FileManager.default.removeItem(atPath: target)
                copies += 1
            }
            writing.store(false, ordering: .relaxed)
            while !prober.isFinished { usleep(1_000) }
            #expect(env.mapSize > 16 << 20)
        }
    }

    @Test("a repacked copy holds the same entries in every database, its leaf pages nearly full, in a smaller file")
    func repackedCopy() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(fileMode: 0o640))
            let names = ["shuffled", "ordered", "large", "empty"]
            let dbs = try names.map { try env.openDatabase($0) }
            var random = SeededGenerator(seed: 31)
            try env.write { txn throws in
                for index in (0..<20_000).shuffled(using: &random) {
                    try dbs[0].put([UInt8](repeating: UInt8(index % 200), count: 20 + index % 300),
                                   for: withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) }, in: txn)
                }
                for index in 0..<3_000 { try dbs[1].put(bytes("v\(index)"), for: bytes("k\(100_000 + index)"), in: txn) }
                for index in 0..<40 { try dbs[2].put([UInt8](repeating: 7, count: 1_000 + index * 500), for: bytes("big \(index)"), in: txn) }
            }
            // A reader holds its snapshot: writes made during the copy are not in it.
            try env.copyRepacked(to: dir + "/repacked")
            try env.write { txn throws in try dbs[1].put(bytes("late"), for: bytes("zzz"), in: txn) }

            let copy = try Environment(path: dir + "/repacked", configuration: .init(readOnly: true))
            #expect(try copy.databaseNames() == env.databaseNames())
            let copies = try names.map { try copy.openDatabase($0, create: false) }
            try env.read { txn throws in
                try copy.read { copyTxn throws in
                    for (db, copied) in zip(dbs, copies) {
                        let original = try collect(db, in: txn).filter { $0.0 != bytes("zzz") }
                        let repacked = try collect(copied, in: copyTxn)
                        #expect(original.map(\.0) == repacked.map(\.0) && original.map(\.1) == repacked.map(\.1))
                    }
                    let before = try dbs[0].spaceUsage(in: txn), after = try copies[0].spaceUsage(in: copyTxn)
                    #expect(before.leafFill < 0.8 && after.leafFill > 0.9, "\(before.leafFill) → \(after.leafFill)")
                    #expect(after.statistics.leafPages < before.statistics.leafPages)
                    #expect(try copies[2].spaceUsage(in: copyTxn).statistics.overflowPages == dbs[2].spaceUsage(in: txn).statistics.overflowPages)
                }
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/repacked/data.mdb")
            #expect((attributes[.posixPermissions] as? Int) == 0o640)
            let sourceSize = try FileManager.default.attributesOfItem(atPath: storePath(dir) + "/data.mdb")[.size] as? Int ?? 0
            #expect((attributes[.size] as? Int ?? .max) < sourceSize)

            // Refusals: a directory that holds a store; a database created with flags (nothing left behind).
            let error = #expect(throws: LMDBError.self) { try env.copyRepacked(to: dir + "/repacked") }
            #expect(error?.code == .fileExists)
            let other = try Environment(path: dir + "/other")
            let multi = try other.openDatabase("multi", flags: .dupSort)
            try other.write { txn throws in for value in ["a", "b"] { try multi.put(bytes(value), for: bytes("k"), in: txn) } }
            let refused = #expect(throws: LMDBError.self) { try other.copyRepacked(to: dir + "/refused") }
            #expect(refused?.code == .incompatible)
            #expect(!FileManager.default.fileExists(atPath: dir + "/refused/data.mdb"))
            // Opened afresh, the database's flags are not known beforehand: refused all the same.
            try other.close()
            let reopened = try Environment(path: dir + "/other")
            let again = #expect(throws: LMDBError.self) { try reopened.copyRepacked(to: dir + "/refused") }
            #expect(again?.code == .incompatible, "\(String(describing: again))")
            #expect(!FileManager.default.fileExists(atPath: dir + "/refused/data.mdb"))
        }
    }

    @Test("mdb_stat and mdb_dump read our stores")
    func stockTools() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            try Self.fill(env, db, count: 10)
            for (tool, arguments, expected) in [
                ("mdb_stat", ["-a", storePath(dir)], "Status of items"),
                ("mdb_dump", ["-p", "-s", "items", storePath(dir)], "key 100009"),
            ] {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/" + tool)
                process.arguments = arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                try process.run()
                let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                #expect(process.terminationStatus == 0, "\(tool) failed")
                #expect(output.contains(expected), "\(tool) printed: \(output)")
            }
        }
    }

    @Test("effectiveDurability reads each durability back from LMDB's flags")
    func durabilityReadBack() throws {
        try withTemporaryDirectory { dir in
            for durability in [Environment.Durability.durable, .noMetaSync, .noSync] {
                let env = try Environment(path: dir + "/\(durability)", configuration: .init(durability: durability))
                #expect(try env.effectiveDurability() == durability)
                try env.close()
                #expect(throws: LMDBError.self) { try env.effectiveDurability() }
            }
        }
    }

    @Test("a database created inside a write transaction rolls back with it, and is there once it commits")
    func databaseInTransaction() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            struct Refused: Error {}
            #expect(throws: Refused.self) {
                try env.write { txn in
                    let db = try txn.openDatabase("made-then-dropped")
                    try db.put(bytes("v"), for: bytes("k"), in: txn)
                    throw Refused()
                }
            }
            #expect(try !env.databaseNames().contains("made-then-dropped"))
            try env.write { txn in
                #expect(throws: LMDBError.self) { try txn.openDatabase("absent", create: false) }
            }
            try env.write { txn in try txn.openDatabase("kept").put(bytes("v"), for: bytes("k"), in: txn) }
            #expect(try env.databaseNames().contains("kept"))
            let kept = try env.openDatabase("kept", create: false)
            #expect(try env.read { txn in copy(try kept.get(bytes("k"), in: txn)) } == bytes("v"))
            try env.close()
        }
    }
}
