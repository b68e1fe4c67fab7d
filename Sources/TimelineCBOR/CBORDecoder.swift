#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Decodes `Decodable` values from CBOR (RFC 8949), reading straight from the caller's buffer —
/// for TimelineStore, LMDB's memory map — without copying it first.
///
/// ```swift
/// let turn = try CBORDecoder().decode(Turn.self, from: buffer)   // UnsafeRawBufferPointer or [UInt8]
/// ```
///
/// Reads what ``CBOREncoder`` writes, and more: map keys that the type does not know are ignored
/// (so older code reads records written by newer code), integers are accepted for floating-point
/// fields, and whole floats for integer fields. Indefinite-length items are refused (decode such
/// input as ``CBORValue``).
///
/// Errors are `DecodingError`s with the coding path: `keyNotFound` for a missing required field,
/// `typeMismatch` for a value of the wrong type, `dataCorrupted` (with a ``CBORError`` as the
/// underlying error) for bytes that are not well-formed CBOR, nest deeper than ``maxDepth``, or run
/// past the end of the input. Hostile input never traps and never makes the decoder allocate more
/// than the input could describe.
public struct CBORDecoder: Sendable {
    /// How deeply items may nest before the input is refused. Default 256; a value past
    /// ``maxDepthLimit`` is taken as that limit.
    public var maxDepth: Int

    /// The deepest nesting any reader of this module follows, whatever `maxDepth` a caller
    /// passes: 1,024. Reading recurses once per level, and a `maxDepth` of `Int.max` let hostile
    /// input 64,000 levels deep overflow an 8 MiB thread stack (a crash, not an error). Measured
    /// on 8 MiB: a debug build decodes `Codable` types ~3,000 levels deep before it overflows,
    /// `CBORValue` ~3,000 and their JSON forms ~2,000; release builds ten times that.
    public static let maxDepthLimit = 1_024

    /// Creates a decoder.
    public init(maxDepth: Int = 256) {
        self.maxDepth = maxDepth
    }

    /// Decodes one `T` from `buffer`, which must hold exactly one CBOR item.
    ///
    /// The buffer is only read during the call; nothing returned points into it.
    /// - Throws: `DecodingError`.
    /// - Complexity: O(n) in the size of the input for flat records.
    public func decode<T: Decodable>(_ type: T.Type, from buffer: UnsafeRawBufferPointer) throws -> T {
        var reader = CBORReader(buffer, maxDepth: maxDepth)
        do throws(CBORError) {
            try reader.skip()
            if !reader.isAtEnd { throw CBORError(.trailingBytes, at: reader.offset) }
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: error.description, underlyingError: error))
        }
        let context = DecodingContext(buffer: buffer, maxDepth: maxDepth)
        return try context.decodeValue(T.self, at: 0, codingPath: [])
    }

    /// Decodes one `T` from `bytes`, which must hold exactly one CBOR item.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, from: $0) }
    }
}

/// The input and the primitive readers shared by every decoder and container of one `decode` call.
@usableFromInline
struct DecodingContext {
    @usableFromInline let buffer: UnsafeRawBufferPointer
    @usableFromInline let maxDepth: Int
    /// Whether the whole input was checked for well-formedness up front (``CBORDecoder``'s
    /// `Decodable` path). When not (the ``CBORRecordDecodable`` path), a keyed container checks its
    /// own map before use, since `allKeys` cannot throw.
    @usableFromInline var validated = true

    @usableFromInline
    init(buffer: UnsafeRawBufferPointer, maxDepth: Int, validated: Bool = true) {
        self.buffer = buffer
        self.maxDepth = min(maxDepth, CBORDecoder.maxDepthLimit)
        self.validated = validated
    }

    func reader(at offset: Int) -> CBORReader { CBORReader(buffer, offset: offset, maxDepth: maxDepth) }

    /// The offset just past the item starting at `offset`.
    @usableFromInline
    func end(ofItemAt offset: Int, codingPath: @autoclosure () -> [any CodingKey]) throws -> Int {
        if let end = quickEnd(ofItemAt: offset) { return end }
        // Containers, indefinite lengths and anything malformed: the full reader.
        var reader = reader(at: offset)
        try wrap(codingPath()) { () throws(CBORError) in try reader.skip() }
        return reader.offset
    }

