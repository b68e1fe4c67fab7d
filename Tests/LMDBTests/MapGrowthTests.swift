import TestSupport
import Foundation
import TimelineLMDB
import Testing

@Suite("Map growth")
struct MapGrowthTests {
    static let valueSize = 64 << 10
    static let valueCount = 3_300  // 3,300 × 64 KiB ≈ 206 MiB

    /// A 64 KiB value whose bytes depend on `index`, so a mix-up would show.
    static func value(_ index: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: index &* 31), count: valueSize)
        withUnsafeBytes(of: UInt32(index).bigEndian) { bytes.replaceSubrange(0..<4, with: $0) }
        return bytes
    }

    static func key(_ index: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(index).bigEndian) { Array($0) } }

    static func verifyAll(_ env: Environment, _ db: Database) throws {
        try env.read { txn throws in
            #expect(try db.count(in: txn) == valueCount)
            for index in stride(from: 0, to: valueCount, by: 1) {
                let stored = try #require(try db.get(key(index), in: txn))
                let expected = value(index)
                let same = expected.withUnsafeBytes { $0.elementsEqual(stored) }
                if !same { Issue.record("value \(index) differs"); return }
            }
        }
    }

    @Test("a 1 MiB map grows to hold 200+ MiB written in many transactions")
    func manyTransactions() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(mapSize: 1 << 20, durability: .noSync))
            let db = try env.openDatabase("big")
            for index in 0..<Self.valueCount {
                try env.write { txn throws in try db.put(Self.value(index), for: Self.key(index), in: txn) }
            }
            #expect(env.mapSize >= Self.valueCount * Self.valueSize)
            try Self.verifyAll(env, db)
            try env.close()
            // Reopened with a tiny configured size, it keeps the size it grew to.
            let reopened = try Environment(path: storePath(dir), configuration: .init(mapSize: 1 << 20))
            #expect(reopened.mapSize >= Self.valueCount * Self.valueSize)
            try Self.verifyAll(reopened, try reopened.openDatabase("big"))
        }
    }

    @Test("a 1 MiB map grows to hold 200+ MiB written in one transaction")
    func oneTransaction() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(mapSize: 1 << 20, durability: .noSync))
            let db = try env.openDatabase("big")
            var runs = 0
            try env.write { txn throws in
                runs += 1
                for index in 0..<Self.valueCount { try db.put(Self.value(index), for: Self.key(index), in: txn) }
            }
            #expect(runs > 1, "the closure was retried after the map grew")
            try Self.verifyAll(env, db)
        }
    }

    @Test("a full map the closure swallows is still grown and retried")
    func swallowedMapFull() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(mapSize: 1 << 20, durability: .noSync))
            let db = try env.openDatabase("big")
            try env.write { txn throws in
                for index in 0..<64 { try? db.put(Self.value(index), for: Self.key(index), in: txn) }
            }
            try env.read { txn throws in #expect(try db.count(in: txn) == 64) }
        }
    }

    @Test("past maxMapSize a write fails with mapFull and the store stays as it was")
    func growthLimit() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(mapSize: 1 << 20, maxMapSize: 4 << 20))
            let db = try env.openDatabase("big")
            try env.write { txn throws in try db.put(Self.value(0), for: Self.key(0), in: txn) }
            let error = #expect(throws: LMDBError.self) {
                try env.write { txn throws in
                    for index in 1..<200 { try db.put(Self.value(index), for: Self.key(index), in: txn) }
                }
            }
            #expect(error?.code == .mapFull)
            #expect(error?.description.contains("maxMapSize") == true)
            try env.read { txn throws in #expect(try db.count(in: txn) == 1) }
            try env.write { txn throws in try db.put(bytes("small"), for: bytes("still writable"), in: txn) }
        }
    }

    @Test("maxMapSize below mapSize, or below LMDB's first 1 MiB, caps the map from the start; a cap between two steps is reached exactly")
    func capBelowStart() throws {
        try withTemporaryDirectory { dir in
            // The default first size (16 MiB) and a new file's recorded 1 MiB both pass a 64 KiB cap.
            let small = try Environment(path: storePath(dir) + "-small", configuration: .init(maxMapSize: 64 << 10))
            #expect(small.mapSize == 64 << 10)
            let db = try small.openDatabase("d")
            let error = #expect(throws: LMDBError.self) {
                try small.write { txn throws in try db.put([UInt8](repeating: 1, count: 100_000), for: bytes("big"), in: txn) }
            }
            #expect(error?.code == .mapFull && small.mapSize == 64 << 10, "\(String(describing: error)), map \(small.mapSize)")
            // From 1 MiB the next step is 2 MiB; a 1.5 MiB cap is still reached, not refused at 1 MiB.
            let odd = try Environment(path: storePath(dir) + "-odd", configuration: .init(mapSize: 1 << 20, maxMapSize: 3 << 19))
            let other = try odd.openDatabase("d")
            var written = 0
            do { while true { try odd.write { txn throws in try other.put(Self.value(written), for: Self.key(written), in: txn) }; written += 1 } }
            catch LMDBError.Code.mapFull {}
            #expect(odd.mapSize == 3 << 19 && written > 0)
            #expect(try odd.read { txn in try other.count(in: txn) } == written)
        }
    }

    @Test("growth needed while this thread holds a read transaction is an error, not a deadlock")
    func growthBlockedByOwnReader() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(mapSize: 1 << 20))
            let db = try env.openDatabase("big")
            let error = #expect(throws: LMDBError.self) {
                try env.read { _ in
                    try env.write { txn throws in
                        for index in 0..<100 { try db.put(Self.value(index), for: Self.key(index), in: txn) }
                    }
                }
            }
            #expect(error?.code == .growthBlocked)
            try env.read { txn throws in #expect(try db.count(in: txn) == 0) }
        }
    }

    @Test("growth waits for another thread's reader to finish")
    func growthWaitsForReaders() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(mapSize: 1 << 20, durability: .noSync))
            let db = try env.openDatabase("big")
            try env.write { txn throws in try db.put(bytes("old"), for: bytes("k"), in: txn) }
            let readerStarted = DispatchSemaphore(value: 0)
            let reader = Thread {
                try? env.read { txn throws in
                    readerStarted.signal()
                    usleep(300_000)
                    // The map cannot have moved under this reader: its buffer is still readable.
                    #expect(copy(try db.get(bytes("k"), in: txn)) == bytes("old"))
                }
            }
            reader.start()
            readerStarted.wait()
            try env.write { txn throws in
                for index in 0..<100 { try db.put(Self.value(index), for: Self.key(index), in: txn) }
            }
            try env.read { txn throws in #expect(try db.count(in: txn) == 101) }
        }
    }
}
