import TestSupport
import TimelineDocumentStore
import TimelineLMDB
import Foundation
import Testing

@Suite("Order-preserving key encodings")
struct KeyEncodingTests {
    static func encoded(_ value: some KeyEncodable) -> [UInt8] { KeyBytes(value).bytes }

    /// For every pair, value order equals byte order, and equal values give equal bytes.
    static func checkOrder<T: KeyEncodable & Comparable>(_ values: [T]) {
        for (a, b) in zip(values, values.shuffled()) {
            let (x, y) = (encoded(a), encoded(b))
            #expect((a < b) == x.lexicographicallyPrecedes(y), "\(a) vs \(b)")
            #expect((a == b) == (x == y))
        }
    }

    @Test("integers of every width, signed and unsigned")
    func integers() {
        var random = SeededGenerator(seed: 1)
        let edges: [Int64] = [.min, .min + 1, -256, -255, -1, 0, 1, 255, 256, .max - 1, .max]
        Self.checkOrder((0..<5_000).map { _ in Int64.random(in: .min ... .max, using: &random) } + edges + edges)
        Self.checkOrder((0..<5_000).map { _ in Int.random(in: -1000...1000, using: &random) })
        Self.checkOrder((0..<5_000).map { _ in Int32.random(in: .min ... .max, using: &random) })
        Self.checkOrder((0..<2_000).map { _ in Int16.random(in: .min ... .max, using: &random) })
        Self.checkOrder((-128...127).map { Int8($0) })
        Self.checkOrder((0..<5_000).map { _ in UInt64.random(in: 0 ... .max, using: &random) } + [0, .max])
        Self.checkOrder((0..<5_000).map { _ in UInt32.random(in: 0 ... .max, using: &random) })
        Self.checkOrder((0...255).map { UInt8($0) })
        #expect(Self.encoded(Int64(-1)) == [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Self.encoded(UInt16(0x0102)) == [0x01, 0x02])
    }

    @Test("strings: order, and no key is a prefix of another")
    func strings() {
        var random = SeededGenerator(seed: 2)
        let alphabet: [Character] = ["\u{0}", "\u{1}", "a", "b", "é", "水", "😀", "\u{7F}", "\u{FF}"]
        let values = (0..<5_000).map { _ in String((0..<Int.random(in: 0...6, using: &random)).map { _ in alphabet.randomElement(using: &random)! }) }
        for (a, b) in zip(values, values.shuffled()) {
            let (x, y) = (Self.encoded(a), Self.encoded(b))
            // Strings order by their UTF-8 bytes.
            #expect(Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) == x.lexicographicallyPrecedes(y))
            if a != b { #expect(!x.starts(with: y) && !y.starts(with: x), "\(a.debugDescription) / \(b.debugDescription)") }
        }
        #expect(Self.encoded("a\u{0}b") == [0x61, 0x00, 0xFF, 0x62, 0x00, 0x01])
    }

    @Test("composite keys sort part by part")
    func composites() {
        var random = SeededGenerator(seed: 3)
        let values: [(String, Int64)] = (0..<3_000).map { _ in
            (["", "a", "ab", "b", "a\u{0}"].randomElement(using: &random)!, Int64.random(in: -5...5, using: &random))
        }
        for (a, b) in zip(values, values.shuffled()) {
            let x = KeyBytes(a.0, a.1), y = KeyBytes(b.0, b.1)
            let valueOrder = Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8)) || (a.0 == b.0 && a.1 < b.1)
            #expect(valueOrder == (x < y))
        }
    }

    @Test("UUIDs, dates, doubles and booleans")
    func others() {
        var random = SeededGenerator(seed: 4)
        Self.checkOrder((0..<3_000).map { _ in Double.random(in: -1e12...1e12, using: &random) } + [-.infinity, -0.0, 0.0, 1e-300, .infinity])
        let dates = (0..<3_000).map { _ in Date(timeIntervalSince1970: Double(Int64.random(in: -5_000_000_000...5_000_000_000, using: &random)) / 1000) }
        Self.checkOrder(dates)
        // Dates no clock can show never trap: they clamp, and NaN sorts first.
        #expect(KeyBytes(Date(timeIntervalSince1970: .nan)) < KeyBytes(Date.distantPast))
        #expect(KeyBytes(Date(timeIntervalSince1970: 1e300)) == KeyBytes(Date(timeIntervalSince1970: .infinity)))
        #expect(KeyBytes(Date(timeIntervalSince1970: -1e300)) < KeyBytes(Date(timeIntervalSince1970: 0)))
        #expect(KeyBytes(false) < KeyBytes(true))
        let uuids = (0..<1_000).map { _ in UUID() }
        for (a, b) in zip(uuids, uuids.shuffled()) {
            let ab = withUnsafeBytes(of: a.uuid) { Array($0) }, bb = withUnsafeBytes(of: b.uuid) { Array($0) }
            #expect(ab.lexicographicallyPrecedes(bb) == (KeyBytes(a) < KeyBytes(b)))
        }
        // Descending reverses the order of a part.
        #expect(KeyBytes(Descending(Int64(5))) < KeyBytes(Descending(Int64(3))))
    }
}

