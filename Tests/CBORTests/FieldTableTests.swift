import TestSupport
import TimelineCBOR
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

/// A map with a random subset of `Probe`'s fields (random values, some `null`), decoys, in random
/// order; and what each field holds in it (`nil`: absent or null).
private func randomProbeMap(_ random: inout SeededGenerator) -> (bytes: [UInt8], model: [Probe.CodingKeys: Int?]) {
    let decoys: [CBORValue] = [
        .text("b"), .text("ac"), .text("abd"), .text("xbcd"), .text("abcdefh"), .text("abcdefgi"),
        .text("abcdefghj"), .text("abcdefghijklmnopr"), .text("abcdefghijklmnop"), .text("grösse"),
        .text("abcdefghijklmnopqr"), .unsigned(1), .bytes([0x61]), .negative(0),
    ]
    var model: [Probe.CodingKeys: Int?] = [:]
    var entries: [CBORValue.MapEntry] = []
    for key in Probe.CodingKeys.allCases where Bool.random(using: &random) {
        let value = Int.random(in: -1_000...1_000, using: &random)
        let isNull = Int.random(in: 0..<8, using: &random) == 0
        model[key] = isNull ? .some(nil) : value
        let item: CBORValue = isNull ? .null : value < 0 ? .negative(UInt64(-1 - value)) : .unsigned(UInt64(value))
        entries.append(.init(.text(key.rawValue), item))
    }
    for _ in 0..<Int.random(in: 0...3, using: &random) {
        entries.append(.init(decoys.randomElement(using: &random)!, .array([.text("skipped"), .map([.init(.text("a"), .tagged(1, .float(1.5)))])])))
    }
    if Bool.random(using: &random) { entries.shuffle(using: &random) }
    return (CBORValue.map(entries).encoded(), model)
}

@Suite("CBORFields: matching map keys against a record's field names")
struct FieldTableTests {
    @Test("finds every field in any order, with fields missing and look-alike keys skipped")
    func matchesInAnyOrder() throws {
        var random = SeededGenerator(seed: 401)
        // Keys that differ from a field name in one byte (first, middle, last), in length, or in type.
        for _ in 0..<3_000 {
            let (bytes, withNulls) = randomProbeMap(&random)
            let model = withNulls.compactMapValues { $0 }
            guard withNulls.count == model.count else { continue }   // Probe's fields are not optional
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

@Suite("CBORMapView: fields read in place")
struct MapViewTests {
    @Test("any sequence of look-ups finds what the map holds, with missing fields, nulls and decoys")
    func lookUps() throws {
        var random = SeededGenerator(seed: 402)
        for _ in 0..<3_000 {
            let (bytes, model) = randomProbeMap(&random)
            try bytes.withUnsafeBytes { buffer in
                var view = try CBORMapView(buffer, fields: Probe.fields)
                for _ in 0..<Int.random(in: 1...12, using: &random) {
                    let field = Probe.CodingKeys.allCases.randomElement(using: &random)!
                    #expect(try view.decode(field, as: Int.self) == model[field] ?? nil)
                    #expect(try view.contains(field) == (model[field] != nil))
                }
            }
        }
    }

    @Test("damaged or mistyped input throws, never traps")
    func damage() throws {
        let probe = Probe(values: Dictionary(uniqueKeysWithValues: Probe.CodingKeys.allCases.enumerated().map { ($1, $0 * 1_000) }))
        let bytes = try CBOREncoder().encode(probe)
        try bytes.withUnsafeBytes { buffer in
            var view = try CBORMapView(buffer, fields: Probe.fields)
            #expect(try view.decode(.long, as: Int.self) == 8_000)
            #expect(throws: DecodingError.self) { try view.decode(.abc, as: String.self) }
        }
        #expect(throws: DecodingError.self) { try [0x81, 0x00].withUnsafeBytes { try CBORMapView($0, fields: Probe.fields) } }
        var random = SeededGenerator(seed: 403)
        for _ in 0..<5_000 {
            var damaged = Array(bytes[..<Int.random(in: 1...bytes.count, using: &random)])
            if Bool.random(using: &random) { damaged[Int.random(in: 0..<damaged.count, using: &random)] = .random(in: 0...255, using: &random) }
            damaged.withUnsafeBytes { buffer in
                guard var view = try? CBORMapView(buffer, fields: Probe.fields) else { return }
                for field in Probe.CodingKeys.allCases.shuffled(using: &random) { _ = try? view.decode(field, as: Int.self) }
            }
        }
    }
}
