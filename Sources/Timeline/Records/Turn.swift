#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
internal import TimelineDocumentStore
public import TimelineCBOR

/// One message of a conversation. Append-only: once written, a turn is never changed (a
/// correction is a new turn). Stored in the `turns` database under session id ‖ sequence.
public struct Turn: Codable, Sendable, Hashable, Identifiable {
    /// The session whose database entry holds the turn. Read through a fork, an inherited turn
    /// keeps the id of the ancestor that wrote it.
    public var sessionID: UUID
    /// The turn's position in its session's history: 0, 1, 2… without gaps.
    public var sequence: Int
    /// The turn's own id.
    public var id: UUID
    /// Who spoke.
    public var role: Role
    /// The text.
    public var content: String
    /// When the turn was written.
    public var created: Date
    /// How long producing the turn took, in seconds, if recorded.
    public var duration: Double?
    /// Input (prompt) tokens, if recorded.
    public var inputTokens: Int?
    /// Output (completion) tokens, if recorded.
    public var outputTokens: Int?
    /// Cost, if recorded: exact (see ``Cost``).
    public var cost: Cost?
    /// The tool calls the turn made.
    public var toolCalls: [ToolCall]
    /// Structured parts besides the text (reasoning, code, attachments…).
    public var blocks: [Block]
    /// Free-form string metadata.
    public var metadata: [String: String]

    /// The field names, shared by `Codable` and the fast path, and each field's id in the stored
    /// (compact) form — -1 for the two the record's key holds, which are not stored.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case sessionID, sequence, id, role, content, created, duration, inputTokens, outputTokens
        case cost = "costNanos"
        case toolCalls, blocks, metadata

        /// The field id of the compact form (`Docs/format.md`).
        var intValue: Int? {
            switch self {
            case .sessionID, .sequence: -1
            case .id: 0
            case .role: 1
            case .content: 2
            case .created: 3
            case .duration: 4
            case .inputTokens: 5
            case .outputTokens: 6
            case .cost: 7
            case .toolCalls: 8
            case .blocks: 9
            case .metadata: 10
            }
        }
        init?(intValue: Int) {
            guard let field = Self.allCases.first(where: { $0.intValue == intValue }) else { return nil }
            self = field
        }
    }
    static let fields = CBORFields<CodingKeys>()

    /// The record-type version this code writes: 3, the compact form (field ids; the session id
    /// and sequence left to the key).
    public static let recordVersion = 3
    /// How stored records of earlier versions become version ``recordVersion``: 1 → 2 turns the
    /// `Double` `cost` into integer `costNanos`; 2 → 3 needs no step — the reader takes names as
    /// well as ids — and the run writes each record again in the compact form (`Docs/migrations.md`).
    static let migrations: [MigrationStep] = [.update(from: 1) { try Cost.migrateField(of: &$0, optional: true) }]

    /// A turn as ``TimelineStore`` writes it; callers append ``NewTurn``s instead.
    public init(
        sessionID: UUID, sequence: Int, id: UUID, role: Role, content: String, created: Date,
        duration: Double? = nil, inputTokens: Int? = nil, outputTokens: Int? = nil, cost: Cost? = nil,
        toolCalls: [ToolCall] = [], blocks: [Block] = [], metadata: [String: String] = [:]
    ) {
        self.sessionID = sessionID
        self.sequence = sequence
        self.id = id
        self.role = role
        self.content = content
        self.created = created
        self.duration = duration
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cost = cost
        self.toolCalls = toolCalls
        self.blocks = blocks
        self.metadata = metadata
    }

    /// Who produced a turn. Unknown roles from other writers survive as ``other(_:)``.
    public enum Role: Codable, Sendable, Hashable, CustomStringConvertible {
        /// Instructions to the model.
        case system
        /// The person.
        case user
        /// The model.
        case assistant
        /// A tool's answer.
        case tool
        /// Any other role, by name.
        case other(String)

        /// The role from its name.
        public init(_ name: String) {
            switch name {
            case "system": self = .system
            case "user": self = .user
            case "assistant": self = .assistant
            case "tool": self = .tool
            default: self = .other(name)
            }
        }

        /// The role's name, as stored.
        public var description: String {
            switch self {
            case .system: "system"
            case .user: "user"
            case .assistant: "assistant"
            case .tool: "tool"
            case .other(let name): name
            }
        }

        /// Reads the role's name.
        public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }
        /// Writes the role's name.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }
    }

    /// A call the model made to a tool, with its outcome when known.
    public struct ToolCall: Codable, Sendable, Hashable {
        /// The call's id, as the model gave it.
        public var id: String
        /// The tool's name.
        public var name: String
        /// The arguments, usually JSON text.
        public var arguments: String
        /// The tool's answer, if recorded with the call.
        public var result: String?
        /// Whether the call failed.
        public var isError: Bool

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, name, arguments, result, isError
            /// The field id of the compact form: the position.
            var intValue: Int? {
                switch self {
                case .id: 0
                case .name: 1
                case .arguments: 2
                case .result: 3
                case .isError: 4
                }
            }
            init?(intValue: Int) {
                guard let field = Self.allCases.first(where: { $0.intValue == intValue }) else { return nil }
                self = field
            }
        }
        static let fields = CBORFields<CodingKeys>()

        /// Describes a tool call.
        public init(id: String, name: String, arguments: String, result: String? = nil, isError: Bool = false) {
            self.id = id
            self.name = name
            self.arguments = arguments
            self.result = result
            self.isError = isError
        }
    }

    /// A structured part of a turn besides its text: reasoning, code, an attachment reference…
    public struct Block: Codable, Sendable, Hashable {
        /// What the block is, e.g. `"thinking"`, `"code"`, `"image"`.
        public var kind: String
        /// Its text (or a reference such as a URL).
        public var text: String

        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind, text
            /// The field id of the compact form: the position.
            var intValue: Int? { self == .kind ? 0 : 1 }
            init?(intValue: Int) {
                switch intValue {
                case 0: self = .kind
                case 1: self = .text
                default: return nil
                }
            }
        }
        static let fields = CBORFields<CodingKeys>()

        /// Describes a block.
        public init(kind: String, text: String) {
            self.kind = kind
            self.text = text
        }
    }
}

