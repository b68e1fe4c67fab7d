extension CBORValue: Codable {
    /// Encodes the value. ``CBOREncoder`` writes it as itself, losslessly; other encoders (JSON,
    /// property lists) get the nearest plain form: tags are dropped, byte strings become arrays of
    /// numbers, `undefined` becomes `nil`, maps with non-text keys become arrays of key/value pairs.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .unsigned(let n):
            var container = encoder.singleValueContainer()
            try container.encode(n)
        case .negative:
            var container = encoder.singleValueContainer()
            if let n = int64Value { try container.encode(n) } else { try container.encode(-1 - Double(UInt64.max)) }
        case .bytes(let bytes):
            var container = encoder.unkeyedContainer()
            for byte in bytes { try container.encode(byte) }
        case .text(let text):
            var container = encoder.singleValueContainer()
            try container.encode(text)
        case .array(let items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case .map(let entries):
            if entries.allSatisfy({ $0.key.textValue != nil }) {
                var container = encoder.container(keyedBy: AnyCodingKey.self)
                for entry in entries { try container.encode(entry.value, forKey: AnyCodingKey(stringValue: entry.key.textValue ?? "")) }
            } else {
                var container = encoder.unkeyedContainer()
                for entry in entries { try container.encode([entry.key, entry.value]) }
            }
        case .tagged(_, let item):
            try item.encode(to: encoder)
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .null, .undefined:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .simple(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .float(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
    }

    /// Decodes any value. ``CBORDecoder`` reads the item as it is; other decoders give null,
    /// booleans, integers, floats, strings, arrays and text-keyed maps.
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer() {
            if container.decodeNil() { self = .null; return }
            if let value = try? container.decode(Bool.self) { self = .bool(value); return }
            if let value = try? container.decode(Int64.self) { self = CBORValue(value); return }
            if let value = try? container.decode(UInt64.self) { self = .unsigned(value); return }
            if let value = try? container.decode(Double.self) { self = .float(value); return }
            if let value = try? container.decode(String.self) { self = .text(value); return }
        }
        if var container = try? decoder.unkeyedContainer() {
            var items: [CBORValue] = []
            while !container.isAtEnd { items.append(try container.decode(CBORValue.self)) }
            self = .array(items)
            return
        }
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        self = .map(try container.allKeys.map { MapEntry(.text($0.stringValue), try container.decode(CBORValue.self, forKey: $0)) })
    }
}
