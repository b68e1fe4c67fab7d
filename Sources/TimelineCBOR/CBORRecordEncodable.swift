#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A type that can also write itself straight to CBOR, without going through `Encoder`.
///
/// The counterpart of ``CBORRecordDecodable``: `Encodable` costs Swift's own machinery — boxed
/// containers, witness calls, run-time generic metadata — on every field before a byte is
/// written. For the records every append writes (a turn, its session, a change-log entry) that
/// was about a third of an append's instructions (`Docs/benchmarks.md`). DocumentStore
/// collections of a conforming type encode records through ``encode(cbor:)``; ``CBOREncoder``
/// keeps using `encode(to:)`.
///
/// ```swift
/// extension Note: CBORRecordEncodable {
///     func encode(cbor writer: inout CBORItemWriter) throws {
///         let map = writer.beginMap()                    // counts the entries until endMap
///         writer.entry(CodingKeys.id, id)
///         writer.entry(CodingKeys.text, text)
///         writer.entry(CodingKeys.subtitle, subtitle)   // an Optional: nothing when nil
///         try writer.entry(CodingKeys.tags, encoding: tags)   // any Encodable
///         writer.endMap(map)
///     }
/// }
/// ```
///
/// The bytes must equal what ``CBOREncoder`` writes for the value with the same ``CBOREncoder/fieldIDs``
/// (`encodeIfPresent` leaves a `nil` out; fields in `encode(to:)`'s order; a field the compact form
/// leaves out — its key's `intValue` negative — written only when ``CBORItemWriter/fieldIDs`` is
/// false). The tests of a conforming type should compare both.
public protocol CBORRecordEncodable: Encodable, SendableMetatype {
    /// Writes the value at the end of `writer`.
    func encode(cbor writer: inout CBORItemWriter) throws
}

/// The output of ``CBORRecordEncodable/encode(cbor:)``: writes items in the deterministic form
/// ``CBOREncoder`` writes (shortest heads, shortest exact floats, definite lengths).
public struct CBORItemWriter {
    var writer: CBORWriter
    /// Whether keys with an `intValue` are written as field ids, and keys with a negative one
    /// left out (``CBOREncoder/fieldIDs``).
    public let fieldIDs: Bool

    init(fieldIDs: Bool) {
        writer = CBORWriter(capacity: 0)
        self.fieldIDs = fieldIDs
    }

    /// Entries written since the innermost ``beginMap()``.
    private var entries = 0
    /// Where the innermost map opened and not closed yet starts (-1: none), and how many are open.
    private var innermostMap = -1
    fileprivate var openMaps = 0
    /// Set by a misuse (a map closed out of order, or twice); ``CBOREncoder/encodeRecord(_:appendingTo:)``
    /// then throws instead of returning bytes with a wrong count.
    private(set) var misused = false

    /// Where a map opened by ``beginMap()`` starts; hand it to ``endMap(_:)``.
    public struct MapStart {
        let position: Int
        let outerEntries: Int
        let outerMap: Int
    }

    /// Whether ``key(_:)`` writes `key`: false for a field the compact form leaves out.
    public func writes<Key: CodingKey>(_ key: Key) -> Bool {
        !fieldIDs || (key.intValue ?? 0) >= 0
    }

    /// Opens a map whose entries are counted as they are written (by ``key(_:)`` and the
    /// `entry` methods) until ``endMap(_:)`` writes the count into its head. Maps nest.
    public mutating func beginMap() -> MapStart {
        let start = MapStart(position: writer.bytes.count, outerEntries: entries, outerMap: innermostMap)
        writer.bytes.append(0xA0)
        (entries, innermostMap, openMaps) = (0, start.position, openMaps + 1)
        return start
    }

    /// Closes the map `start` opened: its head gets the number of entries written since. Maps
    /// close innermost first; closing another one (or one twice) writes nothing and makes the
    /// encoding fail.
    public mutating func endMap(_ start: MapStart) {
        guard start.position == innermostMap else {
            misused = true
            return
        }
        innermostMap = start.outerMap
        openMaps -= 1
        if entries < 24 {
            writer.bytes[start.position] = 0xA0 | UInt8(entries)
        } else {
            var head = CBORWriter(capacity: 9)
            head.head(5, UInt64(entries))
            writer.bytes[start.position] = head.bytes[0]
            writer.bytes.insert(contentsOf: head.bytes[1...], at: start.position + 1)
        }
        entries = start.outerEntries
    }

    /// The head of an array of `count` items; write them next.
    public mutating func array(count: Int) { writer.head(4, UInt64(count)) }

    /// A map key, counted as an entry: the field id with ``fieldIDs`` and an `intValue`, else
    /// the key's name. Writes nothing for a key ``writes(_:)`` says is left out — leave its value
    /// out too (the `entry` methods do).
    public mutating func key<Key: CodingKey>(_ key: Key) {
        if fieldIDs, let id = key.intValue {
            guard id >= 0 else { return }
            writer.unsigned(UInt64(id))
        } else {
            writer.text(key.stringValue)
        }
        entries += 1
    }

