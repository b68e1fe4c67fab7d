import Foundation
import Testing
import TimelineCBOR

/// A record with field ids, one field left to its key (`owner`, id -1), and a nested record.
struct CompactEntry: Codable, Equatable, CBORRecordDecodable {
    var owner: UUID
    var title: String
    var count: Int
    var note: String?
    var parts: [Part]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case owner, title, count, note, parts
        var intValue: Int? { switch self { case .owner: -1; case .title: 0; case .count: 1; case .note: 2; case .parts: 30 } }
        init?(intValue: Int) { guard let field = Self.allCases.first(where: { $0.intValue == intValue }) else { return nil }; self = field }
    }
    static let fields = CBORFields<CodingKeys>()

    struct Part: Codable, Equatable, CBORRecordDecodable {
        var name: String
        enum CodingKeys: String, CodingKey, CaseIterable {
            case name
            var intValue: Int? { 0 }
            init?(intValue: Int) { if intValue == 0 { self = .name } else { return nil } }
        }
        static let fields = CBORFields<CodingKeys>()
        init(name: String) { self.name = name }
        init(cbor reader: inout CBORItemReader) throws {
            var name: String?
            try reader.readMap(Self.fields) { _, value in name = try value.decode(String.self) }
            guard let name else { throw CBORItemReader.missingField("name", in: Part.self) }
            self.name = name
        }
    }

    init(owner: UUID, title: String, count: Int, note: String?, parts: [Part]) {
        (self.owner, self.title, self.count, self.note, self.parts) = (owner, title, count, note, parts)
    }

    /// The owner is required in the text form and left to the key (zero here) in the compact one.
    init(cbor reader: inout CBORItemReader) throws {
        var owner: UUID?, title: String?, count: Int?, note: String?, parts: [Part] = []
        let compact = try reader.readMap(Self.fields) { field, value in
            switch field {
            case .owner: owner = try value.decode(UUID.self)
            case .title: title = try value.decode(String.self)
            case .count: count = try value.decode(Int.self)
            case .note: note = value.decodeNil() ? nil : try value.decode(String.self)
            case .parts: try value.readArray { parts.append(try Part(cbor: &$0)) }
            }
        }
        guard let owner = owner ?? (compact ? noOne : nil), let title, let count else {
            throw CBORItemReader.missingField("owner, title or count", in: CompactEntry.self)
        }
        self.init(owner: owner, title: title, count: count, note: note, parts: parts)
    }
}

@Suite("The compact form: field ids for names, key fields left out")
struct CompactFormTests {
    let entry = CompactEntry(owner: UUID(), title: "plan", count: 3, note: nil, parts: [.init(name: "a"), .init(name: "b")])

    @Test("the compact encoder writes ids, leaves out id -1, and keeps text keys elsewhere; both forms read back")
    func encodesAndReads() throws {
        let compact = try CBOREncoder(fieldIDs: true).encode(entry)
        let named = try CBOREncoder().encode(entry)
        #expect(compact.count < named.count)
        guard case .map(let entries) = try CBORValue(decoding: compact) else { Issue.record("not a map"); return }
        #expect(entries.map(\.key) == [.unsigned(0), .unsigned(1), .unsigned(30)])   // nil `note` left out by synthesized code
        #expect(entries[2].value == .array([.map([CBORValue.MapEntry(.unsigned(0), .text("a"))]), .map([CBORValue.MapEntry(.unsigned(0), .text("b"))])]))
        // Exactly: map of 3, key 0 "plan", key 1 3, key 30 (one-byte argument) and an array of 2.
        #expect(Array(compact.prefix(12)) == [0xA3, 0x00, 0x64] + Array("plan".utf8) + [0x01, 0x03, 0x18, 0x1E, 0x82])
        var back = try CBORDecoder().decode(CompactEntry.self, from: compact)
        #expect(back.owner == noOne)
        back.owner = entry.owner
        #expect(back == entry)
        #expect(try CBORDecoder().decode(CompactEntry.self, from: named) == entry)
        // The text form without the owner is refused, as `Decodable` refuses it.
        var ownerless = try CBORValue(decoding: named)
        ownerless["owner"] = nil
        #expect(throws: DecodingError.self) { try CBORDecoder().decode(CompactEntry.self, from: ownerless.encoded()) }
        // Keys without an int value (a dictionary's) stay text.
        #expect(try CBOREncoder(fieldIDs: true).encode(["k": 1]) == CBOREncoder().encode(["k": 1]))
    }

