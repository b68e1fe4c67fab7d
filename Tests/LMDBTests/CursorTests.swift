import TestSupport
import TimelineLMDB
import Testing

@Suite("Cursor: moves and range scans")
struct CursorTests {
    /// An entry's key as text.
    static func key(_ entry: Entry) -> String { String(decoding: entry.key, as: UTF8.self) }

    /// Whether `a` sorts before `b` the way LMDB's default comparator does (memcmp, shorter first).
    static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }

    /// The model: which keys a range should yield.
    static func expected(_ keys: [[UInt8]], _ range: KeyRange, reverse: Bool) -> [[UInt8]] {
        let inside = keys.filter { key in
            let aboveLower: Bool = switch range.lower {
            case .unbounded: true
            case .included(let l): !less(key, l)
            case .excluded(let l): less(l, key)
            }
            let belowUpper: Bool = switch range.upper {
            case .unbounded: true
            case .included(let u): !less(u, key)
            case .excluded(let u): less(key, u)
            }
            return aboveLower && belowUpper
        }
        return reverse ? inside.reversed() : inside
    }

    @Test("every range shape, both directions, against a model (seeded random)")
    func rangesAgainstModel() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(durability: .noSync))
            let db = try env.openDatabase("keys")
            var random = SeededGenerator(seed: 7)
            // Short keys over a small alphabet, so bounds often hit keys exactly and prefixes nest.
            func randomKey(minimumLength: Int = 1) -> [UInt8] {
                (0..<Int.random(in: minimumLength...3, using: &random)).map { _ in [0x00, 0x41, 0x42, 0xFF][Int.random(in: 0..<4, using: &random)] }
            }
            var keys = Set<[UInt8]>()
            while keys.count < 60 { keys.insert(randomKey()) }
            let sorted = keys.sorted(by: Self.less)
            try env.write { txn throws in
                for key in sorted.shuffled(using: &random) { try db.put(key + [0x99], for: key, in: txn) }
            }
            try env.read { txn throws in
                for _ in 0..<1500 {
                    // Bounds may be empty (no key can be): LMDB refuses to seek one.
                    let a = randomKey(minimumLength: 0), b = randomKey(minimumLength: 0)
                    let ranges: [KeyRange] = [
                        .all, .halfOpen(a, b), .closed(a, b), .from(a), .after(a), .upTo(b), .through(b),
                        KeyRange(lower: .excluded(a), upper: .included(b)),
                        KeyRange(lower: .excluded(a), upper: .excluded(b)),
                    ]
                    for range in ranges {
                        for reverse in [false, true] {
                            let got = try collect(db, range, reverse: reverse, in: txn)
                            #expect(got.map(\.0) == Self.expected(sorted, range, reverse: reverse), "range \(range) reverse \(reverse)")
                            #expect(got.allSatisfy { $0.1 == $0.0 + [0x99] })
                        }
                    }
                }
            }
        }
    }

    @Test("prefix scans stop exactly at the end of the prefix, including 0xFF edges")
    func prefixes() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("keys")
            let keys: [[UInt8]] = [
                [0x01], [0x01, 0x00], [0x01, 0xFF], [0x01, 0xFF, 0xFF], [0x02],
                [0xFF], [0xFF, 0x00], [0xFF, 0xFF], [0xFF, 0xFF, 0x01],
                Array("session-1".utf8), Array("session-1/0".utf8), Array("session-10".utf8), Array("session-2".utf8),
            ]
            try env.write { txn throws in for key in keys { try db.put([1], for: key, in: txn) } }
            let sorted = keys.sorted(by: Self.less)
            try env.read { txn throws in
                let prefixes: [[UInt8]] = [[], [0x01], [0x01, 0xFF], [0xFF], [0xFF, 0xFF], [0x03], Array("session-1".utf8), Array("session-1/".utf8)]
                for prefix in prefixes {
                    let want = sorted.filter { $0.starts(with: prefix) }
                    #expect(try collect(db, .prefix(prefix), in: txn).map(\.0) == want, "prefix \(prefix)")
                    #expect(try collect(db, .prefix(prefix), reverse: true, in: txn).map(\.0) == want.reversed(), "prefix \(prefix) reversed")
                }
            }
        }
    }

    @Test("first, last, next, previous, seek and find")
    func moves() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("keys")
            try env.write { txn throws in
                for key in ["b", "d", "f"] { try db.put(bytes(key.uppercased()), for: bytes(key), in: txn) }
            }
            try env.read { txn throws in
                try db.withCursor(in: txn) { cursor throws in
                    #expect(copy(try cursor.first()?.key) == bytes("b"))
                    #expect(copy(try cursor.next()?.key) == bytes("d"))
                    #expect(copy(try cursor.current()?.value) == bytes("D"))
                    #expect(copy(try cursor.next()?.key) == bytes("f"))
                    #expect(try cursor.next() == nil)
                    #expect(copy(try cursor.last()?.key) == bytes("f"))
                    #expect(copy(try cursor.previous()?.key) == bytes("d"))
                    #expect(copy(try cursor.seek(bytes("c"))?.key) == bytes("d"))
                    #expect(copy(try cursor.seek(bytes("d"))?.key) == bytes("d"))
                    #expect(try cursor.seek(bytes("g")) == nil)
                    #expect(try cursor.find(bytes("c")) == nil)
                    #expect(copy(try cursor.find(bytes("f"))?.value) == bytes("F"))
                    #expect(copy(try cursor.first()?.key) == bytes("b"))
                    #expect(try cursor.previous() == nil)
                }
            }
        }
    }

    @Test("writing and deleting through a cursor")
    func cursorWrites() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("keys")
            try env.write { txn throws in
                try db.withCursor(in: txn) { cursor throws in
                    for i in 0..<10 { try cursor.put(bytes("v\(i)"), for: bytes("k\(i)"), flags: .append) }
                    let outOfOrder = #expect(throws: LMDBError.self) { try cursor.put(bytes("v"), for: bytes("a"), flags: .append) }
                    #expect(outOfOrder?.code == .keyExists)
                    // Delete every even key while walking.
                    var entry = try cursor.first()
                    var index = 0
                    while entry != nil {
                        if index % 2 == 0 {
                            try cursor.delete()
                            entry = try cursor.current()
                        } else {
                            entry = try cursor.next()
                        }
                        index += 1
                    }
                }
            }
            try env.read { txn throws in
                #expect(try collect(db, in: txn).map { String(decoding: $0.0, as: UTF8.self) } == ["k1", "k3", "k5", "k7", "k9"])
            }
        }
    }

    @Test("a cursor on no entry: current() is nil, delete() is misuse; the moves within a key's values keep to that key in a plain database")
    func onNoEntryAndPlainValues() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("plain")
            try env.write { txn throws in
                try db.withCursor(in: txn) { cursor throws in
                    #expect(try cursor.current() == nil)
                    #expect(try cursor.firstValue() == nil)
                    let unplaced = #expect(throws: LMDBError.self) { try cursor.delete() }
                    #expect(unplaced?.code == .misuse)
                    #expect(throws: LMDBError.self) { try cursor.valueCount() }
                    for i in 0..<3 { try cursor.put(bytes("v\(i)"), for: bytes("k\(i)")) }
                    // One value a key: the moves within its values stay on it (LMDB's next-value
                    // move went on to "k1"; its first- and last-value moves threw incompatible).
                    #expect(try cursor.first().map { Self.key($0) } == "k0")
                    #expect(try cursor.nextValue() == nil && cursor.previousValue() == nil)
                    #expect(try cursor.firstValue().map { Self.key($0) } == "k0" && cursor.lastValue().map { Self.key($0) } == "k0")
                    #expect(try cursor.valueCount() == 1)
                    // Deleting every entry through current(): nil once the database is empty, where
                    // LMDB says EINVAL.
                    var deleted = 0
                    _ = try cursor.first()
                    while try cursor.current() != nil { try cursor.delete(); deleted += 1 }
                    #expect(deleted == 3)
                    #expect(throws: LMDBError.self) { try cursor.delete() }
                }
            }
        }
    }

    @Test("integerKey databases scan in numeric order")
    func integerKeys() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let db = try env.openDatabase("numbers", flags: .integerKey)
            let numbers: [UInt64] = [300, 1, 70_000, 256, 2]
            try env.write { txn throws in
                for n in numbers { try withUnsafeBytes(of: n) { try db.put(bytes("\(n)"), for: $0, in: txn) } }
            }
            try env.read { txn throws in
                let scanned = try collect(db, in: txn).map { String(decoding: $0.1, as: UTF8.self) }
                #expect(scanned == numbers.sorted().map { "\($0)" })
                let low = withUnsafeBytes(of: UInt64(2)) { Array($0) }, high = withUnsafeBytes(of: UInt64(300)) { Array($0) }
                let middle = try collect(db, .closed(low, high), reverse: true, in: txn).map { String(decoding: $0.1, as: UTF8.self) }
                #expect(middle == ["300", "256", "2"])
            }
        }
    }
}
