import TestSupport
import TimelineLMDB
import Testing

@Suite("Database.spaceUsage: where a database's bytes go")
struct SpaceUsageTests {
    @Test("the overflow pages it computes are LMDB's, for values of every size around the limit; bytes add up")
    func matchesLMDB() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("sizes")
            var random = SeededGenerator(seed: 77)
            // Sizes around the leaf limit (~2 KB), around one and two overflow pages, and large.
            let sizes = [0, 1, 100, 1_000, 2_000, 2_014, 2_015, 2_016, 2_030, 2_040, 2_100, 4_000, 4_080, 4_081, 4_096, 8_176, 8_177, 50_000]
                + (0..<300).map { _ in Int.random(in: 0...12_000, using: &random) }
            var keyBytes = 0, valueBytes = 0
            try env.write { txn throws in
                for (index, size) in sizes.enumerated() {
                    let key = bytes("key \(index) " + String(repeating: "k", count: index % 40))
                    keyBytes += key.count
                    valueBytes += size
                    try db.put([UInt8](repeating: UInt8(index % 251), count: size), for: key, in: txn)
                }
            }
            let usage = try env.read { txn throws in try db.spaceUsage(in: txn) }
            #expect(usage.statistics.entries == sizes.count)
            #expect(usage.overflowPagesNeeded == usage.statistics.overflowPages && usage.statistics.overflowPages > 0)
            #expect(usage.keyBytes == keyBytes && usage.inlineValueBytes + usage.overflowValueBytes == valueBytes)
            #expect(usage.overflowValues > 0 && usage.overflowValues < sizes.count)
            #expect(usage.leafFill > 0 && usage.leafFill <= 1)
            #expect(usage.overflowBytesUnused >= 0 && usage.overflowBytesUnused < usage.overflowValues * usage.statistics.pageSize)
            // Keys written in order fill their pages further than keys written at random.
            let ordered = try env.openDatabase("ordered"), shuffled = try env.openDatabase("shuffled")
            let keys = (0..<3_000).map { index in withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) } }
            try env.write { txn throws in
                for key in keys { try ordered.put([UInt8](repeating: 1, count: 100), for: key, in: txn) }
                for key in keys.shuffled(using: &random) { try shuffled.put([UInt8](repeating: 1, count: 100), for: key, in: txn) }
            }
            let (inOrder, atRandom) = try env.read { txn throws in (try ordered.spaceUsage(in: txn), try shuffled.spaceUsage(in: txn)) }
            #expect(inOrder.leafBytesUsed == atRandom.leafBytesUsed && inOrder.leafBytesUsed == 3_000 * (8 + 8 + 100 + 2))
            #expect(inOrder.leafFill > atRandom.leafFill, "\(inOrder.leafFill) vs \(atRandom.leafFill)")
            let empty = try env.openDatabase("empty")
            #expect(try env.read { txn throws in try empty.spaceUsage(in: txn) }.leafFill == 0)
        }
    }

    @Test("a dupSort database is refused with misuse")
    func dupSortRefused() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("multi", flags: .dupSort)
            try env.write { txn throws in try db.put(bytes("a"), for: bytes("k"), in: txn) }
            let error = #expect(throws: LMDBError.self) { try env.read { txn throws in try db.spaceUsage(in: txn) } }
            #expect(error?.code == .misuse)
            // Opened afresh without its flags, LMDB still keeps its values sorted per key: refused all the same.
            try env.close()
            let reopened = try Environment(path: storePath(dir))
            let plain = try reopened.openDatabase("multi", create: false)
            #expect(try reopened.read { txn throws in try plain.storedFlags(in: txn) } == .dupSort)
            let again = #expect(throws: LMDBError.self) { try reopened.read { txn throws in try plain.spaceUsage(in: txn) } }
            #expect(again?.code == .misuse)
        }
    }
}
