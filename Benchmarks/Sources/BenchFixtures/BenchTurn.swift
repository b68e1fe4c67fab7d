// The turn record every record benchmark uses, shared by CBORBenchmarks and RecordInstructions.
public import TimelineCBOR
public import Foundation

/// A realistic turn record: what TimelineStore keeps for every message of a conversation.
public struct BenchTurn: Codable, Equatable, Sendable {
    public var id: UUID
    public var sessionID: UUID
    public var sequence: UInt64
    public var role: String
    public var content: String
    public var created: Date
    public var durationMs: Double?
    public var inputTokens: Int
    public var outputTokens: Int?
    public var metadata: [String: String]

    /// A turn with the given fields.
    public init(
        id: UUID, sessionID: UUID, sequence: UInt64, role: String, content: String, created: Date,
        durationMs: Double?, inputTokens: Int, outputTokens: Int?, metadata: [String: String]
    ) {
        (self.id, self.sessionID, self.sequence, self.role, self.content) = (id, sessionID, sequence, role, content)
        (self.created, self.durationMs, self.inputTokens, self.outputTokens, self.metadata) = (created, durationMs, inputTokens, outputTokens, metadata)
    }

    /// The turn every benchmark uses (516 bytes as CBOR).
    public static let sample = BenchTurn(
        id: UUID(), sessionID: UUID(), sequence: 4_711, role: "assistant",
        content: String(repeating: "The migration plan keeps every record readable while it runs. ", count: 5),
        created: Date(timeIntervalSince1970: 1_763_000_000.25), durationMs: 812.5,
        inputTokens: 1_523, outputTokens: 377,
        metadata: ["model": "gpt-x", "provider": "local", "temperature": "0.2"]
    )
}

/// The fast path: the turn read straight from CBOR (what the timeline's own records will do).
public struct FastBenchTurn: Codable, Equatable, Sendable, CBORRecordDecodable {
    public var turn: BenchTurn

    public init(_ turn: BenchTurn) { self.turn = turn }

    public func encode(to encoder: any Encoder) throws { try turn.encode(to: encoder) }
    public init(from decoder: any Decoder) throws { turn = try BenchTurn(from: decoder) }

    /// The stored field names, for the fast path and for views.
    public enum Field: String, CodingKey, CaseIterable {
        case id, sessionID, sequence, role, content, created, durationMs, inputTokens, outputTokens, metadata
    }
    public static let fields = CBORFields<Field>()

    public init(cbor reader: inout CBORItemReader) throws {
        var id: UUID?, sessionID: UUID?, sequence: UInt64?, role: String?, content: String?, created: Date?
        var durationMs: Double?, inputTokens: Int?, outputTokens: Int?, metadata: [String: String]?
        try reader.readMap(Self.fields) { field, value in
            switch field {
            case .id: id = try value.decode(UUID.self)
            case .sessionID: sessionID = try value.decode(UUID.self)
            case .sequence: sequence = try value.decode(UInt64.self)
            case .role: role = try value.decode(String.self)
            case .content: content = try value.decode(String.self)
            case .created: created = try value.decode(Date.self)
            case .durationMs: durationMs = value.decodeNil() ? nil : try value.decode(Double.self)
            case .inputTokens: inputTokens = try value.decode(Int.self)
            case .outputTokens: outputTokens = value.decodeNil() ? nil : try value.decode(Int.self)
            case .metadata: metadata = try value.decode([String: String].self)
            }
        }
        guard let id, let sessionID, let sequence, let role, let content, let created, let inputTokens, let metadata else {
            throw CBORItemReader.missingField("a required field", in: BenchTurn.self)
        }
        turn = BenchTurn(id: id, sessionID: sessionID, sequence: sequence, role: role, content: content, created: created,
                         durationMs: durationMs, inputTokens: inputTokens, outputTokens: outputTokens, metadata: metadata)
    }
}
