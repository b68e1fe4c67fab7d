/// Any CBOR data item (RFC 8949), held in memory: the generic form of a record that tools such as
/// `kvtool` show and edit without knowing its Swift type.
///
/// ```swift
/// let value = try CBORValue(decoding: bytes)        // any well-formed CBOR
/// print(value.jsonText())                           // {"title":"Hello","turns":3}
/// let same = try CBORValue(json: value.jsonText())  // and back, losslessly
/// ```
///
/// Integers keep their full 65-bit CBOR range; floats of every width become `Double` and are
/// written back in the shortest width that holds them exactly.
public enum CBORValue: Hashable, Sendable {
    /// Major type 0: an unsigned integer.
    case unsigned(UInt64)
    /// Major type 1: the negative integer `-1 - n`.
    case negative(UInt64)
    /// Major type 2: a byte string.
    case bytes([UInt8])
    /// Major type 3: a UTF-8 text string.
    case text(String)
    /// Major type 4: an array.
    case array([CBORValue])
    /// Major type 5: a map, in its stored order (which a deterministic encoder fixes).
    case map([MapEntry])
    /// Major type 6: a tagged item, e.g. tag 1 (epoch time) or 37 (UUID).
    indirect case tagged(UInt64, CBORValue)
    /// `false` or `true`.
    case bool(Bool)
    /// `null`.
    case null
    /// `undefined`.
    case undefined
    /// Another simple value (0–19, 32–255).
    case simple(UInt8)
    /// A half-, single- or double-precision float.
    case float(Double)

    /// One key/value pair of a map.
    public struct MapEntry: Hashable, Sendable {
        /// The key.
        public var key: CBORValue
        /// The value.
        public var value: CBORValue
        /// Creates an entry.
        public init(_ key: CBORValue, _ value: CBORValue) {
            self.key = key
            self.value = value
        }
    }

    /// An integer value, when it fits an `Int64`.
    public init(_ value: Int64) {
        self = value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(bitPattern: ~value))
    }

    /// The value as an `Int64`, if it is an integer that fits.
    public var int64Value: Int64? {
        switch self {
        case .unsigned(let n): n <= UInt64(Int64.max) ? Int64(n) : nil
        case .negative(let n): n <= UInt64(Int64.max) ? ~Int64(n) : nil
        default: nil
        }
    }

    /// The text, if this is a text string.
    public var textValue: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The value stored under the text key `key`, if this is a map that has one.
    ///
    /// Setting replaces the entry in place, appends a new one, or (with `nil`) removes it — the
    /// moves a migration step makes: `record["name"] = record["title"]; record["title"] = nil`.
    /// Setting on a value that is not a map does nothing.
    public subscript(key: String) -> CBORValue? {
        get { self[entry: .text(key)] }
        set { self[entry: .text(key)] = newValue }
    }

    /// The value stored under the unsigned-integer key `id` — a field id of the compact form
    /// (``CBOREncoder/fieldIDs``) — if this is a map that has one; set as the text-key subscript is.
    public subscript(fieldID id: UInt64) -> CBORValue? {
        get { self[entry: .unsigned(id)] }
        set { self[entry: .unsigned(id)] = newValue }
    }

    private subscript(entry key: CBORValue) -> CBORValue? {
        get {
            guard case .map(let entries) = self else { return nil }
            return entries.first { $0.key == key }?.value
        }
        set {
            guard case .map(var entries) = self else { return }
            let index = entries.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let index?, let value?): entries[index].value = value
            case (let index?, nil): entries.remove(at: index)
            case (nil, let value?): entries.append(MapEntry(key, value))
            case (nil, nil): return
            }
            self = .map(entries)
        }
    }
}

// MARK: Bytes

extension CBORValue {
    /// Decodes exactly one well-formed CBOR item from `bytes`, indefinite lengths included.
    /// - Throws: ``CBORError`` for anything not well-formed, for nesting deeper than `maxDepth`
    ///   (at most ``CBORDecoder/maxDepthLimit``; a larger one is taken as that), and for bytes
    ///   after the item.
    /// - Complexity: O(n) in the size of the input.
    public init(decoding bytes: UnsafeRawBufferPointer, maxDepth: Int = 256) throws(CBORError) {
        var reader = CBORReader(bytes, maxDepth: maxDepth)
        self = try CBORValue.read(&reader, depth: 0)
        guard reader.isAtEnd else { throw CBORError(.trailingBytes, at: reader.offset) }
    }

