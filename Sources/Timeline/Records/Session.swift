#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
internal import TimelineDocumentStore
public import TimelineCBOR

/// One conversation: its identity, where it came from (a fork's parent and branch point), its
/// activity and running totals. Stored in the `sessions` database under its id.
///
/// A session's history is a gapless run of turn sequences `0..<turnCount`. A fork (``parentID``
/// set) inherits its parent's turns `0..<branchPoint` and stores only its own, from `branchPoint`
/// on; ``TimelineStore/turns(of:range:reverse:limit:after:)`` reads through the ancestry.
///
/// The fields the store maintains — identity, fork point, times, counts and totals — can be read
/// but not set outside the module; ``TimelineTransaction/updateSession(_:_:)`` changes the others.
public struct Session: Codable, Sendable, Hashable, Identifiable {
    /// The session's id.
    public internal(set) var id: UUID
    /// A human-readable title.
    public var title: String
    /// The project (workspace, tenant…) the session belongs to, if any; sessions are listed per project.
    public var project: String?
    /// The session this one was forked from, if any.
    public internal(set) var parentID: UUID?
    /// For a fork: how many of the parent's turns (sequences `0..<branchPoint`) it inherits.
    public internal(set) var branchPoint: Int?
    /// A name for the branch (e.g. "retry with tools"), if any.
    public var branchName: String?
    /// The model that produced the assistant turns, if recorded.
    public var model: String?
    /// The model's provider, if recorded.
    public var provider: String?
    /// When the session was created.
    public internal(set) var created: Date
    /// When the session record last changed (title, metadata, totals…).
    public internal(set) var updated: Date
    /// When the last turn was appended (or the session created): the order of every listing.
    public internal(set) var lastActivity: Date
    /// The number of turns in the session's history, inherited ones included: the next turn's sequence.
    public internal(set) var turnCount: Int
    /// Input tokens of the session's own turns (see ``cost``).
    public internal(set) var inputTokens: Int
    /// Output tokens of the session's own turns (see ``cost``).
    public internal(set) var outputTokens: Int
    /// Cost of the session's own turns, in the caller's currency unit. A fork's own turns are
    /// those stored under it: not the ones it inherits — until they become its own, when its
    /// parent is deleted (``TimelineTransaction/deleteSession(_:)`` copies them to it) or in an
    /// export that carries them (``TimelineTransaction/exportSession(_:includeInherited:)``); the
    /// totals then take them in. `check()` reports totals that are not these sums
    /// (`totalsMismatch`).
    public internal(set) var cost: Cost
    /// Whether the session is archived (hidden from listings unless asked for).
    public var archived: Bool
    /// Free-form string metadata.
    public var metadata: [String: String]
    /// How many checkpoints were ever saved in the session: the next checkpoint's number.
    public internal(set) var checkpointCount: Int
    /// How many crystals were ever saved for the session: the next crystal's version.
    public internal(set) var crystalCount: Int

    /// The field names, shared by `Codable` and the fast path, in the order the record is stored —
    /// what a listing reads first. Each field's id in the stored (compact) form is its position
    /// here; `id`, which the record's key holds, is not stored.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case title, lastActivity, turnCount, project, parentID, branchPoint, branchName, model, provider, created, updated
        case inputTokens, outputTokens
        case cost = "costNanos"
        case archived, metadata, checkpointCount, crystalCount
        case id

        /// The field id of the compact form (`Docs/format.md`); -1 for `id`, not stored.
        var intValue: Int? {
            switch self {
            case .title: 0
            case .lastActivity: 1
            case .turnCount: 2
            case .project: 3
            case .parentID: 4
            case .branchPoint: 5
            case .branchName: 6
            case .model: 7
            case .provider: 8
            case .created: 9
            case .updated: 10
            case .inputTokens: 11
            case .outputTokens: 12
            case .cost: 13
            case .archived: 14
            case .metadata: 15
            case .checkpointCount: 16
            case .crystalCount: 17
            case .id: -1
            }
        }
        init?(intValue: Int) {
            guard let field = Self.allCases.first(where: { $0.intValue == intValue }) else { return nil }
            self = field
        }
    }
    static let fields = CBORFields<CodingKeys>()

    /// The record-type version this code writes: 3, the compact form (field ids, the id left to
    /// the key).
    public static let recordVersion = 3
    /// How stored records of earlier versions become version ``recordVersion``: 1 → 2 turns the
    /// `Double` `cost` total into integer `costNanos`; 2 → 3 needs no step — the reader takes
    /// names as well as ids — and the run writes each record again in the compact form
    /// (`Docs/migrations.md`).
    static let migrations: [MigrationStep] = [.update(from: 1) { try Cost.migrateField(of: &$0, optional: false) }]

    /// A session as ``TimelineStore`` creates it; most callers use ``NewSession`` instead.
    public init(
        id: UUID, title: String, project: String? = nil, parentID: UUID? = nil, branchPoint: Int? = nil,
        branchName: String? = nil, model: String? = nil, provider: String? = nil, created: Date,
        updated: Date? = nil, lastActivity: Date? = nil, turnCount: Int = 0, inputTokens: Int = 0,
        outputTokens: Int = 0, cost: Cost = .zero, archived: Bool = false, metadata: [String: String] = [:],
        checkpointCount: Int = 0, crystalCount: Int = 0
    ) {
        self.id = id
        self.title = title
        self.project = project
        self.parentID = parentID
        self.branchPoint = branchPoint
        self.branchName = branchName
        self.model = model
        self.provider = provider
        self.created = created
        self.updated = updated ?? created
        self.lastActivity = lastActivity ?? created
        self.turnCount = turnCount
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cost = cost
        self.archived = archived
        self.metadata = metadata
        self.checkpointCount = checkpointCount
        self.crystalCount = crystalCount
    }

    /// The first sequence stored under this session's own id (0 for a root session).
    public var firstOwnSequence: Int { branchPoint ?? 0 }
}

