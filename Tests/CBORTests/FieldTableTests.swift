import TestSupport
import CBOR
import Testing

/// A record whose field names have every length the name matcher treats differently (empty,
/// 1–3 bytes, 4–7, exactly 8, 9–16, over 16) and share prefixes.
private struct Probe: Equatable, Codable, CBORRecordDecodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case empty = "", a, ab, abc, abcd, abcdefg, abcdefgh, abcdefghi, long = "abcdefghijklmnopq", unicode = "größe"
    }
    static let fields = CBORFields<CodingKeys>()

    var values: [CodingKeys: Int] = [:]

    init(values: [CodingKeys: Int]) { self.values = values }

    init(cbor reader: inout CBORItemReader) throws {
        var values: [CodingKeys: Int] = [:]
        try reader.readMap(Self.fields) { field, value in
            #expect(values[field] == nil, "each field is reported once")
            values[field] = try value.decode(Int.self)
        }
        self.values = values
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        for key in container.allKeys { values[key] = try container.decode(Int.self, forKey: key) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        for key in CodingKeys.allCases { if let value = values[key] { try container.encode(value, forKey: key) } }
    }
}

@Suite("CBORFields: matching map keys against a record's field names")
struct FieldTableTests {
    @Test("finds every field in any order, with fields missing and look-alike keys skipped")
    func matchesInAnyOrder() throws {
        var random = SeededGenerator(seed: 401)
        // Keys that differ from a field name in one byte (first, middle, last), in length, or in type.
        let decoys: [CBORValue] = [
            .text("b"), .text("ac"), .text("abd"), .text("xbcd"), .text("abcdefh"), .text("abcdefgi"),
            .text("abcdefghj"), .text("abcdefghijklmnopr"), .text("abcdefghijklmnop"), .text("grösse"),
            .text("abcdefghijklmnopqr"), .unsigned(1), .bytes([0x61]), .negative(0),
        ]
        for _ in 0..<3_000 {
            var model: [Probe.CodingKeys: Int] = [:]
            var entries: [CBORValue.MapEntry] = []
            for key in Probe.CodingKeys.allCases where Bool.random(using: &random) {
                let value = Int.random(in: -1_000...1_000, using: &random)
                model[key] = value
                entries.append(.init(.text(key.rawValue), value < 0 ? .negative(UInt64(-1 - value)) : .unsigned(UInt64(value))))
            }
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                entries.append(.init(decoys.randomElement(using: &random)!, .array([.text("skipped"), .map([])])))
            }
            if Bool.random(using: &random) { entries.shuffle(using: &random) }
            let bytes = try CBORValue.map(entries).encoded()
            #expect(try CBORDecoder().decode(Probe.self, from: bytes) == Probe(values: model))
            #expect(try decodeThroughCodable(Probe.self, bytes) == Probe(values: model))
        }
    }

    @Test("reads what CBOREncoder wrote, and damaged maps throw")
    func roundTripAndDamage() throws {
        let probe = Probe(values: Dictionary(uniqueKeysWithValues: Probe.CodingKeys.allCases.enumerated().map { ($1, $0 * 1_000) }))
        let bytes = try CBOREncoder().encode(probe)
        #expect(try CBORDecoder().decode(Probe.self, from: bytes) == probe)
        for cut in 1..<bytes.count {
            #expect(throws: DecodingError.self) { try CBORDecoder().decode(Probe.self, from: Array(bytes[..<cut])) }
        }
        #expect(throws: DecodingError.self) { try CBORDecoder().decode(Probe.self, from: [0x81, 0x00]) }  // an array, not a map
    }
}
