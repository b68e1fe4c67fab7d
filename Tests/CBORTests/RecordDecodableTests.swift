import TestSupport
import TimelineCBOR
import Foundation
import Testing

extension Turn: CBORRecordDecodable {
    init(cbor reader: inout CBORItemReader) throws {
        var id: UUID?, sequence: UInt64?, role: Role?, content: String?, created: Date?
        var inputTokens: Int?, outputTokens: Int32?, cost: Double?, tools: [ToolCall]?, metadata: [String: String]?
        var attachment: Data?, link: URL?, nested: [[Int8]]?, flags: Set<String>?, score: Float?, delta: Int64?
        try reader.readMap { key, value in
            switch key {
            case "id": id = try value.decode(UUID.self)
            case "sequence": sequence = try value.decode(UInt64.self)
            case "role": role = try value.decode(Role.self)
            case "content": content = try value.decode(String.self)
            case "created": created = try value.decode(Date.self)
            case "inputTokens": inputTokens = try value.decode(Int.self)
            case "outputTokens": outputTokens = value.decodeNil() ? nil : try value.decode(Int32.self)
            case "cost": cost = try value.decode(Double.self)
            case "tools": tools = try value.decode([ToolCall].self)
            case "metadata": metadata = try value.decode([String: String].self)
            case "attachment": attachment = value.decodeNil() ? nil : try value.decode(Data.self)
            case "link": link = value.decodeNil() ? nil : try value.decode(URL.self)
            case "nested": nested = try value.decode([[Int8]].self)
            case "flags": flags = try value.decode(Set<String>.self)
            case "score": score = try value.decode(Float.self)
            case "delta": delta = try value.decode(Int64.self)
            default: break
            }
        }
        guard let id, let sequence, let role, let content, let created, let inputTokens, let cost,
              let tools, let metadata, let nested, let flags, let score, let delta
        else { throw CBORItemReader.missingField("a required field", in: Turn.self) }
        self.init(id: id, sequence: sequence, role: role, content: content, created: created, inputTokens: inputTokens,
                  outputTokens: outputTokens, cost: cost, tools: tools, metadata: metadata, attachment: attachment,
                  link: link, nested: nested, flags: flags, score: score, delta: delta)
    }
}

/// Decodes through `Decodable` only, even for types that also have the fast path.
func decodeThroughCodable<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
    try CBORDecoder().decode(T.self, from: bytes)
}

@Suite("The CBORRecordDecodable fast path")
struct RecordDecodableTests {
    @Test("gives exactly what Decodable gives, for seeded random records")
    func agreesWithCodable() throws {
        var random = SeededGenerator(seed: 77)
        for _ in 0..<2_000 {
            let turn = randomTurn(&random)
            let bytes = try CBOREncoder().encode(turn)
            let fast = try CBORDecoder().decode(Turn.self, from: bytes)
            #expect(fast == turn)
            #expect(try decodeThroughCodable(Turn.self, bytes) == fast)
        }
    }

    @Test("skips unknown keys, reports missing ones, refuses trailing bytes and garbage")
    func errors() throws {
        var random = SeededGenerator(seed: 78)
        let turn = randomTurn(&random)
        var value = try CBORValue(decoding: CBOREncoder().encode(turn))
        guard case .map(var entries) = value else { Issue.record("not a map"); return }
        entries.insert(.init(.text("addedLater"), .array([.unsigned(1), .map([])])), at: 2)
        entries.insert(.init(.unsigned(9), .text("non-text key")), at: 0)
        value = .map(entries)
        #expect(try CBORDecoder().decode(Turn.self, from: value.encoded()) == turn)

        entries.removeAll { $0.key == .text("content") }
        #expect(throws: DecodingError.self) { try CBORDecoder().decode(Turn.self, from: CBORValue.map(entries).encoded()) }
        #expect(throws: DecodingError.self) { try CBORDecoder().decode(Turn.self, from: CBOREncoder().encode(turn) + [0x00]) }

        let seed = try CBOREncoder().encode(turn)
        for _ in 0..<20_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.removeLast(Int.random(in: 0..<bytes.count, using: &random))
                default: bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 0x1B
                }
                if bytes.isEmpty { bytes = [0xA0] }
            }
            _ = try? CBORDecoder().decode(Turn.self, from: bytes)
        }
    }
}
