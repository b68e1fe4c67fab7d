import TestSupport
import TimelineLMDB
import Testing

@Suite("Transactions: atomicity, nesting, misuse")
struct TransactionTests {
    struct Stop: Error {}

    @Test("a throw inside write leaves nothing behind")
    func throwAborts() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            try env.write { txn throws in try db.put(bytes("before"), for: bytes("a"), in: txn) }
            #expect(throws: Stop.self) {
                try env.write { txn throws in
                    try db.put(bytes("changed"), for: bytes("a"), in: txn)
                    for i in 0..<1000 { try db.put(bytes("x"), for: bytes("new\(i)"), in: txn) }
                    throw Stop()
                }
            }
            try env.read { txn throws in
                #expect(copy(try db.get(bytes("a"), in: txn)) == bytes("before"))
                #expect(try db.count(in: txn) == 1)
            }
        }
    }

    @Test("a nested transaction that throws leaves the parent's writes intact")
    func nestedAbort() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            try env.write { txn throws in
                try db.put(bytes("parent"), for: bytes("p"), in: txn)
                #expect(throws: Stop.self) {
                    try txn.nested { child throws in
                        try db.put(bytes("child"), for: bytes("c"), in: child)
                        try db.put(bytes("overwritten by child"), for: bytes("p"), in: child)
                        throw Stop()
                    }
                }
                #expect(copy(try db.get(bytes("p"), in: txn)) == bytes("parent"))
                try txn.nested { child throws in
                    try db.put(bytes("kept"), for: bytes("k"), in: child)
                    try child.nested { grandchild throws in try db.put(bytes("deep"), for: bytes("g"), in: grandchild) }
                }
            }
            try env.read { txn throws in
                #expect(copy(try db.get(bytes("p"), in: txn)) == bytes("parent"))
                #expect(try db.get(bytes("c"), in: txn) == nil)
                #expect(copy(try db.get(bytes("k"), in: txn)) == bytes("kept"))
                #expect(copy(try db.get(bytes("g"), in: txn)) == bytes("deep"))
            }
        }
    }

    @Test("a read transaction sees one snapshot while a writer commits")
    func snapshotIsolation() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            try env.write { txn throws in try db.put(bytes("1"), for: bytes("v"), in: txn) }
            try env.read { txn throws in
                // Writing from this thread inside a read is allowed (NOTLS) and does not leak in.
                try env.write { w throws in try db.put(bytes("2"), for: bytes("v"), in: w) }
                #expect(copy(try db.get(bytes("v"), in: txn)) == bytes("1"))
            }
            try env.read { txn throws in #expect(copy(try db.get(bytes("v"), in: txn)) == bytes("2")) }
        }
    }

    @Test("read transactions are reused: a thousand reads take a handful of reader slots")
    func readerReuse() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            try env.write { txn throws in try db.put(bytes("v"), for: bytes("k"), in: txn) }
            for round in 0..<1_000 {
                if round == 500 { try env.write { txn throws in try db.put(bytes("w"), for: bytes("k"), in: txn) } }
                let seen = try env.read { txn throws in copy(try db.get(bytes("k"), in: txn)) }
                #expect(seen == bytes(round < 500 ? "v" : "w"), "a renewed transaction must see the latest commit")
            }
            #expect(try env.info().readerSlotsUsed <= 9)
        }
    }

    @Test("misuse is an error, not a deadlock")
    func misuse() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            let nested = #expect(throws: LMDBError.self) {
                try env.write { _ in try env.write { _ in } }
            }
            #expect(nested?.code == .nestedWrite)
            let openInside = #expect(throws: LMDBError.self) {
                try env.read { _ in _ = try env.openDatabase("not-yet-open") }
            }
            #expect(openInside?.code == .misuse)
            // An already-open handle may be fetched anywhere.
            try env.read { _ throws in #expect(try env.openDatabase("items") == db) }
            let flags = #expect(throws: LMDBError.self) { try env.openDatabase("items", flags: .dupSort) }
            #expect(flags?.code == .incompatible)
            let main = #expect(throws: LMDBError.self) {
                try env.write { txn throws in try env.openDatabase(nil).drop(in: txn) }
            }
            #expect(main?.code == .misuse)
        }
    }
}
