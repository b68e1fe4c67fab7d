#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
internal import TimelineDocumentStore
internal import TimelineCBOR

/// A stored turn read in place: each field is found and decoded when asked for, straight from
/// the database's memory map, and nothing else is built. Handed to the closure of
/// ``TimelineTransaction/forEachTurn(of:range:reverse:limit:after:_:)``; valid only during that
/// call (it points into the transaction's snapshot), so read what you need and keep values, not
/// the view.
///
/// ```swift
/// var bytes = 0
/// try timeline.forEachTurn(of: session.id, reverse: true, limit: 100) { turn in
///     if try turn.role == .assistant { bytes += try turn.withContentUTF8 { $0.count } }
/// }
/// ```
///
/// Fields are stored in the order of ``Turn``'s properties, and read in that order they cost one
/// walk over the record in all; a field behind the walk starts it again from the record's first
/// field (a few entries), so fields can be read in any order and more than once. The common
/// fields (`id`, `role`, `content`, `created`, the token counts, `cost`) are read by a quick walk
/// over the compact form; anything it cannot decide for certain — an older record in the text
/// form, damaged bytes, a value of an unusual form — and the other fields are read the general
/// way (`Docs/architecture.md`, "CBORCompactScan"), with the same result. A field that a damaged
/// record lacks or holds in the wrong type throws `DocumentStoreError` (`.corrupted`, naming the
/// record) out of the listing when it is read; a record whose structure is damaged, when the
/// walk reaches the damage.
public struct TurnView {
    var record: QuickRecord
    /// The session whose database entry holds the turn — for a turn a fork inherited, the
    /// ancestor that wrote it (as ``Turn/sessionID``). Known from the record's key: free to read.
    public let sessionID: UUID
    /// The turn's position in the history (as ``Turn/sequence``). Known from the key: free to read.
    public let sequence: Int

    init(_ item: UnsafeRawBufferPointer, sessionID: UUID, sequence: Int) throws {
        record = try QuickRecord(item, Turn.fields)
        self.sessionID = sessionID
        self.sequence = sequence
    }

    /// The turn's own id.
    public var id: UUID { mutating get throws { try record.required(.id, Turn.fields) { $0.uuid(field: $1) } } }
    /// Who spoke (the four common roles are read without making a `String`).
    public var role: Turn.Role {
        mutating get throws {
            if let role = record.quick(Turn.CodingKeys.role, { $0.textBytes(field: $1).map(Turn.Role.init(commonUTF8:)) }) { return role }
            return try record.general(Turn.fields) { map in
                guard var value = try map.value(.role) else { throw QuickRecord.missing(Turn.CodingKeys.role, in: Turn.self) }
                return try Turn.Role(commonUTF8: value.decodeTextBytes()) ?? Turn.Role(map.require(.role, as: String.self))
            }
        }
    }
    /// The text, as a `String` (its UTF-8 checked).
    public var content: String { mutating get throws { try record.required(.content, Turn.fields) { $0.text(field: $1) } } }
    /// Calls `body` with the text's UTF-8 bytes as stored, in place — no `String` is made, and the
    /// bytes are not checked (``content`` checks them) — and returns its result. The buffer is
    /// valid only during `body`.
    public mutating func withContentUTF8<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        try body(try record.textBytes(.content, Turn.fields, of: Turn.self))
    }
    /// When the turn was written.
    public var created: Date { mutating get throws { try record.required(.created, Turn.fields) { $0.date(field: $1) } } }
    /// How long producing the turn took, in seconds, if recorded.
    public var duration: Double? { mutating get throws { try record.nullable(.duration, Turn.fields, QuickRecord.unread) } }
    /// Input tokens, if recorded.
    public var inputTokens: Int? { mutating get throws { try record.nullable(.inputTokens, Turn.fields) { $0.optionalInt(field: $1) } } }
    /// Output tokens, if recorded.
    public var outputTokens: Int? { mutating get throws { try record.nullable(.outputTokens, Turn.fields) { $0.optionalInt(field: $1) } } }
    /// Cost, if recorded.
    public var cost: Cost? {
        // `.some`: a null reads as `.value(nil)`, as the whole record reads it.
        mutating get throws { try record.nullable(.cost, Turn.fields) { $0.optionalInt(field: $1).map { .some($0.map(Int64.init)) } }.map(Cost.init(nanos:)) }
    }
    /// The tool calls the turn made.
    public var toolCalls: [Turn.ToolCall] { mutating get throws { try record.array(.toolCalls, Turn.fields, of: Turn.ToolCall.self) } }
    /// Structured parts besides the text.
    public var blocks: [Turn.Block] { mutating get throws { try record.array(.blocks, Turn.fields, of: Turn.Block.self) } }
    /// Free-form string metadata.
    public var metadata: [String: String] { mutating get throws { try record.defaulted(.metadata, Turn.fields, [:], QuickRecord.unread) } }

    /// The whole turn, as ``TimelineTransaction/turns(of:range:reverse:limit:after:)`` returns it.
    public func turn() throws -> Turn {
        try Turn.stored(record.item, sessionID: sessionID, sequence: sequence)
    }
}