    func wrap<R>(_ codingPath: @autoclosure () -> [any CodingKey], _ body: () throws(CBORError) -> R) throws -> R {
        do throws(CBORError) {
            return try body()
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: error.description, underlyingError: error))
        }
    }

    func head(at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> CBORReader.Head {
        var reader = reader(at: offset)
        let head = try wrap(codingPath()) { () throws(CBORError) in try reader.readHead() }
        offset = reader.offset
        return head
    }

    func mismatch<T>(_ type: T.Type, _ head: CBORReader.Head, _ codingPath: @autoclosure () -> [any CodingKey]) -> DecodingError {
        let found: String = switch head.major {
        case 0, 1: "an integer"
        case 2: "a byte string"
        case 3: "a text string"
        case 4: "an array"
        case 5: "a map"
        case 6: "tag \(head.argument)"
        default:
            switch head.additional {
            case 20, 21: "a boolean"
            case 22: "null"
            case 23: "undefined"
            case 25, 26, 27: "a float"
            default: "a simple value"
            }
        }
        return .typeMismatch(T.self, .init(codingPath: codingPath(), debugDescription: "expected \(T.self) but found \(found) at byte \(head.start)"))
    }

    // MARK: Primitives

    /// The head at `offset` when it is an ordinary one — a definite argument whose bytes are all
    /// there — with the offset after it: the fast path of every primitive read. `nil` sends the
    /// caller to the full path, which names the exact problem.
    @inlinable @inline(__always)
    func quickHead(at offset: Int) -> (major: UInt8, info: UInt8, argument: UInt64, next: Int)? {
        guard offset >= 0, offset < buffer.count else { return nil }
        let initial = buffer[offset]
        let info = initial & 0x1F
        if info < 24 { return (initial >> 5, info, UInt64(info), offset + 1) }
        let value: UInt64, size: Int
        switch info {
        case 24:
            guard 1 < buffer.count - offset else { return nil }
            (value, size) = (UInt64(buffer[offset + 1]), 1)
        case 25:
            guard 2 < buffer.count - offset else { return nil }
            (value, size) = (UInt64(UInt16(bigEndian: buffer.loadUnaligned(fromByteOffset: offset + 1, as: UInt16.self))), 2)
        case 26:
            guard 4 < buffer.count - offset else { return nil }
            (value, size) = (UInt64(UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset + 1, as: UInt32.self))), 4)
        case 27:
            guard 8 < buffer.count - offset else { return nil }
            (value, size) = (UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset + 1, as: UInt64.self)), 8)
        default:
            return nil
        }
        if initial >> 5 == 7 && info == 24 && value < 32 { return nil }
        return (initial >> 5, info, value, offset + 1 + size)
    }

    /// The offset just past the item at `offset` when it is a scalar or a definite-length string,
    /// tagged or not (dates, UUIDs) — read from its heads alone; `nil` for anything else
    /// (containers, indefinite lengths, malformed input), which ``end(ofItemAt:codingPath:)`` handles.
    @inlinable @inline(__always)
    func quickEnd(ofItemAt offset: Int) -> Int? {
        var position = offset, tags = 0
        while tags < maxDepth, let quick = quickHead(at: position) {
            switch quick.major {
            case 0, 1, 7:
                return quick.next
            case 2, 3:
                return quick.argument <= UInt64(buffer.count - quick.next) ? quick.next + Int(quick.argument) : nil
            case 6:
                position = quick.next
                tags += 1
            default:
                return nil
            }
        }
        return nil
    }

    /// Reads the head of a definite-length array (major 4) or map (major 5) at `offset` and
    /// returns its item count, checked against the bytes left (so it also fits an `Int`).
    @usableFromInline
    func containerCount<T>(_ type: T.Type, major: UInt8, at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> Int {
        // Up to 23 items: a one-byte head, and every item takes at least a byte (two for a map entry).
        if offset >= 0, offset < buffer.count, case let initial = buffer[offset], initial &>> 5 == major, case let count = Int(initial & 0x1F),
           count < 24, count * (major == 5 ? 2 : 1) <= buffer.count - offset - 1 {
            offset += 1
            return count
        }
        var reader = reader(at: offset)
        let head = try wrap(codingPath()) { () throws(CBORError) in try reader.readHead() }
        guard head.major == major else { throw mismatch(T.self, head, codingPath()) }
        try wrap(codingPath()) { () throws(CBORError) in
            if head.isIndefinite { throw CBORError(.indefiniteLength, at: head.start) }
            try reader.checkCount(head.argument, perItem: major == 5 ? 2 : 1, itemStart: head.start)
        }
        offset = reader.offset
        return Int(head.argument)
    }

    /// The bytes of the text-string map key at `offset`, moving `offset` past it; `nil` — with
    /// `offset` past the key — for a key of another type.
    @inlinable @inline(__always)
    func textKey(at offset: inout Int) throws -> UnsafeRawBufferPointer? {
        if let quick = quickHead(at: offset), quick.major == 3, quick.argument <= UInt64(buffer.count - quick.next) {
            let end = quick.next + Int(quick.argument)
            offset = end
            return UnsafeRawBufferPointer(rebasing: buffer[quick.next..<end])
        }
        if majorType(at: offset) == 3 { return try stringBytes(String.self, major: 3, at: &offset, []) }
        offset = try end(ofItemAt: offset, codingPath: [])
        return nil
    }

    /// The field id at `offset` — an unsigned integer key of one or two bytes (0…255), what the
    /// compact form writes — and moves past it; `nil` (and `offset` unchanged) for any other item.
    @usableFromInline @inline(__always)
    func fieldIDKey(at offset: inout Int) -> Int? { Self.fieldID(in: buffer, at: &offset) }

    /// ``fieldIDKey(at:)`` on any input (the JSON transcoder reads ids too).
    @usableFromInline @inline(__always)
    static func fieldID(in buffer: UnsafeRawBufferPointer, at offset: inout Int) -> Int? {
        guard offset >= 0, offset < buffer.count else { return nil }
        let initial = buffer[offset]
        if initial < 24 {
            offset += 1
            return Int(initial)
        }
        if initial == 24, offset + 1 < buffer.count {
            offset += 2
            return Int(buffer[offset - 1])
        }
        return nil
    }

    /// The major type of the item at `offset`, or `nil` past the end of the input.
    @inlinable @inline(__always)
    func majorType(at offset: Int) -> UInt8? {
        offset >= 0 && offset < buffer.count ? buffer[offset] >> 5 : nil
    }

    func decodeNil(at offset: Int) -> Bool {
        offset < buffer.count && (buffer[offset] == 0xF6 || buffer[offset] == 0xF7)
    }

    func decodeBool(at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> Bool {
        let head = try head(at: &offset, codingPath())
        guard head.major == 7, head.additional == 20 || head.additional == 21 else { throw mismatch(Bool.self, head, codingPath()) }
        return head.additional == 21
    }

    func decodeInteger<T: FixedWidthInteger>(_ type: T.Type, at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> T {
        if let quick = quickHead(at: offset) {
            if quick.major == 0, let value = T(exactly: quick.argument) {
                offset = quick.next
                return value
            }
            if quick.major == 1, quick.argument <= UInt64(Int64.max), let value = T(exactly: ~Int64(quick.argument)) {
                offset = quick.next
                return value
            }
        }
        let head = try head(at: &offset, codingPath())
        let result: T?
        switch head.major {
        case 0:
            result = T(exactly: head.argument)
        case 1:
            result = head.argument <= UInt64(Int64.max) ? T(exactly: ~Int64(head.argument)) : nil
        case 7 where head.additional >= 25 && head.additional <= 27:
            var start = head.start
            let value = try decodeDouble(at: &start, codingPath())
            result = T(exactly: value)
        default:
            throw mismatch(T.self, head, codingPath())
        }
        guard let result else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "the number at byte \(head.start) does not fit in \(T.self)"))
        }
        return result
    }

    func decodeDouble(at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> Double {
        if let quick = quickHead(at: offset), quick.major == 7 {
            switch quick.info {
            case 25: offset = quick.next; return HalfFloat.value(UInt16(quick.argument))
            case 26: offset = quick.next; return Double(Float(bitPattern: UInt32(quick.argument)))
            case 27: offset = quick.next; return Double(bitPattern: quick.argument)
            default: break
            }
        }
        let head = try head(at: &offset, codingPath())
        switch (head.major, head.additional) {
        case (7, 25): return HalfFloat.value(UInt16(head.argument))
        case (7, 26): return Double(Float(bitPattern: UInt32(head.argument)))
        case (7, 27): return Double(bitPattern: head.argument)
        case (0, _):
            if let value = Double(exactly: head.argument) { return value }
        case (1, _):
            if head.argument <= UInt64(Int64.max), let value = Double(exactly: ~Int64(head.argument)) { return value }
        default:
            throw mismatch(Double.self, head, codingPath())
        }
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "the integer at byte \(head.start) has no exact Double"))
    }

    func decodeFloat(at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> Float {
        let value = try decodeDouble(at: &offset, codingPath())
        guard value.isNaN || value.isInfinite || abs(value) <= Double(Float.greatestFiniteMagnitude) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "\(value) does not fit in Float"))
        }
        return Float(value)
    }

    /// The bytes of a definite-length string of major type `major` (2 or 3).
    @usableFromInline
    func stringBytes<T>(_ type: T.Type, major: UInt8, at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> UnsafeRawBufferPointer {
        var reader = reader(at: offset)
        let bytes = try wrap(codingPath()) { () throws(CBORError) -> UnsafeRawBufferPointer? in
            let head = try reader.readHead()
            guard head.major == major else { reader.offset = head.start; return nil }
            guard !head.isIndefinite else { throw CBORError(.indefiniteLength, at: head.start) }
            return try reader.readBytes(head.argument, itemStart: head.start)
        }
        guard let bytes else {
            var start = offset
            throw mismatch(T.self, try head(at: &start, codingPath()), codingPath())
        }
        offset = reader.offset
        return bytes
    }

    func decodeString(at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> String {
        if let quick = quickHead(at: offset), quick.major == 3, quick.argument <= UInt64(buffer.count - quick.next) {
            let end = quick.next + Int(quick.argument)
            if let text = CBORText.string(UnsafeRawBufferPointer(rebasing: buffer[quick.next..<end])) {
                offset = end
                return text
            }
        }
        let start = offset
        let bytes = try stringBytes(String.self, major: 3, at: &offset, codingPath())
        guard let text = CBORText.string(bytes) else {
            let error = CBORError(.invalidUTF8, at: start)
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: error.description, underlyingError: error))
        }
        return text
    }

    /// Consumes tag `number` if it is next; returns whether it was.
    func consumeTag(_ number: UInt64, at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> Bool {
        var probe = offset
        let head = try head(at: &probe, codingPath())
        guard head.major == 6 else { return false }
        guard head.argument == number else { throw mismatch(UInt64.self, head, codingPath()) }
        offset = probe
        return true
    }

    /// A date: tag 1 (optional) over epoch seconds. NaN seconds are refused: Foundation traps
    /// when such a `Date` is described, so one handed out would end the process that logs it.
    func decodeDate(at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> Date {
        if offset < buffer.count, buffer[offset] == 0xC1, let quick = quickHead(at: offset + 1) {
            // Tag 1 and whole seconds, or a double (how the encoder writes a date with a fraction).
            switch (quick.major, quick.info) {
            case (0, _):
                offset = quick.next
                return Date(timeIntervalSince1970: Double(quick.argument))
            case (7, 27) where !Double(bitPattern: quick.argument).isNaN:
                offset = quick.next
                return Date(timeIntervalSince1970: Double(bitPattern: quick.argument))
            default:
                break
            }
        }
        let start = offset
        _ = try consumeTag(1, at: &offset, codingPath())
        let seconds = try decodeDouble(at: &offset, codingPath())
        guard !seconds.isNaN else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "the date at byte \(start) is NaN seconds, which is no time"))
        }
        return Date(timeIntervalSince1970: seconds)
    }

    func decodeUUID(at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> UUID {
        if offset >= 0, buffer.count - offset >= 19, buffer[offset] == 0xD8, buffer[offset + 1] == 0x25, buffer[offset + 2] == 0x50 {
            var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &uuid) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[offset + 3..<offset + 19])) }
            offset += 19
            return UUID(uuid: uuid)
        }
        if try consumeTag(37, at: &offset, codingPath()) || majorType(at: offset) == 2 {
            let bytes = try stringBytes(UUID.self, major: 2, at: &offset, codingPath())
            guard bytes.count == 16 else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "a UUID needs 16 bytes, found \(bytes.count)"))
            }
            // Start from zeros: `UUID()` would read the system's random source (a syscall) first.
            var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &uuid) { $0.copyMemory(from: bytes) }
            return UUID(uuid: uuid)
        }
        let text = try decodeString(at: &offset, codingPath())
        guard let uuid = UUID(uuidString: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "\"\(text)\" is not a UUID"))
        }
        return uuid
    }

    func decodeURL(at offset: inout Int, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> URL {
        _ = try consumeTag(32, at: &offset, codingPath())
        let text = try decodeString(at: &offset, codingPath())
        guard let url = URL(string: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "\"\(text)\" is not a URL"))
        }
        return url
    }

    // MARK: Any value

    /// Decodes a `T` from the item at `offset`: primitives and the special types directly,
    /// anything else through `T(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type, at offset: Int, codingPath: @autoclosure () -> [any CodingKey]) throws -> T {
        var position = offset
        return try decodeValue(T.self, advancing: &position, needsEnd: false, codingPath: codingPath())
    }

    /// Decodes a `T` from the item at `offset`; with `needsEnd`, moves `offset` past the item.
    @usableFromInline
    func decodeValue<T: Decodable>(
        _ type: T.Type, advancing offset: inout Int, needsEnd: Bool, codingPath: @autoclosure () -> [any CodingKey]
    ) throws -> T {
        if T.self == String.self { return unsafeBitCast(try decodeString(at: &offset, codingPath()), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try decodeInteger(Int.self, at: &offset, codingPath()), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try decodeBool(at: &offset, codingPath()), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try decodeDouble(at: &offset, codingPath()), to: T.self) }
        if T.self == Date.self { return unsafeBitCast(try decodeDate(at: &offset, codingPath()), to: T.self) }
        if T.self == UUID.self { return unsafeBitCast(try decodeUUID(at: &offset, codingPath()), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try decodeInteger(Int64.self, at: &offset, codingPath()), to: T.self) }
        if T.self == UInt64.self { return unsafeBitCast(try decodeInteger(UInt64.self, at: &offset, codingPath()), to: T.self) }
        if T.self == Int32.self { return unsafeBitCast(try decodeInteger(Int32.self, at: &offset, codingPath()), to: T.self) }
        if T.self == UInt32.self { return unsafeBitCast(try decodeInteger(UInt32.self, at: &offset, codingPath()), to: T.self) }
        if T.self == UInt8.self { return unsafeBitCast(try decodeInteger(UInt8.self, at: &offset, codingPath()), to: T.self) }
        if T.self == Float.self { return unsafeBitCast(try decodeFloat(at: &offset, codingPath()), to: T.self) }
        if T.self == Data.self {
            let bytes = try stringBytes(Data.self, major: 2, at: &offset, codingPath())
            return unsafeBitCast(Data(bytes), to: T.self)
        }
        if T.self == URL.self { return unsafeBitCast(try decodeURL(at: &offset, codingPath()), to: T.self) }
        if T.self == CBORValue.self {
            var reader = reader(at: offset)
            let value = try wrap(codingPath()) { () throws(CBORError) in try CBORValue.read(&reader, depth: 0) }
            offset = reader.offset
            return unsafeBitCast(value, to: T.self)
        }
        return try decodeComposite(T.self, advancing: &offset, needsEnd: needsEnd, codingPath: codingPath())
    }

    /// ``decodeValue(_:advancing:needsEnd:codingPath:)`` for everything but primitives. Kept out of
    /// line: unspecialized generic code sets up the run-time metadata of every local type on entry
    /// (here `Optional<T>`), which cost more than decoding a primitive.
    @inline(never)
    func decodeComposite<T: Decodable>(_ type: T.Type, advancing offset: inout Int, needsEnd: Bool, codingPath path: [any CodingKey]) throws -> T {
        guard path.count < maxDepth else {
            let error = CBORError(.tooDeep, at: offset)
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: error.description, underlyingError: error))
        }
        let start = offset
        let value: T
        if T.self == [String: String].self {
            value = unsafeBitCast(try decodeStringMap(String.self, advancing: &offset, codingPath: path), to: T.self)
        } else if T.self == [String: CBORValue].self {
            value = unsafeBitCast(try decodeStringMap(CBORValue.self, advancing: &offset, codingPath: path), to: T.self)
        } else if MemoryLayout<T>.size == MemoryLayout<[Int: Int]>.size,  // a Dictionary is one word: skip the costly cast for everything else
                  let dictionary = T.self as? any CBORDictionaryDecodable.Type,
           let decoded = try dictionary.decodeCBOR(self, advancing: &offset, codingPath: path) as? T {
            value = decoded
        } else {
            value = try T(from: _CBORDecoder(context: self, offset: start, codingPath: path))
            if needsEnd { offset = try end(ofItemAt: start, codingPath: path) }
        }
        return value
    }
}