extension Turn: CBORRecordEncodable {
    /// Writes the turn as its synthesized `encode(to:)` does, without `Encoder` (the tests
    /// compare both): every append writes one.
    public func encode(cbor writer: inout CBORItemWriter) throws {
        let map = writer.beginMap()
        writer.entry(CodingKeys.sessionID, sessionID)
        writer.entry(CodingKeys.sequence, sequence)
        writer.entry(CodingKeys.id, id)
        writer.entry(CodingKeys.role, role.description)
        writer.entry(CodingKeys.content, content)
        writer.entry(CodingKeys.created, created)
        writer.entry(CodingKeys.duration, duration)
        writer.entry(CodingKeys.inputTokens, inputTokens)
        writer.entry(CodingKeys.outputTokens, outputTokens)
        writer.entry(CodingKeys.cost, cost?.nanos)
        writer.key(CodingKeys.toolCalls)
        writer.array(count: toolCalls.count)
        for call in toolCalls {
            let callMap = writer.beginMap()
            writer.entry(ToolCall.CodingKeys.id, call.id)
            writer.entry(ToolCall.CodingKeys.name, call.name)
            writer.entry(ToolCall.CodingKeys.arguments, call.arguments)
            writer.entry(ToolCall.CodingKeys.result, call.result)
            writer.entry(ToolCall.CodingKeys.isError, call.isError)
            writer.endMap(callMap)
        }
        writer.key(CodingKeys.blocks)
        writer.array(count: blocks.count)
        for block in blocks {
            let blockMap = writer.beginMap()
            writer.entry(Block.CodingKeys.kind, block.kind)
            writer.entry(Block.CodingKeys.text, block.text)
            writer.endMap(blockMap)
        }
        writer.entry(CodingKeys.metadata, metadata)
        writer.endMap(map)
    }
}

