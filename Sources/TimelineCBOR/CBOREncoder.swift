#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

/// Encodes `Encodable` values as CBOR (RFC 8949), deterministically: the same value always gives
/// the same bytes.
///
/// ```swift
/// let bytes = try CBOREncoder().encode(turn)
/// let back = try CBORDecoder().decode(Turn.self, from: bytes)
/// ```
///
/// - Structs and classes become maps keyed by field name (text strings), fields in declaration
///   order; arrays become arrays; `nil` becomes `null`.
/// - Integers of every width take the shortest head; floats the shortest of half, single and
///   double precision that holds them exactly; lengths are always definite.
/// - `Data` is a byte string; `Date` is tag 1 (epoch seconds: an integer when whole, else a
///   float); `UUID` is tag 37 over its 16 bytes; `URL` is tag 32 over its text; ``CBORValue`` is
///   written as itself.
/// - Dictionaries with `String` or `Int` keys become maps sorted in RFC 8949 §4.2.1 order
///   (shorter keys first, then bytewise), so their random iteration order never leaks into the bytes.
///
/// Containers are written straight into the output as the value encodes itself, so a nested
/// container must be filled before its parent is written to again, and `superEncoder()` must be
/// used before the next write to its container (both are how synthesized and ordinary `encode(to:)`
/// implementations behave); breaking that order throws `EncodingError.invalidValue`.
public struct CBOREncoder: Sendable {
    /// Writes the compact form of records whose `CodingKeys` carry field ids: a key with an
    /// `intValue` of 0 or more is written as that unsigned integer, and an entry whose key's
    /// `intValue` is negative is left out (key and value) — a field the record's database key
    /// already holds. Keys without an `intValue` (every synthesized `String` key, dictionary
    /// keys) are written as text either way. Off by default. See ``CBORFields`` for reading.
    public var fieldIDs: Bool

    /// Creates an encoder; `fieldIDs` writes the compact form (see ``fieldIDs``).
    public init(fieldIDs: Bool = false) {
        self.fieldIDs = fieldIDs
    }

    /// The CBOR encoding of `value`.
    /// - Throws: `EncodingError` when the value's `encode(to:)` misuses its containers or throws.
    /// - Complexity: O(n) in the size of the output.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(value, appendingTo: &bytes)
        return bytes
    }

    /// Appends the CBOR encoding of `value` to `bytes` (e.g. after a header of your own).
    public func encode<T: Encodable>(_ value: T, appendingTo bytes: inout [UInt8]) throws {
        let storage = EncodingStorage(fieldIDs: fieldIDs)
        if bytes.capacity - bytes.count < 512 { bytes.reserveCapacity(bytes.count + 512) }
        swap(&storage.writer.bytes, &bytes)
        defer { swap(&storage.writer.bytes, &bytes) }
        let start = storage.writer.bytes.count
        try storage.encodeValue(value, codingPath: [], slotStart: start)
        storage.close(downTo: 0)
        if let error = storage.error { throw error }
    }
}

/// The output and the stack of open containers shared by every encoder and container of one
/// `encode` call.
final class EncodingStorage {
    struct Frame {
        let id: Int
        /// Where the container's head byte is (a placeholder until the container closes).
        let position: Int
        /// 4 (array) or 5 (map).
        let major: UInt8
        var count: UInt64
    }

    /// The mutable state, kept behind a pointer: a class's stored properties are checked for
    /// exclusive access at run time on every use, which cost a quarter of all encoding work.
    struct State {
        var writer = CBORWriter(capacity: 0)
        var frames: [Frame] = []
        var nextID = 0
        /// The first misuse found; thrown at the end of `encode`.
        var error: EncodingError?
    }

    private let statePointer: UnsafeMutablePointer<State>
    /// Whether keys with an `intValue` are written as field ids (``CBOREncoder/fieldIDs``).
    let fieldIDs: Bool

    init(fieldIDs: Bool = false) {
        self.fieldIDs = fieldIDs
        statePointer = .allocate(capacity: 1)
        statePointer.initialize(to: State())
    }

    deinit {
        statePointer.deinitialize(count: 1)
        statePointer.deallocate()
    }

