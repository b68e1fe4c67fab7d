import TimelineCBOR
import Foundation
import Testing
import TestSupport

struct ToolCall: Codable, Equatable {
    var name: String
    var arguments: [String: String]
    var durationMs: Double?
}

enum Role: String, Codable, CaseIterable { case user, assistant, tool, system }

struct Turn: Codable, Equatable {
    var id: UUID
    var sequence: UInt64
    var role: Role
    var content: String
    var created: Date
    var inputTokens: Int
    var outputTokens: Int32?
    var cost: Double
    var tools: [ToolCall]
    var metadata: [String: String]
    var attachment: Data?
    var link: URL?
    var nested: [[Int8]]
    var flags: Set<String>
    var score: Float
    var delta: Int64
}

func randomString(_ random: inout SeededGenerator) -> String {
    let pool: [Character] = ["a", "b", "Z", " ", "é", "水", "😀", "\n", "\"", "\\", "\u{0}", "𐅑"]
    return String((0..<Int.random(in: 0...20, using: &random)).map { _ in pool.randomElement(using: &random)! })
}

func randomTurn(_ random: inout SeededGenerator) -> Turn {
    Turn(
        id: UUID(),
        sequence: UInt64.random(in: 0...UInt64.max, using: &random),
        role: Role.allCases.randomElement(using: &random)!,
        content: randomString(&random),
        created: Date(timeIntervalSince1970: Bool.random(using: &random)
            ? Double(Int.random(in: -1_000_000_000...4_000_000_000, using: &random))
            : Double.random(in: -1e9...4e9, using: &random)),
        inputTokens: Int.random(in: Int.min...Int.max, using: &random),
        outputTokens: Bool.random(using: &random) ? Int32.random(in: .min ... .max, using: &random) : nil,
        cost: [0.0, -0.0, 1.5, 0.1, 1e300, -2.5e-10, .infinity, Double.random(in: -1e6...1e6, using: &random)].randomElement(using: &random)!,
        tools: (0..<Int.random(in: 0...3, using: &random)).map { _ in
            ToolCall(name: randomString(&random),
                     arguments: Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0...4, using: &random)).map { ("k\($0)", randomString(&random)) }),
                     durationMs: Bool.random(using: &random) ? Double.random(in: 0...1000, using: &random) : nil)
        },
        metadata: Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0...30, using: &random)).map { ("key\($0)", randomString(&random)) }),
        attachment: Bool.random(using: &random) ? Data((0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }) : nil,
        link: Bool.random(using: &random) ? URL(string: "https://example.com/a?b=\(Int.random(in: 0...99, using: &random))") : nil,
        nested: (0..<Int.random(in: 0...30, using: &random)).map { _ in (0..<Int.random(in: 0...3, using: &random)).map { _ in Int8.random(in: .min ... .max, using: &random) } },
        flags: Set((0..<Int.random(in: 0...3, using: &random)).map { "f\($0)" }),
        score: Float.random(in: -100...100, using: &random),
        delta: Int64.random(in: .min ... .max, using: &random)
    )
}

@Suite("Codable round trips")
struct CodableTests {
    @Test("seeded random nested structs round-trip exactly")
    func randomRoundTrips() throws {
        var random = SeededGenerator(seed: 2026)
        for _ in 0..<2_000 {
            let turn = randomTurn(&random)
            let bytes = try CBOREncoder().encode(turn)
            let back = try CBORDecoder().decode(Turn.self, from: bytes)
            #expect(back == turn)
            // Every encoding is well-formed CBOR that the generic reader accepts, and re-encodes the same.
            #expect(try CBORValue(decoding: bytes).encoded() == bytes)
        }
    }

    @Test("encoding is deterministic: dictionaries are sorted, whatever their iteration order")
    func deterministic() throws {
        let keys = (0..<200).map { "key-\($0)" }
        var first: [String: Int] = [:]
        for (index, key) in keys.enumerated() { first[key] = index }
        var second: [String: Int] = [:]
        for (index, key) in keys.enumerated().reversed() { second[key] = index }
        #expect(try CBOREncoder().encode(first) == CBOREncoder().encode(second))
        let value = try CBORValue(decoding: try CBOREncoder().encode(["bb": 1, "a": 2, "c": 3, "aaa": 4]))
        #expect(value == .map([.init(.text("a"), .unsigned(2)), .init(.text("c"), .unsigned(3)), .init(.text("bb"), .unsigned(1)), .init(.text("aaa"), .unsigned(4))]))
        let intKeyed = try CBORDecoder().decode([Int: String].self, from: try CBOREncoder().encode([10: "x", 2: "y"]))
        #expect(intKeyed == [10: "x", 2: "y"])
    }