    /// Decodes exactly one well-formed CBOR item from `bytes`.
    public init(decoding bytes: [UInt8], maxDepth: Int = 256) throws(CBORError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(CBORError) in try CBORValue(decoding: buffer, maxDepth: maxDepth) }
        }
        self = try result.get()
    }

    /// The item's deterministic encoding: shortest heads, definite lengths, shortest exact floats,
    /// map entries in their stored order.
    public func encoded() -> [UInt8] {
        var writer = CBORWriter()
        write(to: &writer)
        return writer.bytes
    }

    func write(to writer: inout CBORWriter) {
        switch self {
        case .unsigned(let n): writer.head(0, n)
        case .negative(let n): writer.head(1, n)
        case .bytes(let bytes): bytes.withUnsafeBytes { writer.byteString($0) }
        case .text(let text): writer.text(text)
        case .array(let items):
            writer.head(4, UInt64(items.count))
            for item in items { item.write(to: &writer) }
        case .map(let entries):
            writer.head(5, UInt64(entries.count))
            for entry in entries {
                entry.key.write(to: &writer)
                entry.value.write(to: &writer)
            }
        case .tagged(let tag, let item):
            writer.tag(tag)
            item.write(to: &writer)
        case .bool(let value): writer.bool(value)
        case .null: writer.null()
        case .undefined: writer.bytes.append(0xF7)
        case .simple(let value):
            if value < 24 { writer.bytes.append(0xE0 | value) } else { writer.bytes.append(contentsOf: [0xF8, value]) }
        case .float(let value): writer.double(value)
        }
    }

    static func read(_ reader: inout CBORReader, depth: Int) throws(CBORError) -> CBORValue {
        guard depth < reader.maxDepth else { throw CBORError(.tooDeep, at: reader.offset) }
        let head = try reader.readHead()
        switch head.major {
        case 0:
            return .unsigned(head.argument)
        case 1:
            return .negative(head.argument)
        case 2:
            return .bytes(try readString(&reader, head))
        case 3:
            let utf8 = try readString(&reader, head)
            guard let text = String(validating: utf8, as: UTF8.self) else { throw CBORError(.invalidUTF8, at: head.start) }
            return .text(text)
        case 4:
            var items: [CBORValue] = []
            if head.isIndefinite {
                while try !atBreak(&reader) { items.append(try read(&reader, depth: depth + 1)) }
            } else {
                try reader.checkCount(head.argument, perItem: 1, itemStart: head.start)
                items.reserveCapacity(Int(head.argument))
                for _ in 0..<head.argument { items.append(try read(&reader, depth: depth + 1)) }
            }
            return .array(items)
        case 5:
            var entries: [MapEntry] = []
            if head.isIndefinite {
                while try !atBreak(&reader) {
                    let key = try read(&reader, depth: depth + 1)
                    entries.append(MapEntry(key, try read(&reader, depth: depth + 1)))
                }
            } else {
                try reader.checkCount(head.argument, perItem: 2, itemStart: head.start)
                entries.reserveCapacity(Int(head.argument))
                for _ in 0..<head.argument {
                    let key = try read(&reader, depth: depth + 1)
                    entries.append(MapEntry(key, try read(&reader, depth: depth + 1)))
                }
            }
            return .map(entries)
        case 6:
            return .tagged(head.argument, try read(&reader, depth: depth + 1))
        default:
            switch head.additional {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 23: return .undefined
            case 24: return .simple(UInt8(head.argument))
            case 25: return .float(HalfFloat.value(UInt16(head.argument)))
            case 26: return .float(Double(Float(bitPattern: UInt32(head.argument))))
            case 27: return .float(Double(bitPattern: head.argument))
            case 31: throw CBORError(.unexpectedBreak, at: head.start)
            default: return .simple(head.additional)
            }
        }
    }

    /// A byte or text string's bytes; indefinite-length strings are joined from their chunks.
    private static func readString(_ reader: inout CBORReader, _ head: CBORReader.Head) throws(CBORError) -> [UInt8] {
        guard head.isIndefinite else { return Array(try reader.readBytes(head.argument, itemStart: head.start)) }
        var joined: [UInt8] = []
        while true {
            let chunk = try reader.readHead()
            if chunk.major == 7 && chunk.isIndefinite { return joined }
            guard chunk.major == head.major, !chunk.isIndefinite else { throw CBORError(.indefiniteLength, at: chunk.start) }
            joined.append(contentsOf: try reader.readBytes(chunk.argument, itemStart: chunk.start))
        }
    }

    /// Consumes a break stop code if one is next.
    private static func atBreak(_ reader: inout CBORReader) throws(CBORError) -> Bool {
        guard !reader.isAtEnd else { throw CBORError(.truncated, at: reader.offset) }
        if reader.base[reader.offset] == 0xFF {
            reader.offset += 1
            return true
        }
        return false
    }
}