    var writer: CBORWriter {
        unsafeAddress { UnsafePointer(statePointer).pointer(to: \.writer)! }
        unsafeMutableAddress { statePointer.pointer(to: \.writer)! }
    }
    var frames: [Frame] {
        unsafeAddress { UnsafePointer(statePointer).pointer(to: \.frames)! }
        unsafeMutableAddress { statePointer.pointer(to: \.frames)! }
    }
    var nextID: Int {
        unsafeAddress { UnsafePointer(statePointer).pointer(to: \.nextID)! }
        unsafeMutableAddress { statePointer.pointer(to: \.nextID)! }
    }
    var error: EncodingError? {
        unsafeAddress { UnsafePointer(statePointer).pointer(to: \.error)! }
        unsafeMutableAddress { statePointer.pointer(to: \.error)! }
    }

    /// Opens an array or map at the end of the output, with a one-byte placeholder head.
    func open(major: UInt8) -> Int {
        nextID += 1
        frames.append(Frame(id: nextID, position: writer.bytes.count, major: major, count: 0))
        writer.bytes.append(major << 5)
        return nextID
    }

    /// Closes open containers until `depth` remain, writing each one's real head.
    func close(downTo depth: Int) {
        while frames.count > depth {
            let frame = frames.removeLast()
            if frame.count < 24 {
                writer.bytes[frame.position] = frame.major << 5 | UInt8(frame.count)
            } else {
                var head = CBORWriter(capacity: 9)
                head.head(frame.major, frame.count)
                writer.bytes[frame.position] = head.bytes[0]
                writer.bytes.insert(contentsOf: head.bytes[1...], at: frame.position + 1)
            }
        }
    }

    /// Prepares the container `id` at `depth` for one more item: closes the containers nested
    /// inside it and counts the item. Records a misuse and returns false when the container was
    /// already closed.
    @inline(__always)
    func beginItem(frame id: Int, depth: Int, codingPath: @autoclosure () -> [any CodingKey]) -> Bool {
        if frames.count > depth + 1 { close(downTo: depth + 1) }
        guard frames.count == depth + 1, frames[depth].id == id else {
            if error == nil {
                error = .invalidValue((), .init(codingPath: codingPath(),
                    debugDescription: "a container was written to after its parent moved on; fill nested containers before writing to their parent"))
            }
            return false
        }
        frames[depth].count += 1
        return true
    }

    /// Throws the recorded misuse, if any.
    @inline(__always)
    func check() throws {
        if let error { throw error }
    }

    /// Writes one value: primitives and the special types inline, dictionaries sorted, anything
    /// else through its own `encode(to:)`. If that writes nothing, an empty map stands in.
    func encodeValue<T: Encodable>(_ value: T, codingPath: @autoclosure () -> [any CodingKey], slotStart: Int) throws {
        // Refused as the decoder refuses it (a NaN `Date` traps when described); the error holds
        // the seconds, not the `Date`, so that describing it is safe.
        if T.self == Date.self, unsafeBitCast(value, to: Date.self).timeIntervalSince1970.isNaN {
            throw EncodingError.invalidValue(Double.nan, .init(codingPath: codingPath(), debugDescription: "a date of NaN seconds is no time"))
        }
        if writePrimitive(value) { return }
        if T.self == [String: String].self {
            writer.stringMap(unsafeBitCast(value, to: [String: String].self))
            return
        }
        if T.self == [String: CBORValue].self {
            try encodeStringMap(unsafeBitCast(value, to: [String: CBORValue].self), codingPath: codingPath())
            return
        }
        // A Dictionary is one word: checking the size first skips the costly cast for everything else.
        if MemoryLayout<T>.size == MemoryLayout<[Int: Int]>.size, let sortable = value as? any SortedMapEncodable {
            try sortable.encodeSorted(into: self, codingPath: codingPath())
            return
        }
        let encoder = _CBOREncoder(storage: self, codingPath: codingPath())
        try value.encode(to: encoder)
        close(downTo: encoder.baseDepth)
        try check()
        if writer.bytes.count == slotStart { writer.bytes.append(0xA0) }
    }

