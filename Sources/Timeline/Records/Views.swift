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
/// The record is walked at most once, as far as the fields read so far lie (they are stored in
/// the order of ``Turn``'s properties), and a field passed on the way is remembered, so fields
/// can be read in any order and more than once. A field that a damaged record lacks or holds in
/// the wrong type throws `DocumentStoreError` (`.corrupted`, naming the record) out of the
/// listing when it is read; a record whose structure is damaged, when the walk reaches the damage.
public struct TurnView {
    var map: CBORMapView<Turn.CodingKeys>
    let item: UnsafeRawBufferPointer
    /// The session whose database entry holds the turn — for a turn a fork inherited, the
    /// ancestor that wrote it (as ``Turn/sessionID``). Known from the record's key: free to read.
    public let sessionID: UUID
    /// The turn's position in the history (as ``Turn/sequence``). Known from the key: free to read.
    public let sequence: Int

    init(_ item: UnsafeRawBufferPointer, sessionID: UUID, sequence: Int) throws {
        map = try CBORMapView(item, fields: Turn.fields)
        self.item = item
        self.sessionID = sessionID
        self.sequence = sequence
    }

    /// The turn's own id.
    public var id: UUID { mutating get throws { try map.require(.id, as: UUID.self) } }
    /// Who spoke (the four common roles are read without making a `String`).
    public var role: Turn.Role {
        mutating get throws {
            guard var value = try map.value(.role) else { throw missing(.role) }
            return try Turn.Role(commonUTF8: value.decodeTextBytes()) ?? Turn.Role(map.require(.role, as: String.self))
        }
    }
    /// The text, as a `String` (its UTF-8 checked).
    public var content: String { mutating get throws { try map.require(.content, as: String.self) } }
    /// Calls `body` with the text's UTF-8 bytes as stored, in place — no `String` is made, and the
    /// bytes are not checked (``content`` checks them) — and returns its result. The buffer is
    /// valid only during `body`.
    public mutating func withContentUTF8<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        guard var value = try map.value(.content) else { throw missing(.content) }
        return try body(try value.decodeTextBytes())
    }
    /// When the turn was written.
    public var created: Date { mutating get throws { try map.require(.created, as: Date.self) } }
    /// How long producing the turn took, in seconds, if recorded.
    public var duration: Double? { mutating get throws { try map.decode(.duration, as: Double.self) } }
    /// Input tokens, if recorded.
    public var inputTokens: Int? { mutating get throws { try map.decode(.inputTokens, as: Int.self) } }
    /// Output tokens, if recorded.
    public var outputTokens: Int? { mutating get throws { try map.decode(.outputTokens, as: Int.self) } }
    /// Cost, if recorded.
    public var cost: Cost? { mutating get throws { try map.decode(.cost, as: Int64.self).map(Cost.init(nanos:)) } }
    /// The tool calls the turn made.
    public var toolCalls: [Turn.ToolCall] { mutating get throws { try array(.toolCalls, of: Turn.ToolCall.self) } }
    /// Structured parts besides the text.
    public var blocks: [Turn.Block] { mutating get throws { try array(.blocks, of: Turn.Block.self) } }
    /// Free-form string metadata.
    public var metadata: [String: String] { mutating get throws { try map.decode(.metadata, as: [String: String].self) ?? [:] } }

    /// The whole turn, as ``TimelineTransaction/turns(of:range:reverse:limit:after:)`` returns it.
    public func turn() throws -> Turn {
        try Turn.stored(item, sessionID: sessionID, sequence: sequence)
    }

    /// An array field of records (empty when absent), read as the whole turn reads it.
    private mutating func array<Item: CBORRecordDecodable>(_ field: Turn.CodingKeys, of type: Item.Type) throws -> [Item] {
        var items: [Item] = []
        if var value = try map.value(field) {
            try value.readArray { item in items.append(try Item(cbor: &item)) }
        }
        return items
    }

    private func missing(_ field: Turn.CodingKeys) -> DecodingError {
        CBORItemReader.missingField(field.stringValue, in: Turn.self)
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
    var map: CBORMapView<Session.CodingKeys>
    let item: UnsafeRawBufferPointer
    /// The session's id. Known from the listing: free to read.
    public let id: UUID

    init(_ item: UnsafeRawBufferPointer, id: UUID) throws {
        map = try CBORMapView(item, fields: Session.fields)
        self.item = item
        self.id = id
    }

    /// A human-readable title.
    public var title: String { mutating get throws { try map.require(.title, as: String.self) } }
    /// Calls `body` with the title's UTF-8 bytes as stored, in place — no `String` is made, and
    /// the bytes are not checked (``title`` checks them) — and returns its result. The buffer is
    /// valid only during `body`.
    public mutating func withTitleUTF8<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        guard var value = try map.value(.title) else { throw CBORItemReader.missingField(Session.CodingKeys.title.stringValue, in: Session.self) }
        return try body(try value.decodeTextBytes())
    }
    /// The project, if any.
    public var project: String? { mutating get throws { try map.decode(.project, as: String.self) } }
    /// The session this one was forked from, if any.
    public var parentID: UUID? { mutating get throws { try map.decode(.parentID, as: UUID.self) } }
    /// For a fork: how many of the parent's turns it inherits.
    public var branchPoint: Int? { mutating get throws { try count(.branchPoint) } }
    /// The branch's name, if any.
    public var branchName: String? { mutating get throws { try map.decode(.branchName, as: String.self) } }
    /// The model, if recorded.
    public var model: String? { mutating get throws { try map.decode(.model, as: String.self) } }
    /// The provider, if recorded.
    public var provider: String? { mutating get throws { try map.decode(.provider, as: String.self) } }
    /// When the session was created.
    public var created: Date { mutating get throws { try map.require(.created, as: Date.self) } }
    /// When the session record last changed.
    public var updated: Date { mutating get throws { try map.require(.updated, as: Date.self) } }
    /// When the last turn was appended (or the session created): the listing's order.
    public var lastActivity: Date { mutating get throws { try map.require(.lastActivity, as: Date.self) } }
    /// The number of turns in the session's history, inherited ones included.
    public var turnCount: Int { mutating get throws { try count(.turnCount) ?? 0 } }
    /// Input tokens of the session's own turns.
    public var inputTokens: Int { mutating get throws { try map.decode(.inputTokens, as: Int.self) ?? 0 } }
    /// Output tokens of the session's own turns.
    public var outputTokens: Int { mutating get throws { try map.decode(.outputTokens, as: Int.self) ?? 0 } }
    /// Cost of the session's own turns.
    public var cost: Cost { mutating get throws { Cost(nanos: try map.decode(.cost, as: Int64.self) ?? 0) } }
    /// Whether the session is archived.
    public var archived: Bool { mutating get throws { try map.decode(.archived, as: Bool.self) ?? false } }
    /// Free-form string metadata.
    public var metadata: [String: String] { mutating get throws { try map.decode(.metadata, as: [String: String].self) ?? [:] } }
    /// How many checkpoints were ever saved in the session.
    public var checkpointCount: Int { mutating get throws { try count(.checkpointCount) ?? 0 } }
    /// How many crystals were ever saved for the session.
    public var crystalCount: Int { mutating get throws { try count(.crystalCount) ?? 0 } }

    /// A count field (never negative), or `nil` when absent or `null`.
    private mutating func count(_ field: Session.CodingKeys) throws -> Int? {
        guard var value = try map.value(field), !value.decodeNil() else { return nil }
        return try value.decodeCount()
    }

    /// The whole session, as ``TimelineTransaction/listSessions(filter:order:limit:after:)`` returns it.
    public func session() throws -> Session {
        var session = try CBORDecoder().decode(Session.self, from: item)
        Session.restoreKeyFields(&session, id: id)
        guard session.id == id else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the session listed as \(id) says it is \(session.id)"))
        }
        return session
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
