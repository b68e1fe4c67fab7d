#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Why a timeline operation was refused. Every refused operation leaves the store as it was.
///
/// Lower-level failures (`DocumentStoreError` for a damaged record,
/// `LMDBError` for the file) pass through unchanged.
///
/// Match a case in a `catch` clause directly:
/// ```swift
/// do { try await timeline.append(turn, to: id) }
/// catch TimelineError.sessionNotFound(let missing) { … }
/// catch TimelineError.invalidValue(let field, _) { … }
/// ```
public enum TimelineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No session with this id (never created, or deleted).
    case sessionNotFound(UUID)
    /// A session with this id already exists.
    case sessionExists(UUID)
    /// A turn sequence past the end of the session's history (`count` turns), or negative.
    case sequenceOutOfRange(sequence: Int, count: Int)
    /// A range of turn sequences whose start is after its end, or a negative limit.
    case invalidRange(String)
    /// No checkpoint with this id.
    case checkpointNotFound(UUID)
    /// No crystal with this version for the session.
    case crystalNotFound(session: UUID, version: Int?)
    /// An export document that cannot be imported.
    case invalidExport(String)
    /// A session whose parent is missing from the store (import of a fork without its parent).
    case parentNotFound(session: UUID, parent: UUID)
    /// A checkpoint with this id already exists.
    case checkpointExists(UUID)
    /// The store was closed.
    case closed
    /// A value the caller supplied is out of range — a negative token count, a NaN or
    /// infinite cost or duration, a date outside the years 1678–2261, a running total that
    /// would overflow, an over-long project name. Nothing was written.
    case invalidValue(field: String, reason: String)
    /// The chain of parents of a session leads back to itself (a damaged store).
    case parentCycle(session: UUID)
    /// The change log no longer holds the entries after `after`: they were trimmed (the oldest
    /// kept is `oldestKept`). Start again from a snapshot (`Docs/changes.md`).
    case changesTrimmed(after: Int, oldestKept: Int)
    /// ``TimelineStore/updateBackup(at:)`` cannot bring this backup up to date from the change
    /// log (the reason says why); nothing was written to it. Make a full backup instead.
    case backupNotUpdatable(String)
    /// A page cursor that the listing did not produce: from another session, filter, order,
    /// range or direction, or a token that was altered.
    case invalidPageCursor(String)

    /// A sentence saying what went wrong and what to do.
    public var description: String {
        switch self {
        case .sessionNotFound(let id): "no session \(id) in the timeline (never created, or deleted)"
        case .sessionExists(let id): "a session \(id) already exists; use another id (or import with replace)"
        case .sequenceOutOfRange(let sequence, let count) where sequence < 0:
            "turn sequence \(sequence) is negative; the session's history is 0..<\(count)"
        case .sequenceOutOfRange(let sequence, let count):
            "turn sequence \(sequence) is past the end of the session's history (\(count) turns: 0..<\(count))"
        case .invalidRange(let detail): "invalid range: \(detail)"
        case .checkpointNotFound(let id): "no checkpoint \(id) in the timeline"
        case .crystalNotFound(let session, let version?): "session \(session) has no crystal version \(version)"
        case .crystalNotFound(let session, nil): "session \(session) has no crystal yet"
        case .invalidExport(let detail): "not an importable session export: \(detail)"
        case .parentNotFound(let session, let parent):
            "session \(session) is a fork of \(parent), which is not in this store; import the parent first or export the fork with its history"
        case .checkpointExists(let id): "a checkpoint \(id) already exists; use another id"
        case .closed: "the timeline store is closed"
        case .invalidValue(let field, let reason): "invalid \(field): \(reason); nothing was written"
        case .changesTrimmed(let after, let oldest):
            "the change log no longer holds the changes after position \(after) (the oldest kept is \(oldest)); start again from a snapshot: copy the store with currentPosition() in one read transaction, then follow from that position"
        case .invalidPageCursor(let why): "the page cursor does not continue this listing: \(why); start again without a cursor"
        case .backupNotUpdatable(let why):
            "the backup cannot be brought up to date from the change log: \(why); nothing was written to it; make a full backup instead (Environment.copy(to:compact:), kvtool backup)"
        case .parentCycle(let session): "the parents of session \(session) form a cycle; run `kvtool check` and restore from a backup"
        }
    }
}
