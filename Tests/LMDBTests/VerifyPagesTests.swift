import TestSupport
import Foundation
import TimelineLMDB
import Testing

@Suite("verifyPages: the page walk that keeps LMDB inside the file")
struct VerifyPagesTests {
    /// A store of every shape LMDB writes: deep trees, overflow values, duplicate values in
    /// sub-pages and sub-trees, fixed-size duplicates, many named databases, and free pages left by
    /// deletes.
    static func populate(_ env: Environment, seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let plain = try env.openDatabase("plain")
        let dups = try env.openDatabase("dups", flags: .dupSort)
        let fixed = try env.openDatabase("fixed", flags: [.dupSort, .dupFixed])
        let many = try (0..<20).map { try env.openDatabase("db\($0)") }
        try env.write { txn in
            for index in 0..<3_000 {
                let size = index % 97 == 0 ? 20_000 + Int(random.next() % 50_000) : Int(random.next() % 300)
                try plain.put([UInt8](repeating: UInt8(truncatingIfNeeded: index), count: size), for: bytes("key \(index)"), in: txn)
            }
            for key in 0..<200 {
                for value in 0..<(key % 7 == 0 ? 400 : 3) { try dups.put(bytes("v\(value)"), for: bytes("k\(key)"), in: txn) }
                for value in 0..<(key % 5 == 0 ? 600 : 2) {
                    var number = UInt64(value).bigEndian
                    try fixed.put(withUnsafeBytes(of: &number) { Array($0) }, for: bytes("k\(key)"), in: txn)
                }
            }
            for (number, db) in many.enumerated() { try db.put(bytes("\(number)"), for: bytes("only"), in: txn) }
        }
        try env.write { txn in
            for index in stride(from: 0, to: 3_000, by: 3) { try plain.delete(bytes("key \(index)"), in: txn) }
        }
    }

    @Test("healthy stores of every shape verify clean, from a read-write and a read-only environment")
    func healthy() throws {
        try withTemporaryDirectory { dir in
            for seed in [UInt64(1), 2, 3] {
                let path = dir + "/store\(seed)"
                let env = try Environment(path: path)
                #expect(try env.verifyPages().isEmpty)
                try Self.populate(env, seed: seed)
                let problems = try env.verifyPages()
                #expect(problems.isEmpty, "\(problems.prefix(5))")
                try env.close()
                let readOnly = try Environment(path: path, configuration: .init(readOnly: true))
                #expect(try readOnly.verifyPages().isEmpty)
                try readOnly.close()
            }
        }
    }

    @Test("a damaged page number, node offset or free-space bound on any tree page is reported")
    func damage() throws {
        try withTemporaryDirectory { dir in
            // A compact copy holds no free pages: every tree page in it is reachable.
            let env = try Environment(path: dir + "/source")
            try Self.populate(env, seed: 9)
            let path = storePath(dir)
            try env.copy(to: path, compact: true)
            try env.close()
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")))
            let pageSize = 4096
            // Pages in use that are tree pages (branch 0x01 or leaf 0x02, header naming themselves).
            let treePages = (2..<(original.count / pageSize)).filter { page in
                let base = page * pageSize
                let number = original[base..<base + 8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                let flags = original[base + 10..<base + 12].withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) }
                return number == UInt64(page) && (flags == 0x01 || flags == 0x02)
            }
            try #require(treePages.count > 10)
            var random = SeededGenerator(seed: 42)
            for (round, page) in treePages.shuffled(using: &random).prefix(30).enumerated() {
                var damaged = original
                let base = page * pageSize
                switch round % 3 {
                case 0: damaged[base] ^= 0x5A                                   // the header's page number
                case 1: damaged[base + 16] = 0xFF; damaged[base + 17] = 0xFF    // the first node offset
                default: damaged[base + 12] = 0x00; damaged[base + 13] = 0x00   // the lower bound
                }
                try Data(damaged).write(to: URL(fileURLWithPath: path + "/data.mdb"))
                let reopened = try Environment(path: path, configuration: .init(readOnly: true))
                let problems = try reopened.verifyPages()
                try reopened.close()
                #expect(!problems.isEmpty, "round \(round): damage to page \(page) went unreported")
                #expect(problems.contains { $0.page == UInt64(page) } || round % 3 == 0, "round \(round): \(problems)")
            }
        }
    }

    @Test("a page the free list offers while a tree uses it is reported (a writer would reuse a live page)")
    func freeListOverlap() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let env = try Environment(path: path)
            try Self.populate(env, seed: 5)
            try env.close()
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")))
            func word(_ at: Int) -> UInt64 { bytes[at..<at + 8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } }
            // The current meta page (the larger transaction id), its free list's root and the main database's root.
            let meta = word(144) > word(4096 + 144) ? 0 : 4096
            let freeRoot = Int(word(meta + 80)), mainRoot = word(meta + 128)
            let leaf = freeRoot * 4096
            try #require(bytes[leaf + 10] & 0x02 != 0, "the free list's root is a leaf in this small store")
            // Its first node's value: a page count, then the pages. Offer the main root as free.
            let node = leaf + Int(bytes[leaf + 16..<leaf + 18].withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) })
            let keySize = Int(bytes[node + 6..<node + 8].withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) })
            let value = node + 8 + keySize
            try #require(word(value) >= 1)
            withUnsafeBytes(of: mainRoot) { bytes.replaceSubrange(value + 8..<value + 16, with: $0) }
            try Data(bytes).write(to: URL(fileURLWithPath: path + "/data.mdb"))
            let reopened = try Environment(path: path, configuration: .init(readOnly: true))
            let problems = try reopened.verifyPages()
            try reopened.close()
            #expect(problems.contains { $0.database == "(free list)" && $0.detail.contains("a tree uses it") }, "\(problems)")
        }
    }
}