/// A stored session read in place, as ``TurnView`` reads a turn: handed to the closure of
/// ``TimelineTransaction/forEachSession(filter:order:limit:after:_:)``, valid only during that
/// call. The id comes from the listing's index entry; every other field is decoded when asked for.
///
/// ```swift
/// try timeline.forEachSession(filter: SessionFilter(project: "travel"), limit: 20) { session in
///     print(session.id, try session.title, try session.turnCount)
/// }
/// ```
public struct SessionView {
    var record: QuickRecord
    /// The session's id. Known from the listing: free to read.
    public let id: UUID

    init(_ item: UnsafeRawBufferPointer, id: UUID) throws {
        record = try QuickRecord(item, Session.fields)
        self.id = id
    }

    /// A human-readable title.
    public var title: String { mutating get throws { try record.required(.title, Session.fields) { $0.text(field: $1) } } }
    /// Calls `body` with the title's UTF-8 bytes as stored, in place — no `String` is made, and
    /// the bytes are not checked (``title`` checks them) — and returns its result. The buffer is
    /// valid only during `body`.
    public mutating func withTitleUTF8<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        try body(try record.textBytes(.title, Session.fields, of: Session.self))
    }
    /// The project, if any.
    public var project: String? { mutating get throws { try record.optional(.project, Session.fields) { $0.text(field: $1) } } }
    /// The session this one was forked from, if any.
    public var parentID: UUID? { mutating get throws { try record.optional(.parentID, Session.fields) { $0.uuid(field: $1) } } }
    /// For a fork: how many of the parent's turns it inherits.
    public var branchPoint: Int? { mutating get throws { try record.optionalCount(.branchPoint, Session.fields) } }
    /// The branch's name, if any.
    public var branchName: String? { mutating get throws { try record.optional(.branchName, Session.fields) { $0.text(field: $1) } } }
    /// The model, if recorded.
    public var model: String? { mutating get throws { try record.optional(.model, Session.fields) { $0.text(field: $1) } } }
    /// The provider, if recorded.
    public var provider: String? { mutating get throws { try record.optional(.provider, Session.fields) { $0.text(field: $1) } } }
    /// When the session was created.
    public var created: Date { mutating get throws { try record.required(.created, Session.fields) { $0.date(field: $1) } } }
    /// When the session record last changed.
    public var updated: Date { mutating get throws { try record.required(.updated, Session.fields) { $0.date(field: $1) } } }
    /// When the last turn was appended (or the session created): the listing's order.
    public var lastActivity: Date { mutating get throws { try record.required(.lastActivity, Session.fields) { $0.date(field: $1) } } }
    /// The number of turns in the session's history, inherited ones included.
    public var turnCount: Int { mutating get throws { try record.count(.turnCount, Session.fields) } }
    /// Input tokens of the session's own turns.
    public var inputTokens: Int { mutating get throws { try record.defaulted(.inputTokens, Session.fields, 0, QuickRecord.integer) } }
    /// Output tokens of the session's own turns.
    public var outputTokens: Int { mutating get throws { try record.defaulted(.outputTokens, Session.fields, 0, QuickRecord.integer) } }
    /// Cost of the session's own turns.
    public var cost: Cost {
        mutating get throws { Cost(nanos: try record.defaulted(.cost, Session.fields, Int64(0)) { QuickRecord.integer(&$0, $1).map(Int64.init) }) }
    }
    /// Whether the session is archived.
    public var archived: Bool { mutating get throws { try record.defaulted(.archived, Session.fields, false, QuickRecord.unread) } }
    /// Free-form string metadata.
    public var metadata: [String: String] { mutating get throws { try record.defaulted(.metadata, Session.fields, [:], QuickRecord.unread) } }
    /// How many checkpoints were ever saved in the session.
    public var checkpointCount: Int { mutating get throws { try record.count(.checkpointCount, Session.fields) } }
    /// How many crystals were ever saved for the session.
    public var crystalCount: Int { mutating get throws { try record.count(.crystalCount, Session.fields) } }

    /// The whole session, as ``TimelineTransaction/listSessions(filter:order:limit:after:)`` returns it.
    public func session() throws -> Session {
        var session = try CBORDecoder().decode(Session.self, from: record.item)
        Session.restoreKeyFields(&session, id: id)
        guard session.id == id else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the session listed as \(id) says it is \(session.id)"))
        }
        return session
    }
}

