#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A type that can also read itself straight from CBOR, without going through `Decoder`.
///
/// `Decodable` costs a few hundred instructions per field in Swift's own machinery (boxed
/// containers, witness calls, run-time metadata) before any CBOR is read. For the records a service
/// reads most — a conversation's turns — that overhead is most of the read. Conforming types are
/// decoded by ``CBORDecoder`` and by DocumentStore collections through ``init(cbor:)`` instead,
/// and keep their `Decodable` conformance for everything else.
///
/// ```swift
/// extension Note: CBORRecordDecodable {
///     enum CodingKeys: String, CodingKey, CaseIterable { case id, text, tags }   // also used by Codable
///     static let fields = CBORFields<CodingKeys>()
///
///     init(cbor reader: inout CBORItemReader) throws {
///         var id: Int64?, text: String?, tags: [String] = []
///         try reader.readMap(Note.fields) { field, value in       // unknown keys are skipped
///             switch field {
///             case .id: id = try value.decode(Int64.self)
///             case .text: text = try value.decode(String.self)
///             case .tags: tags = try value.decode([String].self)   // any Decodable works
///             }
///         }
///         guard let id, let text else { throw CBORItemReader.missingField("id or text", in: Note.self) }
///         self.init(id: id, text: text, tags: tags)
///     }
/// }
/// ```
///
/// The result must equal what `init(from:)` would produce; the tests of a conforming type should
/// check both paths against each other.
public protocol CBORRecordDecodable: Decodable, SendableMetatype {
    /// Reads the value from `reader`, which stands at the value's CBOR item.
    init(cbor reader: inout CBORItemReader) throws
}

/// A position in a CBOR input, for ``CBORRecordDecodable``: each `decode` reads the item at the
/// position and moves past it. Bounds are checked on every read; errors are `DecodingError`s.
///
/// Read each item at most once: ``readMap(_:)`` moves past a value the closure did not read, but
/// not past one it read twice.
public struct CBORItemReader {
    @usableFromInline let context: DecodingContext
    @usableFromInline var offset: Int

    @usableFromInline
    init(context: DecodingContext, offset: Int) {
        self.context = context
        self.offset = offset
    }

    /// Calls `body` once per entry of the map at the position, with the entry's key and a reader
    /// standing at its value, then moves past the map. Entries whose key is not a text string,
    /// and values `body` does not read, are skipped (after checking that they are well-formed).
    /// For a record's fields, reading with a ``CBORFields`` table matches keys faster.
    ///
    /// A key given twice (a map RFC 8949 calls invalid) reaches `body` twice, in the map's order,
    /// so a `switch` that assigns keeps the last value; ``readMap(_:_:)`` with a ``CBORFields``
    /// table refuses such a map instead.
    public mutating func readMap(_ body: (CBORKey, inout CBORItemReader) throws -> Void) throws {
        var position = offset
        let count = try context.containerCount([String: String].self, major: 5, at: &position, [])
        for _ in 0..<count {
            guard let bytes = try context.textKey(at: &position) else {
                position = try context.end(ofItemAt: position, codingPath: [])
                continue
            }
            let key = CBORKey(bytes: bytes)
            var value = CBORItemReader(context: context, offset: position)
            try body(key, &value)
            position = value.offset != position ? value.offset : try context.end(ofItemAt: position, codingPath: [])
        }
        offset = position
    }