    @Test("a view finds fields by id or by name, in any order, and skips unknown ids")
    func viewsFindIDs() throws {
        var value = try CBORValue(decoding: CBOREncoder(fieldIDs: true).encode(entry))
        value[fieldID: 200] = .text("from a newer writer")
        for bytes in [value.encoded(), try CBOREncoder().encode(entry)] {
            try bytes.withUnsafeBytes { buffer in
                var view = try CBORMapView(buffer, fields: CompactEntry.fields)
                #expect(try view.decode(.count, as: Int.self) == 3)
                #expect(try view.decode(.title, as: String.self) == "plan")
                #expect(try view.decode(.note, as: String.self) == nil)
                #expect(try view.contains(.parts))
            }
        }
        #expect(value[fieldID: 0] == .text("plan"))
    }

    @Test("the quick walk's typed reads: a value where the walk reads it, an absent field, another form or text keys undecided, a field behind the walk read again")
    func typedReads() throws {
        func value<Value>(_ reading: CBORCompactScan.Reading<Value>) -> Value? { if case .value(let value) = reading { value } else { nil } }
        func isAbsent<Value>(_ reading: CBORCompactScan.Reading<Value>) -> Bool { if case .absent = reading { true } else { false } }
        func isUndecided<Value>(_ reading: CBORCompactScan.Reading<Value>) -> Bool { if case .undecided = reading { true } else { false } }
        let id = UUID(), date = Date(timeIntervalSince1970: 1_795_655_105.5)
        let map = CBORValue.map([
            .init(.unsigned(0), try CBORValue(decoding: CBOREncoder().encode(id))),
            .init(.unsigned(1), .text("assistant")),
            .init(.unsigned(2), try CBORValue(decoding: CBOREncoder().encode(date))),
            .init(.unsigned(4), .unsigned(340)),
            .init(.unsigned(5), .null),
            .init(.unsigned(6), .unsigned(70_000)),                      // four bytes: read the general way
            .init(.unsigned(7), .tagged(1, .unsigned(1_795_655_105))),   // whole seconds: the same
        ])
        try map.encoded().withUnsafeBytes { bytes in
            var scan = CBORCompactScan(bytes)
            #expect(value(scan.uuid(field: 0)) == id)
            #expect(value(scan.textBytes(field: 1)).map { String(decoding: $0, as: UTF8.self) } == "assistant")
            #expect(value(scan.date(field: 2)) == date)
            #expect(isAbsent(scan.optionalInt(field: 3)))
            #expect(value(scan.optionalInt(field: 4)) == .some(340))
            #expect(value(scan.optionalInt(field: 5)) == .some(nil))
            #expect(value(scan.optionalInt(field: 6)) == .some(70_000))
            #expect(value(scan.date(field: 7)) == Date(timeIntervalSince1970: 1_795_655_105))
            #expect(isAbsent(scan.date(field: 8)))
            #expect(value(scan.text(field: 1)) == "assistant")            // behind the walk: it starts again
            #expect(isUndecided(scan.date(field: 1)))                      // a text is no date
            #expect(isUndecided(scan.uuid(field: 24)))                     // not a field id
        }
        try CBOREncoder().encode(entry).withUnsafeBytes { bytes in     // text keys: not the compact form
            var scan = CBORCompactScan(bytes)
            #expect(isUndecided(scan.text(field: 0)))
            #expect(isUndecided(scan.optionalInt(field: 1)))
        }
    }

    @Test("JSON from the compact form carries the names, nested ones too, and the key's fields up front")
    func transcodesWithNames() throws {
        let names = JSONFieldNames(CompactEntry.CodingKeys.self, nested: [(.parts, JSONFieldNames(CompactEntry.Part.CodingKeys.self))])
        let compact = try CBOREncoder(fieldIDs: true).encode(entry)
        var json: [UInt8] = []
        try compact.withUnsafeBytes { _ = try CBORJSONTranscoder.append($0, to: &json, names: names, leading: Array(#""owner":"x""#.utf8)) }
        #expect(String(decoding: json, as: UTF8.self) == #"{"owner":"x","title":"plan","count":3,"parts":[{"name":"a"},{"name":"b"}]}"#)
        // A text-keyed map carries its fields itself: nothing is added.
        json = []
        try CBOREncoder().encode(entry).withUnsafeBytes { _ = try CBORJSONTranscoder.append($0, to: &json, names: names, leading: Array(#""owner":"x""#.utf8)) }
        #expect(String(decoding: json, as: UTF8.self).hasPrefix(#"{"owner":""# + entry.owner.uuidString))
        // Without names, ids are their decimal text.
        json = []
        try compact.withUnsafeBytes { _ = try CBORJSONTranscoder.append($0, to: &json) }
        #expect(String(decoding: json, as: UTF8.self).hasPrefix(#"{"0":"plan","1":3,"30":"#))
    }
}

/// The all-zero UUID: what a compact record reads as before its key fields are set.
private let noOne = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