/// What a record's field enumeration is to the views' readers.
typealias RecordField = CodingKey & CaseIterable & Equatable

/// A stored record read by a view: the quick walk over the compact form first
/// (`CBORCompactScan`), the general reader (`CBORMapView`) for a field the walk leaves undecided
/// — a record in the text form, damaged bytes, a value of an unusual form — or that has no quick
/// reader. Both give the same answer; the general one throws the errors damaged bytes deserve.
struct QuickRecord {
    var scan: CBORCompactScan
    let item: UnsafeRawBufferPointer

    /// A record that is no map at all is refused here, as the general reader refuses it
    /// (`fields` is reached only then: reaching a type's static table costs a call on every view).
    @inline(__always)
    init<Field: RecordField>(_ item: UnsafeRawBufferPointer, _ fields: @autoclosure () -> CBORFields<Field>) throws {
        let scan = CBORCompactScan(item)
        if !scan.startsWithMap { _ = try CBORMapView(item, fields: fields()) }
        self.scan = scan
        self.item = item
    }

    /// A quick reader of a field: one of `CBORCompactScan`'s typed reads (`date(field:)` and the
    /// others), given the field's id.
    typealias Read<Value> = (inout CBORCompactScan, Int) -> CBORCompactScan.Reading<Value>

    /// The quick reader of an integer that may not be `null`: a `null` is left to the general
    /// reader, which refuses it as the whole record does.
    static func integer(_ scan: inout CBORCompactScan, _ id: Int) -> CBORCompactScan.Reading<Int> {
        scan.optionalInt(field: id).map { $0 }
    }

    /// The quick reader of a field that has none: it tells only that the record lacks the field.
    static func unread<Value>(_ scan: inout CBORCompactScan, _ id: Int) -> CBORCompactScan.Reading<Value> {
        scan.lookup(id) == CBORCompactScan.absent ? .absent : .undecided
    }

    /// `read`'s value of `field`, when the quick walk reads it (`nil`: it cannot, or the record
    /// lacks the field).
    @inline(__always)
    mutating func quick<Field: RecordField, Value>(_ field: Field, _ read: Read<Value>) -> Value? {
        if case .value(let value) = read(&scan, field.intValue ?? -1) { return value }
        return nil
    }