extension DecodingContext {
    /// The map at `offset` as a dictionary of text keys: the common metadata shapes, decoded with
    /// concrete types (the generic path below costs several times as much).
    func decodeStringMap<Value: Decodable>(_ type: Value.Type, advancing offset: inout Int, codingPath: [any CodingKey]) throws -> [String: Value] {
        var position = offset
        let count = try containerCount([String: Value].self, major: 5, at: &position, codingPath)
        var result = [String: Value](minimumCapacity: count)
        for _ in 0..<count {
            let key = try decodeString(at: &position, codingPath)
            result[key] = try decodeValue(Value.self, advancing: &position, needsEnd: true, codingPath: codingPath + [AnyCodingKey(stringValue: key)])
        }
        offset = position
        return result
    }
}

/// Dictionaries with `String` or `Int` keys, read straight from a CBOR map instead of through
/// the standard library's generic (and much slower) keyed-container path.
protocol CBORDictionaryDecodable {
    /// The dictionary in the map at `offset` (moving `offset` past it), or `nil` for key types
    /// this fast path does not handle.
    static func decodeCBOR(_ context: DecodingContext, advancing offset: inout Int, codingPath: [any CodingKey]) throws -> Self?
}

extension Dictionary: CBORDictionaryDecodable where Key: Decodable, Value: Decodable {
    static func decodeCBOR(_ context: DecodingContext, advancing offset: inout Int, codingPath: [any CodingKey]) throws -> Self? {
        if Key.self == String.self {
            return unsafeBitCast(try context.decodeStringMap(Value.self, advancing: &offset, codingPath: codingPath), to: Self.self)
        }
        guard Key.self == Int.self else { return nil }
        var result = [Key: Value]()
        for (name, value) in try context.decodeStringMap(Value.self, advancing: &offset, codingPath: codingPath) {
            guard let number = Int(name) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "map key \"\(name)\" is not an Int"))
            }
            result[unsafeBitCast(number, to: Key.self)] = value
        }
        return result
    }
}