    /// Calls `body` once per entry of the map at the position whose key is one of `fields`' names
    /// or field ids (the compact form, ``CBOREncoder/fieldIDs``), with that field and a reader
    /// standing at its value, then moves past the map. Other entries, and values `body` does not
    /// read, are skipped (after checking that they are well-formed).
    ///
    /// Faster than matching ``CBORKey``s in a `switch`: each key is first compared with the field
    /// after the one last found — the order ``CBOREncoder`` writes a type's fields in — so a record
    /// written by this library costs one comparison per key.
    ///
    /// A field given twice (a map with a duplicate key, which RFC 8949 calls invalid, and which
    /// only damage or a hand-made record holds) is a `DecodingError`: read one way it would be
    /// one value and read another way the other (a view reads the first).
    ///
    /// - Returns: whether the map's keys were field ids (the compact form, which leaves out the
    ///   fields a record's database key holds), so that the caller may accept their absence.
    @inlinable @discardableResult
    public mutating func readMap<Field>(_ fields: CBORFields<Field>, _ body: (Field, inout CBORItemReader) throws -> Void) throws -> Bool {
        var position = offset
        let count = try context.containerCount([String: String].self, major: 5, at: &position, [])
        let first = position
        var expected = 0
        var compact = false
        for entry in 0..<count {
            let field: Int?
            if let id = context.fieldIDKey(at: &position) {
                field = fields.names.field(id: id)
                compact = true
            } else {
                field = try context.textKey(at: &position).flatMap { fields.names.match($0, expected: expected) }
            }
            guard let field else {
                position = try context.end(ofItemAt: position, codingPath: [])
                continue
            }
            // Fields in increasing order (as every writer of this library stores them) cannot
            // repeat one; only a field out of that order is looked for among the entries before.
            if field < expected, try context.mapEntries(from: first, before: entry, include: field, of: fields.names) {
                throw CBORItemReader.givenTwice(fields.cases[field], before: position)
            }
            expected = field + 1
            var value = CBORItemReader(context: context, offset: position)
            try body(fields.cases[field], &value)
            position = value.offset != position ? value.offset : try context.end(ofItemAt: position, codingPath: [])
        }
        offset = position
        return compact
    }

    /// The error for a field a map gives twice (kept out of ``readMap(_:_:)-(CBORFields<Field>,_)``'s loop).
    @usableFromInline @inline(never)
    static func givenTwice(_ field: some CodingKey, before position: Int) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: [field], debugDescription: "the field \"\(field.stringValue)\" is given twice, before byte \(position)"))
    }

    /// Calls `body` once per item of the array at the position, then moves past the array.
    public mutating func readArray(_ body: (inout CBORItemReader) throws -> Void) throws {
        var position = offset
        let count = try context.containerCount([String].self, major: 4, at: &position, [])
        for _ in 0..<count {
            var item = CBORItemReader(context: context, offset: position)
            try body(&item)
            position = item.offset != position ? item.offset : try context.end(ofItemAt: position, codingPath: [])
        }
        offset = position
    }

    /// Whether the item at the position is `null` (or `undefined`); moves past it if so.
    public mutating func decodeNil() -> Bool {
        guard context.decodeNil(at: offset) else { return false }
        offset += 1
        return true
    }

    /// Reads a text string.
    public mutating func decode(_ type: String.Type) throws -> String { try context.decodeString(at: &offset, []) }
    /// Reads a text string's bytes in place, without making a `String`: the UTF-8 as stored, not
    /// checked (`decode(String.self)` checks it). Valid only as long as the input is.
    public mutating func decodeTextBytes() throws -> UnsafeRawBufferPointer {
        if let quick = context.quickHead(at: offset), quick.major == 3, quick.argument <= UInt64(context.buffer.count - quick.next) {
            let end = quick.next + Int(quick.argument)
            offset = end
            return UnsafeRawBufferPointer(rebasing: context.buffer[quick.next..<end])
        }
        return try context.stringBytes(String.self, major: 3, at: &offset, [])
    }
    /// Reads a boolean.
    public mutating func decode(_ type: Bool.Type) throws -> Bool { try context.decodeBool(at: &offset, []) }
    /// Reads a float (or an integer that is exactly a `Double`).
    public mutating func decode(_ type: Double.Type) throws -> Double { try context.decodeDouble(at: &offset, []) }
    /// Reads an integer that fits `Int`.
    public mutating func decode(_ type: Int.Type) throws -> Int { try context.decodeInteger(Int.self, at: &offset, []) }
    /// Reads an integer that fits `Int64`.
    public mutating func decode(_ type: Int64.Type) throws -> Int64 { try context.decodeInteger(Int64.self, at: &offset, []) }
    /// Reads an integer that fits `UInt64`.
    public mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try context.decodeInteger(UInt64.self, at: &offset, []) }
    /// Reads an integer that fits `Int32`.
    public mutating func decode(_ type: Int32.Type) throws -> Int32 { try context.decodeInteger(Int32.self, at: &offset, []) }

    /// Reads a UUID (tag 37 + 16 bytes, or its text form).
    public mutating func decode(_ type: UUID.Type) throws -> UUID { try context.decodeUUID(at: &offset, []) }
    /// Reads a date (tag 1 + epoch seconds, or a plain number).
    public mutating func decode(_ type: Date.Type) throws -> Date { try context.decodeDate(at: &offset, []) }
    /// Reads a byte string.
    public mutating func decode(_ type: Data.Type) throws -> Data { Data(try context.stringBytes(Data.self, major: 2, at: &offset, [])) }
    /// Reads a float that fits `Float`.
    public mutating func decode(_ type: Float.Type) throws -> Float { try context.decodeFloat(at: &offset, []) }
    /// Reads a map of text keys to text values.
    public mutating func decode(_ type: [String: String].Type) throws -> [String: String] {
        try context.decodeStringMap(String.self, advancing: &offset, codingPath: [])
    }

    /// Reads any `Decodable` value (UUIDs, dates, arrays, dictionaries, nested records…) the way
    /// ``CBORDecoder`` does.
    @inlinable
    public mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        // Specialized by the caller, these checks fold away: a generic call for a primitive (from
        // `CBORMapView.decode(_:as:)`, say) costs what the concrete overload costs.
        if T.self == String.self { return unsafeBitCast(try decode(String.self), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try decode(Int.self), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try decode(Int64.self), to: T.self) }
        if T.self == UInt64.self { return unsafeBitCast(try decode(UInt64.self), to: T.self) }
        if T.self == Int32.self { return unsafeBitCast(try decode(Int32.self), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try decode(Double.self), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try decode(Bool.self), to: T.self) }
        if T.self == UUID.self { return unsafeBitCast(try decode(UUID.self), to: T.self) }
        if T.self == Date.self { return unsafeBitCast(try decode(Date.self), to: T.self) }
        return try context.decodeValue(T.self, advancing: &offset, needsEnd: true, codingPath: [])
    }

    /// The error to throw when a required field was not in the map.
    public static func missingField<T>(_ name: String, in type: T.Type) -> DecodingError {
        .keyNotFound(AnyCodingKey(stringValue: name), .init(codingPath: [], debugDescription: "\(T.self) needs \"\(name)\""))
    }
}