    /// An entry: `key` and `value`, unless `value` is nil (as `encodeIfPresent` leaves it out) or
    /// the compact form leaves `key` out.
    public mutating func entry<Key: CodingKey>(_ key: Key, _ value: String?) { entry(key, value) { $0.text($1) } }
    /// An entry of an integer (see ``entry(_:_:)-(Key,String?)``).
    public mutating func entry<Key: CodingKey>(_ key: Key, _ value: Int?) { entry(key, value) { $0.signed(Int64($1)) } }
    /// An entry of an integer (see ``entry(_:_:)-(Key,String?)``).
    public mutating func entry<Key: CodingKey>(_ key: Key, _ value: Int64?) { entry(key, value) { $0.signed($1) } }
    /// An entry of a float (see ``entry(_:_:)-(Key,String?)``).
    public mutating func entry<Key: CodingKey>(_ key: Key, _ value: Double?) { entry(key, value) { $0.double($1) } }
    /// An entry of a Boolean (see ``entry(_:_:)-(Key,String?)``).
    public mutating func entry<Key: CodingKey>(_ key: Key, _ value: Bool?) { entry(key, value) { $0.bool($1) } }
    /// An entry of a date (see ``entry(_:_:)-(Key,String?)`` and ``date(_:)``).
    public mutating func entry<Key: CodingKey>(_ key: Key, _ value: Date?) { entry(key, value) { $0.date($1) } }
    /// An entry of a UUID (see ``entry(_:_:)-(Key,String?)`` and ``uuid(_:)``).
    public mutating func entry<Key: CodingKey>(_ key: Key, _ value: UUID?) { entry(key, value) { $0.uuid($1) } }
    /// An entry of a text-to-text map (see ``entry(_:_:)-(Key,String?)`` and ``stringMap(_:)``).
    public mutating func entry<Key: CodingKey>(_ key: Key, _ value: [String: String]?) { entry(key, value) { $0.stringMap($1) } }

    /// Writes `key`, then `value` with `write`, unless `value` is nil or the compact form leaves `key` out.
    @inline(__always)
    private mutating func entry<Key: CodingKey, Value>(_ key: Key, _ value: Value?, _ write: (inout CBORWriter, Value) -> Void) {
        guard let value, writes(key) else { return }
        self.key(key)
        write(&writer, value)
    }
    /// An entry of any other value, through its `encode(to:)` (see ``encode(_:)``).
    public mutating func entry<Key: CodingKey, Value: Encodable>(_ key: Key, encoding value: Value?) throws {
        guard let value, writes(key) else { return }
        self.key(key)
        try encode(value)
    }

    /// A text string.
    public mutating func text(_ value: String) { writer.text(value) }
    /// An integer, in the shortest head.
    public mutating func integer(_ value: Int) { writer.signed(Int64(value)) }
    /// An integer, in the shortest head.
    public mutating func integer(_ value: Int64) { writer.signed(value) }
    /// A float, in the shortest width that holds it exactly.
    public mutating func double(_ value: Double) { writer.double(value) }
    /// `true` or `false`.
    public mutating func bool(_ value: Bool) { writer.bool(value) }
    /// `null`.
    public mutating func null() { writer.null() }
    /// A date: tag 1 over the epoch seconds, an integer when whole, else a float.
    public mutating func date(_ value: Date) { writer.date(value) }
    /// A UUID: tag 37 over its 16 bytes.
    public mutating func uuid(_ value: UUID) { writer.uuid(value) }
    /// A map of text to text, keys in RFC 8949 §4.2.1 order, as ``CBOREncoder`` writes a
    /// `[String: String]`.
    public mutating func stringMap(_ map: [String: String]) { writer.stringMap(map) }

    /// Any other value, through its `encode(to:)`, as ``CBOREncoder`` writes it.
    public mutating func encode<T: Encodable>(_ value: T) throws {
        try CBOREncoder(fieldIDs: fieldIDs).encode(value, appendingTo: &writer.bytes)
    }
}

extension CBOREncoder {
    /// Appends the CBOR encoding of `value` through its ``CBORRecordEncodable/encode(cbor:)`` —
    /// the same bytes as ``encode(_:appendingTo:)``, without `Encoder`.
    public func encodeRecord<T: CBORRecordEncodable>(_ value: T, appendingTo bytes: inout [UInt8]) throws {
        var writer = CBORItemWriter(fieldIDs: fieldIDs)
        swap(&writer.writer.bytes, &bytes)
        defer { swap(&writer.writer.bytes, &bytes) }
        if writer.writer.bytes.capacity - writer.writer.bytes.count < 512 { writer.writer.bytes.reserveCapacity(writer.writer.bytes.count + 512) }
        try value.encode(cbor: &writer)
        if writer.misused || writer.openMaps != 0 {
            // The type, not the value: describing a value that holds a NaN `Date` traps.
            throw EncodingError.invalidValue(T.self, .init(codingPath: [],
                debugDescription: "encode(cbor:) of \(T.self) left a map open or closed one out of order; close each map, innermost first, with the MapStart its beginMap returned"))
        }
    }
}