/// The `Decoder` handed to a type's `init(from:)`: one item of the input.
final class _CBORDecoder: Decoder {
    let context: DecodingContext
    /// Where the item starts.
    let offset: Int
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    // The map entry last found by a keyed container: checked first by the next lookup, because
    // synthesized `init(from:)` asks for keys in the order they were written, and asks for an
    // optional field's key two or three times in a row.
    var mapStart = 0
    var mapCount = 0
    var hintIndex = -1
    var hintName = ""
    var hintValue = 0
    var hintEnd = 0

    init(context: DecodingContext, offset: Int, codingPath: [any CodingKey]) {
        self.context = context
        self.offset = offset
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        if !context.validated { _ = try context.end(ofItemAt: offset, codingPath: codingPath) }
        var position = offset
        let count = try context.containerCount([String: String].self, major: 5, at: &position, codingPath)
        mapStart = position
        mapCount = count
        hintIndex = -1
        hintName = ""
        return KeyedDecodingContainer(CBORKeyedDecodingContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        var position = offset
        let count = try context.containerCount([String].self, major: 4, at: &position, codingPath)
        return CBORUnkeyedDecodingContainer(context: context, codingPath: codingPath, offset: position, count: count)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        CBORSingleValueDecodingContainer(context: context, offset: offset, codingPath: codingPath)
    }

    /// Whether the key at `entry` is `name` — or, for a key with a field id, that id (the compact
    /// form) —; returns the offset of its value too.
    private func keyMatches(at entry: Int, _ name: String, id: Int?) throws -> (Bool, Int) {
        var reader = context.reader(at: entry)
        let matched = try context.wrap(codingPath) { () throws(CBORError) -> Bool in
            let head = try reader.readHead()
            if head.major == 0, let id { return head.argument == UInt64(id) }
            guard head.major == 3, !head.isIndefinite else {
                reader.offset = head.start
                try reader.skip()
                return false
            }
            let bytes = try reader.readBytes(head.argument, itemStart: head.start)
            var name = name
            return name.withUTF8 { utf8 in
                utf8.count == bytes.count && (bytes.count == 0 || memcmp(utf8.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
            }
        }
        return (matched, reader.offset)
    }

    /// The offset of the value stored under `key` in this decoder's map, or `nil`.
    func find(_ key: some CodingKey) throws -> Int? {
        let name = key.stringValue
        let id = key.intValue.flatMap { $0 >= 0 ? $0 : nil }
        var remaining = mapCount
        var index = 0, entry = mapStart
        if hintIndex >= 0 {
            if name == hintName { return hintValue }
            remaining -= 1
            index = hintIndex + 1
            entry = hintEnd
        }
        while remaining > 0 {
            if index >= mapCount {
                index = 0
                entry = mapStart
            }
            let (matched, value) = try keyMatches(at: entry, name, id: id)
            let end = try context.end(ofItemAt: value, codingPath: codingPath)
            if matched {
                (hintIndex, hintName, hintValue, hintEnd) = (index, name, value, end)
                return value
            }
            entry = end
            index += 1
            remaining -= 1
        }
        return nil
    }

    /// Every text key of the map, and every field id (a small unsigned key) as its decimal text
    /// marked by `id`, in stored order.
    func keys() throws -> [(name: String, id: Int?)] {
        var keys: [(name: String, id: Int?)] = []
        var entry = mapStart
        for _ in 0..<mapCount {
            var position = entry
            if context.majorType(at: position) == 3, let key = try? context.decodeString(at: &position, codingPath) {
                keys.append((key, nil))
            } else if let id = context.fieldIDKey(at: &position) {
                keys.append((String(id), id))
            } else {
                position = try context.end(ofItemAt: entry, codingPath: codingPath)
            }
            entry = try context.end(ofItemAt: position, codingPath: codingPath)
        }
        return keys
    }
}

/// A map being read: lookups by key name, in any order; unknown keys are ignored.
struct CBORKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: _CBORDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var context: DecodingContext { decoder.context }

    var allKeys: [Key] { ((try? decoder.keys()) ?? []).compactMap { key in key.id.flatMap(Key.init(intValue:)) ?? Key(stringValue: key.name) } }

    func contains(_ key: Key) -> Bool { ((try? decoder.find(key)) ?? nil) != nil }

    private func value(_ key: Key) throws -> Int {
        guard let offset = try decoder.find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for key \"\(key.stringValue)\""))
        }
        return offset
    }

    func decodeNil(forKey key: Key) throws -> Bool { context.decodeNil(at: try value(key)) }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        var offset = try value(key)
        return try context.decodeBool(at: &offset, codingPath + [key])
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        var offset = try value(key)
        return try context.decodeString(at: &offset, codingPath + [key])
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        var offset = try value(key)
        return try context.decodeDouble(at: &offset, codingPath + [key])
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        var offset = try value(key)
        return try context.decodeFloat(at: &offset, codingPath + [key])
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        var offset = try value(key)
        return try context.decodeInteger(Int.self, at: &offset, codingPath + [key])
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        var offset = try value(key)
        return try context.decodeInteger(Int64.self, at: &offset, codingPath + [key])
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        var offset = try value(key)
        return try context.decodeInteger(UInt64.self, at: &offset, codingPath + [key])
    }

    private func integer<T: FixedWidthInteger>(_ key: Key) throws -> T {
        var offset = try value(key)
        return try context.decodeInteger(T.self, at: &offset, codingPath + [key])
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try context.decodeValue(T.self, at: try value(key), codingPath: codingPath + [key])
    }

    // Optional fields: one lookup each, with concrete types. The protocol's default
    // implementations look the key up three times and instantiate `Optional<T>` metadata at run
    // time on every call, which together cost more than decoding the value.

    /// The offset of a present, non-null value for `key`.
    private func present(_ key: Key) throws -> Int? {
        guard let offset = try decoder.find(key), !context.decodeNil(at: offset) else { return nil }
        return offset
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeBool(at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeString(at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeDouble(at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeFloat(at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeInteger(Int.self, at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeInteger(Int8.self, at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeInteger(Int16.self, at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeInteger(Int32.self, at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeInteger(Int64.self, at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeInteger(UInt.self, at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeInteger(UInt8.self, at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeInteger(UInt16.self, at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeInteger(UInt32.self, at: &offset, codingPath + [key])
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        guard var offset = try present(key) else { return nil }
        return try context.decodeInteger(UInt64.self, at: &offset, codingPath + [key])
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let offset = try present(key) else { return nil }
        return try context.decodeValue(T.self, at: offset, codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try _CBORDecoder(context: context, offset: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try _CBORDecoder(context: context, offset: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = AnyCodingKey(stringValue: "super")
        guard let offset = try decoder.find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for key \"super\""))
        }
        return _CBORDecoder(context: context, offset: offset, codingPath: codingPath + [key])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        _CBORDecoder(context: context, offset: try value(key), codingPath: codingPath + [key])
    }
}

/// An array being read front to back.
struct CBORUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let context: DecodingContext
    let codingPath: [any CodingKey]
    var offset: Int
    let total: Int
    private(set) var currentIndex = 0

    init(context: DecodingContext, codingPath: [any CodingKey], offset: Int, count: Int) {
        self.context = context
        self.codingPath = codingPath
        self.offset = offset
        self.total = count
    }

    var count: Int? { total }
    var isAtEnd: Bool { currentIndex >= total }
    private var path: [any CodingKey] { codingPath + [AnyCodingKey(intValue: currentIndex)] }

    private func checkNotAtEnd<T>(_ type: T.Type) throws {
        if isAtEnd {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: path, debugDescription: "the array has only \(total) items"))
        }
    }

    mutating func decodeNil() throws -> Bool {
        try checkNotAtEnd(Never.self)
        guard context.decodeNil(at: offset) else { return false }
        offset += 1
        currentIndex += 1
        return true
    }

    /// Reads the next item with `read`, which gets the context, the item's offset (to move past
    /// the item) and its coding path.
    private mutating func next<T>(_ read: (DecodingContext, inout Int, [any CodingKey]) throws -> T) throws -> T {
        try checkNotAtEnd(T.self)
        let context = self.context, path = self.path
        var position = offset
        let value = try read(context, &position, path)
        offset = position
        currentIndex += 1
        return value
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next { try $0.decodeBool(at: &$1, $2) } }
    mutating func decode(_ type: String.Type) throws -> String { try next { try $0.decodeString(at: &$1, $2) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try next { try $0.decodeDouble(at: &$1, $2) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try next { try $0.decodeFloat(at: &$1, $2) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try integer() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

    private mutating func integer<T: FixedWidthInteger>() throws -> T {
        try next { try $0.decodeInteger(T.self, at: &$1, $2) }
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next { context, offset, path in
            try context.decodeValue(T.self, advancing: &offset, needsEnd: true, codingPath: path)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next { context, offset, path in
            let container = try _CBORDecoder(context: context, offset: offset, codingPath: path).container(keyedBy: type)
            offset = try context.end(ofItemAt: offset, codingPath: path)
            return container
        }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next { context, offset, path in
            let container = try _CBORDecoder(context: context, offset: offset, codingPath: path).unkeyedContainer()
            offset = try context.end(ofItemAt: offset, codingPath: path)
            return container
        }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next { context, offset, path in
            let decoder = _CBORDecoder(context: context, offset: offset, codingPath: path)
            offset = try context.end(ofItemAt: offset, codingPath: path)
            return decoder
        }
    }
}

/// One value read in place of a container.
struct CBORSingleValueDecodingContainer: SingleValueDecodingContainer {
    let context: DecodingContext
    let offset: Int
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { context.decodeNil(at: offset) }

    func decode(_ type: Bool.Type) throws -> Bool { var o = offset; return try context.decodeBool(at: &o, codingPath) }
    func decode(_ type: String.Type) throws -> String { var o = offset; return try context.decodeString(at: &o, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { var o = offset; return try context.decodeDouble(at: &o, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { var o = offset; return try context.decodeFloat(at: &o, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try integer() }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

    private func integer<T: FixedWidthInteger>() throws -> T {
        var o = offset
        return try context.decodeInteger(T.self, at: &o, codingPath)
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try context.decodeValue(T.self, at: offset, codingPath: codingPath)
    }
}
