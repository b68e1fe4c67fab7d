import TestSupport
import TimelineCBOR
import Foundation
import Testing

/// A record with more entries than a one-byte map head holds, a nested map, every kind of entry,
/// a field the compact form leaves out, and an `Encodable` field written through `encode(to:)`.
private struct Wide: Encodable, CBORRecordEncodable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(stringValue: String) { self.stringValue = stringValue }
        init(intValue: Int) { (stringValue, self.intValue) = ("\(intValue)", intValue) }
        init(_ name: String, id: Int?) { (stringValue, intValue) = (name, id) }
    }
    var numbers: [Int]
    var name: String?
    var when: Date
    var id: UUID
    var ratio: Double?
    var flag: Bool
    var tags: [String: String]
    var list: [Int8]

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(id, forKey: Key("id", id: -1))
        for (index, number) in numbers.enumerated() { try container.encode(number, forKey: Key("n\(index)", id: index + 10)) }
        try container.encodeIfPresent(name, forKey: Key("name", id: 1))
        try container.encode(when, forKey: Key("when", id: 2))
        try container.encodeIfPresent(ratio, forKey: Key("ratio", id: 3))
        var inner = container.nestedContainer(keyedBy: Key.self, forKey: Key("inner", id: 4))
        try inner.encode(flag, forKey: Key("flag", id: 0))
        try inner.encode(Int64(-5), forKey: Key("delta", id: 1))
        try container.encode(tags, forKey: Key("tags", id: 5))
        try container.encode(list, forKey: Key("list", id: 6))
    }

    func encode(cbor writer: inout CBORItemWriter) throws {
        let map = writer.beginMap()
        writer.entry(Key("id", id: -1), id)
        for (index, number) in numbers.enumerated() { writer.entry(Key("n\(index)", id: index + 10), number) }
        writer.entry(Key("name", id: 1), name)
        writer.entry(Key("when", id: 2), when)
        writer.entry(Key("ratio", id: 3), ratio)
        writer.key(Key("inner", id: 4))
        let inner = writer.beginMap()
        writer.entry(Key("flag", id: 0), flag)
        writer.entry(Key("delta", id: 1), Int64(-5))
        writer.endMap(inner)
        writer.entry(Key("tags", id: 5), tags)
        try writer.entry(Key("list", id: 6), encoding: list)
        writer.endMap(map)
    }
}

@Suite("CBOR: records that write themselves")
struct RecordEncodableTests {
    @Test("CBORItemWriter writes what CBOREncoder writes: map heads of every size, nesting, every entry kind, plain and compact")
    func writerMatchesEncoder() throws {
        var random = SeededGenerator(seed: 5)
        for count in [0, 1, 20, 21, 22, 23, 24, 250, 300] {
            let wide = Wide(
                numbers: (0..<count).map { _ in Int.random(in: Int.min...Int.max, using: &random) },
                name: Bool.random(using: &random) ? "ñame" : nil,
                when: Date(timeIntervalSince1970: [0, 1.5, -3, 1e12].randomElement(using: &random)!), id: UUID(),
                ratio: Bool.random(using: &random) ? [0.1, 65504, .infinity, -0.0].randomElement(using: &random)! : nil,
                flag: Bool.random(using: &random), tags: ["b": "2", "a": "1", "aa": "3"], list: [1, -2, 3]
            )
            for fieldIDs in [false, true] {
                var fast: [UInt8] = [0xFF]
                try CBOREncoder(fieldIDs: fieldIDs).encodeRecord(wide, appendingTo: &fast)
                #expect(Array(fast.dropFirst()) == (try CBOREncoder(fieldIDs: fieldIDs).encode(wide)), "\(count) numbers, field ids \(fieldIDs)")
            }
        }
    }

    @Test("a map left open, closed out of order, closed twice or closed with another writer's start makes the encoding throw, never trap")
    func misuseThrows() throws {
        final class Box { var start: CBORItemWriter.MapStart? }
        /// Writes a long map and keeps the start of a map opened at its end.
        struct Leaker: Encodable, CBORRecordEncodable {
            let box: Box
            func encode(to encoder: any Encoder) throws {}
            func encode(cbor writer: inout CBORItemWriter) throws {
                let map = writer.beginMap()
                for index in 0..<50 { writer.entry(Wide.Key("x\(index)", id: nil), index) }
                let inner = writer.beginMap()
                box.start = inner
                writer.endMap(inner)
                writer.endMap(map)
            }
        }
        enum Kind { case leftOpen, outOfOrder, twice, foreign }
        struct Misuse: Encodable, CBORRecordEncodable {
            let kind: Kind
            let foreign: CBORItemWriter.MapStart?
            func encode(to encoder: any Encoder) throws {}
            func encode(cbor writer: inout CBORItemWriter) throws {
                let outer = writer.beginMap()
                let inner = writer.beginMap()
                switch kind {
                case .leftOpen: writer.endMap(inner)
                case .outOfOrder: writer.endMap(outer); writer.endMap(inner)
                case .twice: writer.endMap(inner); writer.endMap(inner); writer.endMap(outer)
                case .foreign:
                    if let foreign { writer.endMap(foreign) }   // past this writer's end
                    writer.endMap(inner); writer.endMap(outer)
                }
            }
        }
        let box = Box()
        var leaked: [UInt8] = []
        try CBOREncoder().encodeRecord(Leaker(box: box), appendingTo: &leaked)
        #expect(box.start != nil)
        for kind in [Kind.leftOpen, .outOfOrder, .twice, .foreign] {
            var bytes: [UInt8] = []
            #expect(throws: EncodingError.self, "\(kind)") { try CBOREncoder().encodeRecord(Misuse(kind: kind, foreign: box.start), appendingTo: &bytes) }
        }
    }
}