/// The field names of a record type, prepared once for ``CBORItemReader/readMap(_:_:)``: usually
/// the type's `CodingKeys`, so that the fast path and `Codable` can never disagree on a name (see
/// ``CBORRecordDecodable`` for an example). Keep it in a `static let`: making one copies the names.
///
/// A case whose `intValue` is 0…255 is also matched by that field id — the key the compact form
/// (``CBOREncoder/fieldIDs``) writes — so a reader takes a record in either form.
public struct CBORFields<Field: CodingKey & CaseIterable>: Sendable {
    /// The fields, in declaration order.
    @usableFromInline let cases: [Field]
    /// Their names and ids, laid out for matching.
    @usableFromInline let names: FieldNames

    /// The names (their `stringValue`s) and ids (their `intValue`s) of every case of `Field`.
    public init() {
        cases = Array(Field.allCases)
        names = FieldNames(cases.map(\.stringValue), ids: cases.map(\.intValue))
    }
}

/// Field names in one block of memory: name `i` is `bytes[starts[i]..<starts[i + 1]]`. Not
/// generic, so matching needs no run-time type metadata; immutable once made.
@usableFromInline
final class FieldNames: @unchecked Sendable {
    let count: Int
    private let starts: UnsafeMutablePointer<Int>
    private let bytes: UnsafeMutablePointer<UInt8>
    /// The name index of each field id (0…255), -1 where none has it: `idCount` entries.
    private let byID: UnsafeMutablePointer<Int16>
    private let idCount: Int