    /// Writes `value` directly when it is a primitive or one of the special types.
    @inline(__always)
    func writePrimitive<T>(_ value: T) -> Bool {
        if T.self == String.self {
            writer.text(unsafeBitCast(value, to: String.self))
        } else if T.self == Int.self {
            writer.signed(Int64(unsafeBitCast(value, to: Int.self)))
        } else if T.self == Bool.self {
            writer.bool(unsafeBitCast(value, to: Bool.self))
        } else if T.self == Double.self {
            writer.double(unsafeBitCast(value, to: Double.self))
        } else if T.self == Date.self {
            writeDate(unsafeBitCast(value, to: Date.self))
        } else if T.self == UUID.self {
            writer.uuid(unsafeBitCast(value, to: UUID.self))
        } else if T.self == Int64.self {
            writer.signed(unsafeBitCast(value, to: Int64.self))
        } else if T.self == UInt64.self {
            writer.unsigned(unsafeBitCast(value, to: UInt64.self))
        } else if T.self == Int32.self {
            writer.signed(Int64(unsafeBitCast(value, to: Int32.self)))
        } else if T.self == UInt32.self {
            writer.unsigned(UInt64(unsafeBitCast(value, to: UInt32.self)))
        } else if T.self == Int16.self {
            writer.signed(Int64(unsafeBitCast(value, to: Int16.self)))
        } else if T.self == UInt16.self {
            writer.unsigned(UInt64(unsafeBitCast(value, to: UInt16.self)))
        } else if T.self == Int8.self {
            writer.signed(Int64(unsafeBitCast(value, to: Int8.self)))
        } else if T.self == UInt8.self {
            writer.unsigned(UInt64(unsafeBitCast(value, to: UInt8.self)))
        } else if T.self == UInt.self {
            writer.unsigned(UInt64(unsafeBitCast(value, to: UInt.self)))
        } else if T.self == Float.self {
            writer.double(Double(unsafeBitCast(value, to: Float.self)))
        } else if T.self == Data.self {
            unsafeBitCast(value, to: Data.self).withUnsafeBytes { writer.byteString($0) }
        } else if T.self == URL.self {
            writer.tag(32)
            writer.text(unsafeBitCast(value, to: URL.self).absoluteString)
        } else if T.self == CBORValue.self {
            unsafeBitCast(value, to: CBORValue.self).write(to: &writer)
        } else {
            return false
        }
        return true
    }

    /// A dictionary with text keys, sorted in RFC 8949 §4.2.1 order, with concrete value types (the
    /// generic `SortedMapEncodable` path costs several times as much); text values go through
    /// `CBORWriter.stringMap`, which the fast record encoders share.
    func encodeStringMap<Value: Encodable>(_ map: [String: Value], codingPath: [any CodingKey]) throws {
        writer.head(5, UInt64(map.count))
        for key in map.keys.sorted(by: CBORKeyOrder.precedes) {
            writer.text(key)
            // Subscripting by a key taken from the dictionary always finds it.
            guard let value = map[key] else { continue }
            try encodeValue(value, codingPath: codingPath + [AnyCodingKey(stringValue: key)], slotStart: writer.bytes.count)
        }
    }

    func writeDate(_ date: Date) { writer.date(date) }
}

/// The `Encoder` handed to a value's `encode(to:)`.
final class _CBOREncoder: Encoder {
    let storage: EncodingStorage
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// How many containers were open when this encoder was made: its own goes at this depth.
    let baseDepth: Int
    /// The container this encoder opened, if any: (id, major type).
    private var opened: (id: Int, major: UInt8)?
    private var wroteSingleValue = false

    init(storage: EncodingStorage, codingPath: [any CodingKey]) {
        self.storage = storage
        self.codingPath = codingPath
        self.baseDepth = storage.frames.count
    }

    private func openContainer(major: UInt8) -> Int {
        if let opened, opened.major == major { return opened.id }
        if opened != nil || wroteSingleValue { misuse("requested a second, different container from one encoder") }
        storage.close(downTo: baseDepth)
        let id = storage.open(major: major)
        opened = (id, major)
        return id
    }