@Suite("The examples in Docs/format.md")
struct FormatDocumentationTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined(separator: " ") }

    @Test("key encodings are the documented bytes")
    func keyExamples() {
        let uuid = UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!
        let cases: [(KeyBytes, String)] = [
            (KeyBytes(UInt64(7)), "00 00 00 00 00 00 00 07"),
            (KeyBytes(Int64(-1)), "7f ff ff ff ff ff ff ff"),
            (KeyBytes(Int64(1)), "80 00 00 00 00 00 00 01"),
            (KeyBytes(true), "01"),
            (KeyBytes("ab"), "61 62 00 01"),
            (KeyBytes("a\u{0}b"), "61 00 ff 62 00 01"),
            (KeyBytes(""), "00 01"),
            (KeyBytes(uuid), "e6 21 e1 f8 c3 6c 49 5a 93 fc 0c 24 7a 3e 6e 5f"),
            (KeyBytes(Date(timeIntervalSince1970: 1)), "80 00 00 00 3b 9a ca 00"),
            (KeyBytes(1.0), "bf f0 00 00 00 00 00 00"),
            (KeyBytes(-1.0), "40 0f ff ff ff ff ff ff"),
            (KeyBytes(Descending(Int64(1))), "7f ff ff ff ff ff ff fe"),
        ]
        for (key, expected) in cases { #expect(Self.hex(key.bytes) == expected) }
    }

    @Test("the envelope example is the documented bytes")
    func envelopeExample() throws {
        struct P: Codable { var n = 1 }
        try withTemporaryDirectory { dir in
            let store = try Store(path: dir + "/s")
            let ps = try store.collection("p", primaryKey: { (_: P) in KeyBytes(UInt8(0)) })
            try store.write { txn in try ps.put(P(), in: txn) }
            let raw = try store.read { txn in try ps.database.get([0], in: txn).map { Array($0) } }
            #expect(raw.map(Self.hex) == "54 01 01 a1 61 6e 01")
        }
    }

    @Test("KeyReader reads back every part KeyBytes writes, and refuses what does not fit")
    func keyReaderRoundTrips() {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            let id = UUID(), number = random.next(), signed = Int64(bitPattern: random.next()), flag = random.next() % 2 == 0
            let text = String((0..<Int(random.next() % 6)).map { _ in ["a", "\u{0}", "é", "z"][Int(random.next() % 4)] })
            let key = KeyBytes(text, flag, Descending(signed), id, number, signed)
            var reader = KeyReader(key.bytes)
            #expect(reader.read(String.self) == text && reader.read(Bool.self) == flag)
            #expect(reader.readDescending(Int64.self) == signed && reader.read(UUID.self) == id)
            #expect(reader.read(UInt64.self) == number && reader.read(Int64.self) == signed && reader.isAtEnd)
        }
        var short = KeyReader([0x01, 0x02])
        #expect(short.read(UInt64.self) == nil && short.read(UUID.self) == nil && short.remaining.count == 2)
        var unterminated = KeyReader(Array("abc".utf8) + [0x00])
        #expect(unterminated.read(String.self) == nil && unterminated.remaining.count == 4)
        var notBool = KeyReader([0x02])
        #expect(notBool.read(Bool.self) == nil)
    }
}