extension Turn: CBORRecordDecodable {
    /// Reads a turn straight from CBOR (the fast path ``TimelineStore`` reads with).
    public init(cbor reader: inout CBORItemReader) throws {
        var sessionID: UUID?, sequence: Int?, id: UUID?, role: Role?, content: String?, created: Date?
        var turn = Turn(sessionID: .zero, sequence: 0, id: .zero, role: .user, content: "", created: Date(timeIntervalSince1970: 0))
        let compact = try reader.readMap(Self.fields) { field, value in
            switch field {
            case .sessionID: sessionID = try value.decode(UUID.self)
            case .sequence: sequence = try value.decodeCount()
            case .id: id = try value.decode(UUID.self)
            case .role:
                // The four common roles from their bytes, without a `String` to compare (as views
                // read them); any other name as a checked `String`.
                var bytes = value
                if let common = try Role(commonUTF8: bytes.decodeTextBytes()) {
                    role = common
                    value = bytes
                } else {
                    role = Role(try value.decode(String.self))
                }
            case .content: content = try value.decode(String.self)
            case .created: created = try value.decode(Date.self)
            case .duration: turn.duration = value.decodeNil() ? nil : try value.decode(Double.self)
            case .inputTokens: turn.inputTokens = value.decodeNil() ? nil : try value.decode(Int.self)
            case .outputTokens: turn.outputTokens = value.decodeNil() ? nil : try value.decode(Int.self)
            case .cost: turn.cost = value.decodeNil() ? nil : Cost(nanos: try value.decode(Int64.self))
            case .toolCalls: try value.readArray { item in turn.toolCalls.append(try ToolCall(cbor: &item)) }
            case .blocks: try value.readArray { item in turn.blocks.append(try Block(cbor: &item)) }
            case .metadata: turn.metadata = try value.decode([String: String].self)
            }
        }
        // The compact form leaves the session id and sequence to the record's key: the
        // collection (or `Turn.stored`) sets them, seeing the sequence -1.
        guard let sessionID = sessionID ?? (compact ? .zero : nil), let sequence = sequence ?? (compact ? -1 : nil),
              let id, let role, let content, let created else {
            throw CBORItemReader.missingField("sessionID, sequence, id, role, content or created", in: Turn.self)
        }
        turn.sessionID = sessionID
        turn.sequence = sequence
        turn.id = id
        turn.role = role
        turn.content = content
        turn.created = created
        self = turn
    }
}

/// What a caller appends; the store assigns the session, the sequence and (by default) id and time.
public struct NewTurn: Sendable, Hashable {
    /// The turn's id; a fresh random one by default. Give your own — the client's message id,
    /// say — to make the append retry-safe: appending a turn whose id is already in the session's
    /// history writes nothing and returns the stored turn.
    public var id: UUID
    /// Who spoke.
    public var role: Turn.Role
    /// The text (may be empty).
    public var content: String
    /// The creation time; the append's time by default.
    public var created: Date?
    /// How long producing the turn took, in seconds.
    public var duration: Double?
    /// Input tokens; added to the session's total.
    public var inputTokens: Int?
    /// Output tokens; added to the session's total.
    public var outputTokens: Int?
    /// Cost; added to the session's total.
    public var cost: Cost?
    /// Tool calls.
    public var toolCalls: [Turn.ToolCall]
    /// Structured parts.
    public var blocks: [Turn.Block]
    /// Free-form string metadata.
    public var metadata: [String: String]

    /// Describes a turn to append.
    public init(
        id: UUID = UUID(), role: Turn.Role, content: String, created: Date? = nil, duration: Double? = nil,
        inputTokens: Int? = nil, outputTokens: Int? = nil, cost: Cost? = nil,
        toolCalls: [Turn.ToolCall] = [], blocks: [Turn.Block] = [], metadata: [String: String] = [:]
    ) {
        self.id = id
        self.role = role
        self.content = content
        self.created = created
        self.duration = duration
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cost = cost
        self.toolCalls = toolCalls
        self.blocks = blocks
        self.metadata = metadata
    }
}

extension Turn.ToolCall: CBORRecordDecodable {
    /// Reads a tool call straight from CBOR (part of the turn's fast path).
    public init(cbor reader: inout CBORItemReader) throws {
        var id: String?, name: String?, arguments: String?, result: String?, isError = false
        try reader.readMap(Self.fields) { field, value in
            switch field {
            case .id: id = try value.decode(String.self)
            case .name: name = try value.decode(String.self)
            case .arguments: arguments = try value.decode(String.self)
            case .result: result = value.decodeNil() ? nil : try value.decode(String.self)
            case .isError: isError = try value.decode(Bool.self)
            }
        }
        guard let id, let name, let arguments else {
            throw CBORItemReader.missingField("id, name or arguments", in: Turn.ToolCall.self)
        }
        self.init(id: id, name: name, arguments: arguments, result: result, isError: isError)
    }
}

extension Turn.Block: CBORRecordDecodable {
    /// Reads a block straight from CBOR (part of the turn's fast path).
    public init(cbor reader: inout CBORItemReader) throws {
        var kind: String?, text: String?
        try reader.readMap(Self.fields) { field, value in
            switch field {
            case .kind: kind = try value.decode(String.self)
            case .text: text = try value.decode(String.self)
            }
        }
        guard let kind, let text else { throw CBORItemReader.missingField("kind or text", in: Turn.Block.self) }
        self.init(kind: kind, text: text)
    }
}