    /// A field the record cannot lack.
    @inline(__always)
    mutating func required<Field: RecordField, Value: Decodable>(_ field: Field, _ fields: @autoclosure () -> CBORFields<Field>, _ read: Read<Value>) throws -> Value {
        if let value = quick(field, read) { return value }
        return try general(fields()) { try $0.require(field, as: Value.self) }
    }

    /// A field the record may lack, or hold as `null` (which `read` reads as `nil`).
    @inline(__always)
    mutating func nullable<Field: RecordField, Value: Decodable>(_ field: Field, _ fields: @autoclosure () -> CBORFields<Field>, _ read: Read<Value?>) throws -> Value? {
        switch read(&scan, field.intValue ?? -1) {
        case .value(let value): value
        case .absent: nil
        case .undecided: try general(fields()) { try $0.decode(field, as: Value.self) }
        }
    }

    /// An optional field read by a quick reader of a value that cannot be `null` (a text, a UUID).
    @inline(__always)
    mutating func optional<Field: RecordField, Value: Decodable>(_ field: Field, _ fields: @autoclosure () -> CBORFields<Field>, _ read: Read<Value>) throws -> Value? {
        try nullable(field, fields()) { scan, id in read(&scan, id).map { .some($0) } }
    }

    /// A field the record may lack, whose value is then `fallback`, and may not hold as `null`
    /// (as the whole record reads it).
    @inline(__always)
    mutating func defaulted<Field: RecordField, Value: Decodable>(
        _ field: Field, _ fields: @autoclosure () -> CBORFields<Field>, _ fallback: Value, _ read: Read<Value>
    ) throws -> Value {
        switch read(&scan, field.intValue ?? -1) {
        case .value(let value): value
        case .absent: fallback
        case .undecided: try general(fields()) { map in try map.value(field).map { var value = $0; return try value.decode(Value.self) } ?? fallback }
        }
    }

    /// A count (never negative): 0 when the record lacks it; not `null`.
    @inline(__always)
    mutating func count<Field: RecordField>(_ field: Field, _ fields: @autoclosure () -> CBORFields<Field>) throws -> Int {
        switch scan.optionalInt(field: field.intValue ?? -1) {
        case .value(let value?) where value >= 0: value
        case .absent: 0
        default: try general(fields()) { map in try map.value(field).map { var value = $0; return try value.decodeCount() } ?? 0 }
        }
    }

    /// A count (never negative) the record may lack or hold as `null`.
    mutating func optionalCount<Field: RecordField>(_ field: Field, _ fields: @autoclosure () -> CBORFields<Field>) throws -> Int? {
        switch scan.optionalInt(field: field.intValue ?? -1) {
        case .value(let value) where (value ?? 0) >= 0: value
        case .absent: nil
        default:
            try general(fields()) { map in
                guard var value = try map.value(field), !value.decodeNil() else { return nil }
                return try value.decodeCount()
            }
        }
    }

    /// A text field's UTF-8 bytes as stored, for a field the record cannot lack.
    @inline(__always)
    mutating func textBytes<Field: RecordField, Record>(_ field: Field, _ fields: @autoclosure () -> CBORFields<Field>, of record: Record.Type) throws -> UnsafeRawBufferPointer {
        if let bytes = quick(field, { $0.textBytes(field: $1) }) { return bytes }
        return try general(fields()) { map in
            guard var value = try map.value(field) else { throw Self.missing(field, in: Record.self) }
            return try value.decodeTextBytes()
        }
    }

    /// An array field of records (empty when absent), read as the whole record reads it.
    func array<Field: RecordField, Item: CBORRecordDecodable>(_ field: Field, _ fields: @autoclosure () -> CBORFields<Field>, of type: Item.Type) throws -> [Item] {
        var items: [Item] = []
        try general(fields()) { map in
            if var value = try map.value(field) {
                try value.readArray { item in items.append(try Item(cbor: &item)) }
            }
        }
        return items
    }

