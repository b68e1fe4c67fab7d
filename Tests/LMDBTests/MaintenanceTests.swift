import TestSupport
import Foundation
import TimelineLMDB
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