extension Session: CBORRecordEncodable {
    /// Writes the session as its synthesized `encode(to:)` does, without `Encoder` (the tests
    /// compare both): every append rewrites one.
    public func encode(cbor writer: inout CBORItemWriter) throws {
        let map = writer.beginMap()
        writer.entry(CodingKeys.title, title)
        writer.entry(CodingKeys.lastActivity, lastActivity)
        writer.entry(CodingKeys.turnCount, turnCount)
        writer.entry(CodingKeys.project, project)
        writer.entry(CodingKeys.parentID, parentID)
        writer.entry(CodingKeys.branchPoint, branchPoint)
        writer.entry(CodingKeys.branchName, branchName)
        writer.entry(CodingKeys.model, model)
        writer.entry(CodingKeys.provider, provider)
        writer.entry(CodingKeys.created, created)
        writer.entry(CodingKeys.updated, updated)
        writer.entry(CodingKeys.inputTokens, inputTokens)
        writer.entry(CodingKeys.outputTokens, outputTokens)
        writer.entry(CodingKeys.cost, cost.nanos)
        writer.entry(CodingKeys.archived, archived)
        writer.entry(CodingKeys.metadata, metadata)
        writer.entry(CodingKeys.checkpointCount, checkpointCount)
        writer.entry(CodingKeys.crystalCount, crystalCount)
        writer.entry(CodingKeys.id, id)
        writer.endMap(map)
    }
}

extension Session: CBORRecordDecodable {
    /// Reads a session straight from CBOR (the fast path ``TimelineStore`` reads with).
    public init(cbor reader: inout CBORItemReader) throws {
        var id: UUID?, title: String?, created: Date?
        var session = Session(id: .zero, title: "", created: Date(timeIntervalSince1970: 0))
        var updated: Date?, lastActivity: Date?
        let compact = try reader.readMap(Self.fields) { field, value in
            switch field {
            case .id: id = try value.decode(UUID.self)
            case .title: title = try value.decode(String.self)
            case .project: session.project = value.decodeNil() ? nil : try value.decode(String.self)
            case .parentID: session.parentID = value.decodeNil() ? nil : try value.decode(UUID.self)
            case .branchPoint: session.branchPoint = value.decodeNil() ? nil : try value.decodeCount()
            case .branchName: session.branchName = value.decodeNil() ? nil : try value.decode(String.self)
            case .model: session.model = value.decodeNil() ? nil : try value.decode(String.self)
            case .provider: session.provider = value.decodeNil() ? nil : try value.decode(String.self)
            case .created: created = try value.decode(Date.self)
            case .updated: updated = try value.decode(Date.self)
            case .lastActivity: lastActivity = try value.decode(Date.self)
            case .turnCount: session.turnCount = try value.decodeCount()
            case .inputTokens: session.inputTokens = try value.decode(Int.self)
            case .outputTokens: session.outputTokens = try value.decode(Int.self)
            case .cost: session.cost = Cost(nanos: try value.decode(Int64.self))
            case .archived: session.archived = try value.decode(Bool.self)
            case .metadata: session.metadata = try value.decode([String: String].self)
            case .checkpointCount: session.checkpointCount = try value.decodeCount()
            case .crystalCount: session.crystalCount = try value.decodeCount()
            }
        }
        // The compact form leaves the id to the record's key: the collection sets it, seeing the zero id.
        guard let id = id ?? (compact ? .zero : nil), let title, let created, let updated, let lastActivity else {
            throw CBORItemReader.missingField("id, title, created, updated or lastActivity", in: Session.self)
        }
        session.id = id
        session.title = title
        session.created = created
        session.updated = updated
        session.lastActivity = lastActivity
        self = session
    }
}

/// What a caller supplies to create a session; the store fills in times, totals and counters.
public struct NewSession: Sendable, Hashable {
    /// The id to use; a fresh random one by default. Creating a second session with an id in use fails.
    public var id: UUID
    /// A human-readable title.
    public var title: String
    /// The project the session belongs to, if any.
    public var project: String?
    /// The model, if recorded.
    public var model: String?
    /// The provider, if recorded.
    public var provider: String?
    /// Free-form string metadata.
    public var metadata: [String: String]
    /// The creation time; now by default.
    public var created: Date?

    /// Describes a session to create.
    public init(
        id: UUID = UUID(), title: String = "", project: String? = nil, model: String? = nil,
        provider: String? = nil, metadata: [String: String] = [:], created: Date? = nil
    ) {
        self.id = id
        self.title = title
        self.project = project
        self.model = model
        self.provider = provider
        self.metadata = metadata
        self.created = created
    }
}
