import TestSupport
import TimelineLMDB
import Testing

@Suite("Database: put, get, delete")
struct DatabaseTests {
    @Test("put, get, overwrite and delete")
    func putGetDelete() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            try env.write { txn throws in
                try db.put(bytes("one"), for: bytes("a"), in: txn)
                try db.put(bytes("two"), for: bytes("b"), in: txn)
            }
            try env.read { txn throws in
                #expect(copy(try db.get(bytes("a"), in: txn)) == bytes("one"))
                #expect(copy(try db.get(bytes("b"), in: txn)) == bytes("two"))
                #expect(try db.get(bytes("c"), in: txn) == nil)
                #expect(try db.contains(bytes("a"), in: txn))
                #expect(try db.count(in: txn) == 2)
            }
            try env.write { txn throws in
                try db.put(bytes("uno"), for: bytes("a"), in: txn)
                #expect(try db.delete(bytes("b"), in: txn))
                #expect(try !db.delete(bytes("missing"), in: txn))
            }
            try env.read { txn throws in
                #expect(copy(try db.get(bytes("a"), in: txn)) == bytes("uno"))
                #expect(try db.get(bytes("b"), in: txn) == nil)
                #expect(try db.count(in: txn) == 1)
            }
        }
    }

    @Test("noOverwrite on a present key throws keyExists and keeps the old value")
    func noOverwrite() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            try env.write { txn throws in try db.put(bytes("first"), for: bytes("k"), in: txn) }
            let error = #expect(throws: LMDBError.self) {
                try env.write { txn throws in try db.put(bytes("second"), for: bytes("k"), flags: .noOverwrite, in: txn) }
            }
            #expect(error?.code == .keyExists)
            #expect(error?.description.contains("put into database \"items\"") == true)
            try env.read { txn throws in #expect(copy(try db.get(bytes("k"), in: txn)) == bytes("first")) }
        }
    }

    @Test("empty and oversized keys are refused with badValueSize")
    func keySizes() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            #expect(env.maxKeySize == 511)
            for key in [[UInt8](), [UInt8](repeating: 1, count: env.maxKeySize + 1)] {
                let error = #expect(throws: LMDBError.self) {
                    try env.write { txn throws in try db.put(bytes("v"), for: key, in: txn) }
                }
                #expect(error?.code == .badValueSize)
            }
            try env.write { txn throws in
                try db.put(bytes("max"), for: [UInt8](repeating: 2, count: env.maxKeySize), in: txn)
                try db.put([UInt8](), for: bytes("empty value"), in: txn)
            }
            try env.read { txn throws in
                #expect(copy(try db.get(bytes("empty value"), in: txn)) == [])
                #expect(try db.count(in: txn) == 1 + 1)
            }
            // A value past maxValueSize is refused at the put: LMDB took it and then failed the
            // commit with EIO, its word for the short write Linux makes of a write past 2 GiB − 4 KiB.
            // (A value of exactly maxValueSize commits and reads back: checked by hand, it writes 2 GiB.)
            #expect(env.maxValueSize == 2_147_479_536)
            let tooLong = env.maxValueSize + 1
            for put in ["reserving", "buffer", "cursor"] {
                let error = #expect(throws: LMDBError.self, "\(put)") {
                    try env.write { txn throws in
                        // Never read: the size is refused before LMDB sees the value.
                        let huge = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: 0x1000), count: tooLong)
                        switch put {
                        case "reserving": _ = try bytes("k").withUnsafeBytes { try db.put(reserving: tooLong, for: $0, in: txn) { _ in } }
                        case "buffer": try bytes("k").withUnsafeBytes { try db.put(huge, for: $0, in: txn) }
                        default: try db.withCursor(in: txn) { cursor throws in try cursor.put(huge, for: bytes("k")) }
                        }
                    }
                }
                #expect(error?.code == .badValueSize && "\(error!)".contains("maxValueSize"), "\(put)")
            }
            try env.read { txn throws in #expect(try db.count(in: txn) == 2) }
        }
    }

    @Test("an empty database reads as empty everywhere")
    func emptyDatabase() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("empty")
            try env.read { txn throws in
                #expect(try db.count(in: txn) == 0)
                #expect(try db.get(bytes("x"), in: txn) == nil)
                try db.withCursor(in: txn) { cursor throws in
                    #expect(try cursor.first() == nil)
                    #expect(try cursor.last() == nil)
                    #expect(try cursor.seek(bytes("a")) == nil)
                }
                for reverse in [false, true] {
                    for range in [KeyRange.all, .prefix(bytes("a")), .closed(bytes("a"), bytes("z"))] {
                        #expect(try collect(db, range, reverse: reverse, in: txn).isEmpty)
                    }
                }
            }
        }
    }

    @Test("dupSort keeps several sorted values per key")
    func dupSort() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("multi", flags: .dupSort)
            try env.write { txn throws in
                for value in ["c", "a", "b"] { try db.put(bytes(value), for: bytes("k1"), in: txn) }
                try db.put(bytes("z"), for: bytes("k2"), in: txn)
            }
            let error = #expect(throws: LMDBError.self) {
                try env.write { txn throws in try db.put(bytes("a"), for: bytes("k1"), flags: .noDupData, in: txn) }
            }
            #expect(error?.code == .keyExists)
            try env.read { txn throws in
                #expect(try db.count(in: txn) == 4)
                #expect(copy(try db.get(bytes("k1"), in: txn)) == bytes("a"))
                let all = try collect(db, in: txn).map { String(decoding: $0.0 + $0.1, as: UTF8.self) }
                #expect(all == ["k1a", "k1b", "k1c", "k2z"])
                let backwards = try collect(db, reverse: true, in: txn).map { String(decoding: $0.0 + $0.1, as: UTF8.self) }
                #expect(backwards == ["k2z", "k1c", "k1b", "k1a"])
                try db.withCursor(in: txn) { cursor throws in
                    #expect(copy(try cursor.find(bytes("k1"))?.value) == bytes("a"))
                    #expect(try cursor.valueCount() == 3)
                    #expect(copy(try cursor.lastValue()?.value) == bytes("c"))
                    #expect(copy(try cursor.lastValue()?.key) == bytes("k1"))
                    #expect(try cursor.nextValue() == nil)
                    #expect(copy(try cursor.previousValue()?.value) == bytes("b"))
                    #expect(copy(try cursor.firstValue()?.value) == bytes("a"))
                    #expect(copy(try cursor.nextKey()?.key) == bytes("k2"))
                    #expect(copy(try cursor.previousKey()?.value) == bytes("c"))
                    #expect(copy(try cursor.find(bytes("k1"), value: bytes("b"))?.value) == bytes("b"))
                    #expect(try cursor.find(bytes("k1"), value: bytes("bb")) == nil)
                    #expect(copy(try cursor.seek(bytes("k1"), value: bytes("bb"))?.value) == bytes("c"))
                }
                let k1Only = try collect(db, .closed(bytes("k1"), bytes("k1")), reverse: true, in: txn).map { $0.1 }
                #expect(k1Only == [bytes("c"), bytes("b"), bytes("a")])
                let afterK1 = try collect(db, .after(bytes("k1")), in: txn).map { $0.1 }
                #expect(afterK1 == [bytes("z")])
            }
            try env.write { txn throws in
                #expect(try db.delete(bytes("k1"), value: bytes("b"), in: txn))
                #expect(try !db.delete(bytes("k1"), value: bytes("b"), in: txn))
            }
            try env.read { txn throws in
                #expect(try collect(db, .prefix(bytes("k1")), in: txn).map { $0.1 } == [bytes("a"), bytes("c")])
            }
            try env.write { txn throws in #expect(try db.delete(bytes("k1"), in: txn)) }
            try env.read { txn throws in #expect(try db.count(in: txn) == 1) }
        }
    }

    @Test("reserve writes a value in place; a failing fill never commits")
    func reserve() throws {
        struct FillFailed: Error {}
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items")
            try env.write { txn throws in
                try bytes("key").withUnsafeBytes { key in
                    try db.put(reserving: 4, for: key, in: txn) { buffer in
                        buffer.copyBytes(from: [1, 2, 3, 4])
                    }
                }
            }
            try env.read { txn throws in #expect(copy(try db.get(bytes("key"), in: txn)) == [1, 2, 3, 4]) }
            // The caller swallows the fill's error: the commit must still be refused.
            let error = #expect(throws: LMDBError.self) {
                try env.write { txn throws in
                    try db.put(bytes("other"), for: bytes("other"), in: txn)
                    try? bytes("key").withUnsafeBytes { key in
                        try db.put(reserving: 8, for: key, in: txn) { _ in throw FillFailed() }
                    }
                }
            }
            #expect(error?.code == .poisoned)
            try env.read { txn throws in
                #expect(copy(try db.get(bytes("key"), in: txn)) == [1, 2, 3, 4])
                #expect(try db.get(bytes("other"), in: txn) == nil)
            }
            // Inside a nested transaction that aborts, the unfilled value goes with it: the parent
            // commits what it wrote (as group commit relies on, a failed job being rolled back alone).
            try env.write { txn throws in
                try db.put(bytes("parent"), for: bytes("parent"), in: txn)
                #expect(throws: FillFailed.self) {
                    try txn.nested { child throws in
                        try db.put(bytes("child"), for: bytes("child"), in: child)
                        try bytes("key").withUnsafeBytes { key in
                            try db.put(reserving: 8, for: key, in: child) { _ in throw FillFailed() }
                        }
                    }
                }
            }
            try env.read { txn throws in
                #expect(copy(try db.get(bytes("key"), in: txn)) == [1, 2, 3, 4])
                #expect(copy(try db.get(bytes("parent"), in: txn)) == bytes("parent"))
                #expect(try db.get(bytes("child"), in: txn) == nil)
            }
            // A child that swallows its own fill's error and commits still poisons the parent.
            let swallowed = #expect(throws: LMDBError.self) {
                try env.write { txn throws in
                    try txn.nested { child throws in
                        try? bytes("key").withUnsafeBytes { key in
                            try db.put(reserving: 8, for: key, in: child) { _ in throw FillFailed() }
                        }
                    }
                }
            }
            #expect(swallowed?.code == .poisoned)
            try env.read { txn throws in #expect(copy(try db.get(bytes("key"), in: txn)) == [1, 2, 3, 4]) }
        }
    }

    @Test("clear empties a database; drop removes it")
    func clearAndDrop() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let a = try env.openDatabase("a")
            let b = try env.openDatabase("b")
            try env.write { txn throws in
                for i in 0..<100 {
                    try a.put(bytes("\(i)"), for: bytes("key\(i)"), in: txn)
                    try b.put(bytes("\(i)"), for: bytes("key\(i)"), in: txn)
                }
            }
            #expect(try env.databaseNames() == ["a", "b"])
            try env.write { txn throws in try a.clear(in: txn) }
            try env.write { txn throws in try b.drop(in: txn) }
            #expect(try env.databaseNames() == ["a"])
            try env.read { txn throws in #expect(try a.count(in: txn) == 0) }
            let again = try env.openDatabase("b")
            try env.read { txn throws in #expect(try again.count(in: txn) == 0) }
        }
    }

    @Test("a handle whose database was dropped, or of another environment, is refused: it never reaches the database that took its slot")
    func staleHandles() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let a = try env.openDatabase("a")
            try env.write { txn throws in try a.put(bytes("1"), for: bytes("k"), in: txn) }
            try env.write { txn throws in try a.drop(in: txn) }
            // LMDB gives the dropped database's slot to the next one opened: a put through the old
            // handle used to land in "b".
            let b = try env.openDatabase("b")
            let stale = #expect(throws: LMDBError.self) { try env.write { txn throws in try a.put(bytes("9"), for: bytes("k"), in: txn) } }
            #expect(stale?.code == .misuse && "\(stale!)".contains("dropped"))
            #expect(throws: LMDBError.self) { try env.read { txn throws in try a.count(in: txn) } }
            #expect(throws: LMDBError.self) { try env.read { txn throws in try a.withCursor(in: txn) { _ in } } }
            try env.read { txn throws in #expect(try b.count(in: txn) == 0) }
            // Dropped and used in the same transaction; opened again by name, it works.
            #expect(throws: LMDBError.self) { try env.write { txn throws in try b.drop(in: txn); try b.put(bytes("1"), for: bytes("k"), in: txn) } }
            let again = try env.openDatabase("a")
            try env.write { txn throws in try again.put(bytes("2"), for: bytes("k"), in: txn) }
            #expect(try env.read { txn throws in try again.get(bytes("k"), in: txn).map(Array.init) } == bytes("2"))

            // A handle of another environment, whose slot there holds another database.
            let other = try Environment(path: storePath(dir + "/other"))
            let x = try other.openDatabase("x")
            #expect(throws: LMDBError.self) { try env.write { txn throws in try x.put(bytes("1"), for: bytes("k"), in: txn) } }
            #expect(try env.read { txn throws in try again.get(bytes("k"), in: txn).map(Array.init) } == bytes("2"))

            // The main database holds the named ones' records: clearing it is refused while it does.
            let main = try env.openDatabase(nil)
            let refused = #expect(throws: LMDBError.self) { try env.write { txn throws in try main.clear(in: txn) } }
            #expect(refused?.code == .misuse)
            // The drop of "b" above rolled back with its transaction: "b" is still there, its old
            // handle closed all the same (LMDB closes it at the drop), and opened again by name.
            #expect(try env.databaseNames() == ["a", "b"])
            let b2 = try env.openDatabase("b")
            try env.write { txn throws in try b2.put(bytes("3"), for: bytes("k"), in: txn) }
            #expect(try env.read { txn throws in try b2.count(in: txn) } == 1)
        }
    }

    @Test("data survives closing and reopening")
    func reopen() throws {
        try withTemporaryDirectory { dir in
            do {
                let env = try Environment(path: storePath(dir))
                let db = try env.openDatabase("items")
                try env.write { txn throws in try db.put(bytes("kept"), for: bytes("k"), in: txn) }
                try env.close()
                try env.close()
                let error = #expect(throws: LMDBError.self) { try env.read { _ in } }
                #expect(error?.code == .closed)
            }
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("items", create: false)
            try env.read { txn throws in #expect(copy(try db.get(bytes("k"), in: txn)) == bytes("kept")) }
            let info = try env.info()
            #expect(info.lastTransactionID >= 2)
            #expect(try env.statistics().pageSize > 0)
        }
    }
}