    func misuse(_ message: String) {
        if storage.error == nil {
            storage.error = .invalidValue((), .init(codingPath: codingPath, debugDescription: message))
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let id = openContainer(major: 5)
        return KeyedEncodingContainer(CBORKeyedEncodingContainer<Key>(encoder: self, frame: id, depth: baseDepth, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let id = openContainer(major: 4)
        return CBORUnkeyedEncodingContainer(encoder: self, frame: id, depth: baseDepth, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        CBORSingleValueEncodingContainer(encoder: self)
    }

    /// Claims the single-value slot; records a misuse when something was already written.
    func claimSingleValue() -> Bool {
        if wroteSingleValue || opened != nil {
            misuse("a single-value container was written twice, or after another container")
            return false
        }
        wroteSingleValue = true
        storage.close(downTo: baseDepth)
        return true
    }
}

/// A map being written: one text key and one value per entry.
struct CBORKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: _CBOREncoder
    let frame: Int
    let depth: Int
    let codingPath: [any CodingKey]
    var storage: EncodingStorage { encoder.storage }

    /// Starts an entry: closes nested containers, counts it, writes the key. Returns false for
    /// an entry the compact form leaves out (its value must not be written either).
    @inline(__always)
    private func key(_ key: Key) throws -> Bool {
        let id = storage.fieldIDs ? key.intValue : nil
        if let id, id < 0 { return false }
        guard storage.beginItem(frame: frame, depth: depth, codingPath: codingPath + [key]) else { try storage.check(); return true }
        if let id { storage.writer.unsigned(UInt64(id)) } else { storage.writer.text(key.stringValue) }
        return true
    }

    mutating func encodeNil(forKey key: Key) throws { if try self.key(key) { storage.writer.null() } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { if try self.key(key) { storage.writer.bool(value) } }
    mutating func encode(_ value: String, forKey key: Key) throws { if try self.key(key) { storage.writer.text(value) } }
    mutating func encode(_ value: Double, forKey key: Key) throws { if try self.key(key) { storage.writer.double(value) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { if try self.key(key) { storage.writer.double(Double(value)) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { if try self.key(key) { storage.writer.signed(Int64(value)) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { if try self.key(key) { storage.writer.signed(Int64(value)) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { if try self.key(key) { storage.writer.signed(Int64(value)) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { if try self.key(key) { storage.writer.signed(Int64(value)) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { if try self.key(key) { storage.writer.signed(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { if try self.key(key) { storage.writer.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { if try self.key(key) { storage.writer.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { if try self.key(key) { storage.writer.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { if try self.key(key) { storage.writer.unsigned(UInt64(value)) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { if try self.key(key) { storage.writer.unsigned(value) } }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        guard try self.key(key) else { return }
        try storage.encodeValue(value, codingPath: codingPath + [key], slotStart: storage.writer.bytes.count)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = nestedEncoder(forKey: key)
        return nested.container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        nestedEncoder(forKey: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { nestedEncoder(forKey: Key(stringValue: "super")) }

    mutating func superEncoder(forKey key: Key) -> any Encoder { nestedEncoder(forKey: key) }

    /// Writes `key` and returns an encoder for its value (a fallback key when `Key` cannot be
    /// made from "super").
    private func nestedEncoder(forKey key: Key?) -> _CBOREncoder {
        let path = codingPath + (key.map { [$0] } ?? [])
        if storage.beginItem(frame: frame, depth: depth, codingPath: path) {
            // A nested container's entry is never left out: its id when it has one, else its name.
            if storage.fieldIDs, let id = key?.intValue, id >= 0 { storage.writer.unsigned(UInt64(id)) } else { storage.writer.text(key?.stringValue ?? "super") }
        }
        return _CBOREncoder(storage: storage, codingPath: path)
    }
}

/// An array being written.
struct CBORUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: _CBOREncoder
    let frame: Int
    let depth: Int
    let codingPath: [any CodingKey]
    private(set) var count = 0
    var storage: EncodingStorage { encoder.storage }

    init(encoder: _CBOREncoder, frame: Int, depth: Int, codingPath: [any CodingKey]) {
        self.encoder = encoder
        self.frame = frame
        self.depth = depth
        self.codingPath = codingPath
    }

    @inline(__always)
    private mutating func item() throws {
        count += 1
        guard storage.beginItem(frame: frame, depth: depth, codingPath: codingPath) else { try storage.check(); return }
    }

    mutating func encodeNil() throws { try item(); storage.writer.null() }
    mutating func encode(_ value: Bool) throws { try item(); storage.writer.bool(value) }
    mutating func encode(_ value: String) throws { try item(); storage.writer.text(value) }
    mutating func encode(_ value: Double) throws { try item(); storage.writer.double(value) }
    mutating func encode(_ value: Float) throws { try item(); storage.writer.double(Double(value)) }
    mutating func encode(_ value: Int) throws { try item(); storage.writer.signed(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try item(); storage.writer.signed(Int64(value)) }
    mutating func encode(_ value: Int16) throws { try item(); storage.writer.signed(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try item(); storage.writer.signed(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try item(); storage.writer.signed(value) }
    mutating func encode(_ value: UInt) throws { try item(); storage.writer.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try item(); storage.writer.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try item(); storage.writer.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try item(); storage.writer.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try item(); storage.writer.unsigned(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try item()
        try storage.encodeValue(value, codingPath: codingPath, slotStart: storage.writer.bytes.count)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        nestedEncoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { nestedEncoder().unkeyedContainer() }

    mutating func superEncoder() -> any Encoder { nestedEncoder() }

    private mutating func nestedEncoder() -> _CBOREncoder {
        count += 1
        _ = storage.beginItem(frame: frame, depth: depth, codingPath: codingPath)
        return _CBOREncoder(storage: storage, codingPath: codingPath)
    }
}

/// One value written in place of a container.
struct CBORSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: _CBOREncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var storage: EncodingStorage { encoder.storage }

    @inline(__always)
    private func claim() throws {
        guard encoder.claimSingleValue() else { try storage.check(); return }
    }

    mutating func encodeNil() throws { try claim(); storage.writer.null() }
    mutating func encode(_ value: Bool) throws { try claim(); storage.writer.bool(value) }
    mutating func encode(_ value: String) throws { try claim(); storage.writer.text(value) }
    mutating func encode(_ value: Double) throws { try claim(); storage.writer.double(value) }
    mutating func encode(_ value: Float) throws { try claim(); storage.writer.double(Double(value)) }
    mutating func encode(_ value: Int) throws { try claim(); storage.writer.signed(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try claim(); storage.writer.signed(Int64(value)) }
    mutating func encode(_ value: Int16) throws { try claim(); storage.writer.signed(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try claim(); storage.writer.signed(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try claim(); storage.writer.signed(value) }
    mutating func encode(_ value: UInt) throws { try claim(); storage.writer.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try claim(); storage.writer.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try claim(); storage.writer.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try claim(); storage.writer.unsigned(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try claim(); storage.writer.unsigned(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try claim()
        try storage.encodeValue(value, codingPath: codingPath, slotStart: storage.writer.bytes.count)
    }
}

/// Dictionaries whose keys Swift encodes as a keyed container (`String` and `Int`): written as a
/// map sorted in deterministic order instead of the dictionary's random iteration order.
protocol SortedMapEncodable {
    func encodeSorted(into storage: EncodingStorage, codingPath: [any CodingKey]) throws
}

extension Dictionary: SortedMapEncodable where Key: Encodable, Value: Encodable {
    func encodeSorted(into storage: EncodingStorage, codingPath: [any CodingKey]) throws {
        if Key.self == String.self {
            try storage.encodeStringMap(unsafeBitCast(self, to: [String: Value].self), codingPath: codingPath)
        } else if Key.self == Int.self {
            let textKeyed = Dictionary<String, Value>(uniqueKeysWithValues: map { (String(unsafeBitCast($0.key, to: Int.self)), $0.value) })
            try storage.encodeStringMap(textKeyed, codingPath: codingPath)
        } else {
            // Other key types encode as an array of alternating keys and values: sort the pairs
            // by the encoding of their keys.
            var pairs: [([UInt8], Key, Value)] = []
            for (key, value) in self { pairs.append((try CBOREncoder().encode(key), key, value)) }
            pairs.sort { $0.0.lexicographicallyPrecedes($1.0) }
            storage.writer.head(4, UInt64(pairs.count * 2))
            for (_, key, value) in pairs {
                try storage.encodeValue(key, codingPath: codingPath, slotStart: storage.writer.bytes.count)
                try storage.encodeValue(value, codingPath: codingPath, slotStart: storage.writer.bytes.count)
            }
        }
    }
}

/// The deterministic order of text map keys (RFC 8949 §4.2.1): the order of their encodings,
/// which for text strings is shorter first, then bytewise.
enum CBORKeyOrder {
    static func precedes(_ a: String, _ b: String) -> Bool {
        let (x, y) = (a.utf8, b.utf8)
        if x.count != y.count { return x.count < y.count }
        return x.lexicographicallyPrecedes(y)
    }
}

/// A coding key made from any string or integer, for error paths and dictionary keys.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; intValue = Int(stringValue) }
    init(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}