    init(_ names: [String], ids: [Int?] = []) {
        count = names.count
        idCount = (ids.compactMap { $0 }.filter { (0...255).contains($0) }.max() ?? -1) + 1
        byID = .allocate(capacity: max(1, idCount))
        byID.initialize(repeating: -1, count: max(1, idCount))
        for (index, id) in ids.enumerated() { if let id, (0...255).contains(id) { byID[id] = Int16(index) } }
        starts = .allocate(capacity: names.count + 1)
        starts[0] = 0
        for (index, name) in names.enumerated() { starts[index + 1] = starts[index] + name.utf8.count }
        bytes = .allocate(capacity: max(1, starts[names.count]))
        for (index, name) in names.enumerated() {
            (bytes + starts[index]).initialize(from: Array(name.utf8), count: name.utf8.count)
        }
    }

    deinit {
        starts.deallocate()
        bytes.deallocate()
        byID.deallocate()
    }

    /// The index of the name equal to `key`, or `nil`. Tries `expected` first, then the names
    /// after it (absent optional fields are skipped over), then those before.
    @usableFromInline
    func match(_ key: UnsafeRawBufferPointer, expected: Int) -> Int? {
        for index in min(expected, count)..<count where equals(index, key) { return index }
        for index in 0..<min(expected, count) where equals(index, key) { return index }
        return nil
    }

    /// The index of the field whose id is `id`, or `nil`.
    @usableFromInline @inline(__always)
    func field(id: Int) -> Int? {
        guard id >= 0, id < idCount, case let index = byID[id], index >= 0 else { return nil }
        return Int(index)
    }

    /// The length in bytes of name `index`.
    @inline(__always)
    func length(_ index: Int) -> Int { starts[index + 1] - starts[index] }

    /// Whether name `index` is `key`.
    @inline(__always)
    func equals(_ index: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let start = starts[index], length = key.count
        guard starts[index + 1] - start == length else { return false }
        let name = UnsafeRawPointer(bytes + start)
        guard let other = key.baseAddress else { return true }
        // Whole words, the last one overlapping the one before: names are short.
        if length >= 8 {
            var offset = 0
            while offset + 8 < length {
                if name.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != other.loadUnaligned(fromByteOffset: offset, as: UInt64.self) { return false }
                offset += 8
            }
            return name.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self) == other.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
        }
        if length >= 4 {
            return name.loadUnaligned(as: UInt32.self) == other.loadUnaligned(as: UInt32.self)
                && name.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self) == other.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self)
        }
        for offset in 0..<length where name.load(fromByteOffset: offset, as: UInt8.self) != other.load(fromByteOffset: offset, as: UInt8.self) {
            return false
        }
        return true
    }
}

/// A map key as it stands in the input (not yet a `String`), to `switch` over with string literals.
public struct CBORKey {
    let bytes: UnsafeRawBufferPointer

    /// The key as a `String` (invalid UTF-8 repaired).
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether the key's bytes are `literal`'s UTF-8: lets `case "name":` match a key.
    public static func ~= (literal: StaticString, key: CBORKey) -> Bool {
        literal.utf8CodeUnitCount == key.bytes.count
            && (key.bytes.count == 0 || memcmp(literal.utf8Start, key.bytes.baseAddress!, key.bytes.count) == 0)
    }
}

extension CBORDecoder {
    /// Decodes a ``CBORRecordDecodable`` type through its fast ``CBORRecordDecodable/init(cbor:)``.
    public func decode<T: CBORRecordDecodable>(_ type: T.Type, from buffer: UnsafeRawBufferPointer) throws -> T {
        try decodeRecord(T.self, from: buffer)
    }

    /// Decodes a ``CBORRecordDecodable`` type from bytes through ``CBORRecordDecodable/init(cbor:)``.
    public func decode<T: CBORRecordDecodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decodeRecord(T.self, from: $0) }
    }

    /// Reads `type` through its fast path; the whole input must be that one item. Used by
    /// DocumentStore for record types it only knows as `Decodable`.
    public func decodeRecord<T: CBORRecordDecodable>(_ type: T.Type, from buffer: UnsafeRawBufferPointer) throws -> T {
        var reader = CBORItemReader(context: DecodingContext(buffer: buffer, maxDepth: maxDepth, validated: false), offset: 0)
        let value = try T(cbor: &reader)
        if reader.offset != buffer.count {
            let error = CBORError(.trailingBytes, at: reader.offset)
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: error.description, underlyingError: error))
        }
        return value
    }
}