    @Test("special types use their tags; whole dates are integers")
    func specialTypes() throws {
        let uuid = UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!
        #expect(try CBORValue(decoding: CBOREncoder().encode(uuid)) == .tagged(37, .bytes(Array(withUnsafeBytes(of: uuid.uuid) { Array($0) }))))
        #expect(try CBORValue(decoding: CBOREncoder().encode(Date(timeIntervalSince1970: 1_363_896_240))) == .tagged(1, .unsigned(1_363_896_240)))
        #expect(try CBORValue(decoding: CBOREncoder().encode(Date(timeIntervalSince1970: 1.5))) == .tagged(1, .float(1.5)))
        #expect(try CBORValue(decoding: CBOREncoder().encode(URL(string: "http://www.example.com")!)) == .tagged(32, .text("http://www.example.com")))
        #expect(try CBOREncoder().encode(Data([1, 2, 3])) == [0x43, 1, 2, 3])
        #expect(try CBOREncoder().encode(Optional<Int>.none) == [0xF6])
        #expect(try CBOREncoder().encode([Int?.none, 1]) == [0x82, 0xF6, 0x01])
        #expect(try CBOREncoder().encode(1.5) == [0xF9, 0x3E, 0x00])
        #expect(try CBOREncoder().encode(Float(100000.0)) == [0xFA, 0x47, 0xC3, 0x50, 0x00])
        #expect(try CBOREncoder().encode(-1) == [0x20])
    }

    @Test("large containers get multi-byte heads")
    func largeContainers() throws {
        let big = (0..<70_000).map { $0 }
        let bytes = try CBOREncoder().encode(big)
        #expect(Array(bytes.prefix(5)) == [0x9A, 0x00, 0x01, 0x11, 0x70])
        #expect(try CBORDecoder().decode([Int].self, from: bytes) == big)
        struct Wide: Codable, Equatable { var items: [String: [Int]] }
        let wide = Wide(items: Dictionary(uniqueKeysWithValues: (0..<300).map { ("k\($0)", Array(0..<$0 % 30)) }))
        #expect(try CBORDecoder().decode(Wide.self, from: CBOREncoder().encode(wide)) == wide)
    }

    @Test("unknown keys are ignored; a missing field and a wrong type throw with the coding path")
    func forwardCompatibility() throws {
        struct V2: Codable { var title: String; var extra: [Int]; var count: Int }
        struct V1: Codable, Equatable { var count: Int; var title: String }
        let v2 = try CBOREncoder().encode(V2(title: "t", extra: [1, 2], count: 3))
        #expect(try CBORDecoder().decode(V1.self, from: v2) == V1(count: 3, title: "t"))

        struct NeedsMore: Codable { var title: String; var missing: Int }
        #expect {
            try CBORDecoder().decode(NeedsMore.self, from: v2)
        } throws: { error in
            guard case DecodingError.keyNotFound(let key, _) = error else { return false }
            return key.stringValue == "missing"
        }
        struct WrongType: Codable { var title: Int }
        #expect {
            try CBORDecoder().decode(WrongType.self, from: v2)
        } throws: { error in
            guard case DecodingError.typeMismatch(_, let context) = error else { return false }
            return context.codingPath.map(\.stringValue) == ["title"]
        }
        struct Small: Codable { var count: Int8 }
        let big = try CBOREncoder().encode(["count": 300])
        #expect(throws: DecodingError.self) { try CBORDecoder().decode(Small.self, from: big) }
    }

    @Test("CBORValue is Codable through CBOR and through JSON")
    func cborValueCodable() throws {
        struct Envelope: Codable, Equatable { var meta: CBORValue; var name: String }
        let meta = CBORValue.map([.init(.text("n"), .negative(4)), .init(.text("list"), .array([.bool(true), .null, .float(2.5)]))])
        let value = Envelope(meta: meta, name: "x")
        #expect(try CBORDecoder().decode(Envelope.self, from: CBOREncoder().encode(value)) == value)
        // Through JSON, with one key per map (JSON decoders do not keep key order).
        let plain = Envelope(meta: .map([.init(.text("list"), .array([.bool(true), .null, .float(2.5), .negative(3), .text("s")]))]), name: "y")
        #expect(try JSONDecoder().decode(Envelope.self, from: JSONEncoder().encode(plain)) == plain)
    }

    @Test("class inheritance through superEncoder round-trips")
    func superEncoder() throws {
        class Base: Codable { var a = 1 }
        final class Derived: Base {
            var b = "two"
            enum Keys: String, CodingKey { case b }
            override init() { super.init() }
            required init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Keys.self)
                b = try container.decode(String.self, forKey: .b)
                try super.init(from: container.superDecoder())
            }
            override func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                try super.encode(to: container.superEncoder())
                try container.encode(b, forKey: .b)
            }
        }
        let derived = Derived()
        derived.a = 41
        derived.b = "changed"
        let back = try CBORDecoder().decode(Derived.self, from: CBOREncoder().encode(derived))
        #expect(back.a == 41 && back.b == "changed")
    }
}