    /// `body`'s result with the general reader. It is made for each such read and walks the
    /// record again: keeping one would make every view larger and no longer plain bytes to copy,
    /// for reads that are rare.
    @inline(never)
    func general<Field: RecordField, Result>(_ fields: CBORFields<Field>, _ body: (inout CBORMapView<Field>) throws -> Result) throws -> Result {
        var map = try CBORMapView(item, fields: fields)
        return try body(&map)
    }

    /// The error for a field the record cannot lack.
    static func missing<Field: RecordField, Record>(_ field: Field, in record: Record.Type) -> DecodingError {
        CBORItemReader.missingField(field.stringValue, in: Record.self)
    }
}

extension Session {
    /// Sets the id the compact form leaves to the key (a decoded compact record has the zero id);
    /// a record in the text form keeps the id it carries, so that a check can find one stored
    /// under another key.
    static func restoreKeyFields(_ session: inout Session, id: UUID) {
        if session.id == .zero { session.id = id }
    }
}

extension Turn {
    /// The turn whose stored CBOR item is `item`, under the key `sessionID` ‖ `sequence`.
    ///
    /// A record in the text form carries its session id and sequence; one that says it is another
    /// turn (only damage or a bad load makes one) is a decoding error.
    static func stored(_ item: UnsafeRawBufferPointer, sessionID: UUID, sequence: Int) throws -> Turn {
        var turn = try CBORDecoder().decode(Turn.self, from: item)
        Turn.restoreKeyFields(&turn, sessionID: sessionID, sequence: sequence)
        guard turn.sequence == sequence, turn.sessionID == sessionID else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the turn stored at sequence \(sequence) of session \(sessionID) says it is \(turn.sequence) of \(turn.sessionID)"))
        }
        return turn
    }

    /// The names of a stored turn's field ids, for ``TimelineTransaction/turnsJSON(of:range:reverse:limit:after:)``.
    static let jsonNames = JSONFieldNames(Turn.CodingKeys.self, nested: [(.toolCalls, JSONFieldNames(Turn.ToolCall.CodingKeys.self)),
                                                                         (.blocks, JSONFieldNames(Turn.Block.CodingKeys.self))])

    /// The start of the JSON members of the fields the compact form leaves to the key,
    /// `"sessionID":"…","sequence":` — the sequence's digits follow.
    static func jsonKeyFieldsPrefix(_ sessionID: UUID) -> [UInt8] {
        Array(#""sessionID":"\#(sessionID.uuidString)","sequence":"#.utf8)
    }

    /// Sets what the compact form leaves to the key (a decoded compact record has the sequence
    /// -1). A record in the text form keeps the two fields it carries, so that a check can find
    /// one stored under another key.
    static func restoreKeyFields(_ turn: inout Turn, sessionID: UUID, sequence: Int) {
        guard turn.sequence == -1 else { return }
        turn.sessionID = sessionID
        turn.sequence = sequence
    }
}

extension Turn.Role {
    /// The common role whose name is UTF-8 `bytes`, or `nil` for any other name (compared a word
    /// at a time: a generic `elementsEqual` cost a third of a view's reading).
    @inline(__always)
    init?(commonUTF8 bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return nil }
        switch bytes.count {
        case 4:
            switch UInt32(littleEndian: base.loadUnaligned(as: UInt32.self)) {
            case 0x7265_7375: self = .user         // "user"
            case 0x6C6F_6F74: self = .tool         // "tool"
            default: return nil
            }
        case 6 where UInt32(littleEndian: base.loadUnaligned(as: UInt32.self)) == 0x7473_7973      // "syst"
                && UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 4, as: UInt16.self)) == 0x6D65:   // "em"
            self = .system
        case 9 where UInt64(littleEndian: base.loadUnaligned(as: UInt64.self)) == 0x6E61_7473_6973_7361  // "assistan"
                && base.load(fromByteOffset: 8, as: UInt8.self) == 0x74:                                 // "t"
            self = .assistant
        default: return nil
        }
    }
}
