#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
internal import TimelineDocumentStore

/// A summary of a session ("crystal"): text standing for a range of its turns, so that a prompt
/// can carry the summary instead of the turns. Every version is kept, under session id ‖ version
/// in the `crystals` database; the newest is the session's current crystal.
public struct Crystal: Codable, Sendable, Hashable {
    /// The session summarised.
    public var sessionID: UUID
    /// 0 for the first crystal of the session, then 1, 2…
    public var version: Int
    /// The summary.
    public var text: String
    /// The first turn sequence the summary covers.
    public var firstSequence: Int
    /// One past the last turn sequence it covers.
    public var endSequence: Int
    /// The summary's size in tokens, if known.
    public var tokens: Int?
    /// When it was saved.
    public var created: Date
    /// Free-form string metadata.
    public var metadata: [String: String]

    /// The record-type version this code writes.
    public static let recordVersion = 1
    /// How stored records of earlier versions become version ``recordVersion`` (none yet: this
    /// is the first). A new version adds its step here; see `Docs/migrations.md`.
    static let migrations: [MigrationStep] = []

    /// The turns it covers.
    public var coveredTurns: Range<Int> { firstSequence..<max(firstSequence, endSequence) }

    /// A crystal as ``TimelineStore`` writes it; callers save ``NewCrystal``s instead.
    public init(
        sessionID: UUID, version: Int, text: String, firstSequence: Int, endSequence: Int,
        tokens: Int? = nil, created: Date, metadata: [String: String] = [:]
    ) {
        self.sessionID = sessionID
        self.version = version
        self.text = text
        self.firstSequence = firstSequence
        self.endSequence = endSequence
        self.tokens = tokens
        self.created = created
        self.metadata = metadata
    }
}

/// What a caller saves as a crystal; the store assigns its version and (by default) time.
public struct NewCrystal: Sendable, Hashable {
    /// The summary.
    public var text: String
    /// The turns it covers; by default the whole history at the time of saving.
    public var coveredTurns: Range<Int>?
    /// The summary's size in tokens, if known.
    public var tokens: Int?
    /// Free-form string metadata.
    public var metadata: [String: String]
    /// The creation time; now by default.
    public var created: Date?

    /// Describes a crystal to save.
    public init(text: String, coveredTurns: Range<Int>? = nil, tokens: Int? = nil, metadata: [String: String] = [:], created: Date? = nil) {
        self.text = text
        self.coveredTurns = coveredTurns
        self.tokens = tokens
        self.metadata = metadata
        self.created = created
    }
}
