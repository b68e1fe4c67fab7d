#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
internal import TimelineDocumentStore

/// A saved conversation state at a point of a session's history — whatever the caller needs to
/// resume there (agent memory, tool state…) as an opaque payload. Stored in the `checkpoints`
/// database under session id ‖ number, so a session's checkpoints list newest first in one scan.
public struct Checkpoint: Codable, Sendable, Hashable, Identifiable {
    /// The checkpoint's id.
    public var id: UUID
    /// The session it belongs to.
    public var sessionID: UUID
    /// Its number within the session: 0, 1, 2… in the order they were saved.
    public var number: Int
    /// The session's turn count when the state was taken: the state follows turns `0..<turnSequence`.
    public var turnSequence: Int
    /// Why it was taken.
    public var kind: Kind
    /// Starred checkpoints survive ``TimelineStore/pruneCheckpoints(olderThan:keepStarred:)``.
    public var starred: Bool
    /// A human-readable description.
    public var description: String
    /// When it was saved.
    public var created: Date
    /// The state, opaque to the store.
    public var state: Data
    /// Free-form string metadata.
    public var metadata: [String: String]

    /// The record-type version this code writes.
    public static let recordVersion = 1
    /// How stored records of earlier versions become version ``recordVersion`` (none yet: this
    /// is the first). A new version adds its step here; see `Docs/migrations.md`.
    static let migrations: [MigrationStep] = []

    /// Why a checkpoint was taken.
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        /// Taken automatically (e.g. every N turns).
        case auto
        /// Asked for by the person.
        case manual
        /// Taken by the system (e.g. when restoring).
        case system
    }

    /// A checkpoint as ``TimelineStore`` writes it; callers save ``NewCheckpoint``s instead.
    public init(
        id: UUID, sessionID: UUID, number: Int, turnSequence: Int, kind: Kind, starred: Bool,
        description: String, created: Date, state: Data, metadata: [String: String] = [:]
    ) {
        self.id = id
        self.sessionID = sessionID
        self.number = number
        self.turnSequence = turnSequence
        self.kind = kind
        self.starred = starred
        self.description = description
        self.created = created
        self.state = state
        self.metadata = metadata
    }
}

/// What a caller saves as a checkpoint; the store assigns its number and (by default) id and time.
public struct NewCheckpoint: Sendable, Hashable {
    /// The id to use; a fresh random one by default.
    public var id: UUID
    /// The turn count the state follows; the session's current turn count by default.
    public var turnSequence: Int?
    /// Why it was taken.
    public var kind: Checkpoint.Kind
    /// Whether it starts starred.
    public var starred: Bool
    /// A human-readable description.
    public var description: String
    /// The state.
    public var state: Data
    /// Free-form string metadata.
    public var metadata: [String: String]
    /// The creation time; now by default.
    public var created: Date?

    /// Describes a checkpoint to save.
    public init(
        id: UUID = UUID(), turnSequence: Int? = nil, kind: Checkpoint.Kind = .manual, starred: Bool = false,
        description: String = "", state: Data = Data(), metadata: [String: String] = [:], created: Date? = nil
    ) {
        self.id = id
        self.turnSequence = turnSequence
        self.kind = kind
        self.starred = starred
        self.description = description
        self.state = state
        self.metadata = metadata
        self.created = created
    }
}
