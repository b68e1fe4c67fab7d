#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
public import TimelineLMDB
internal import TimelineDocumentStore

/// A transaction on a timeline: every timeline operation is a method of this type, defined once.
///
/// Get one from ``TimelineStore/read(_:)`` (a ``TimelineStore/ReadTransaction``: a consistent
/// snapshot) or from `write(_:)` (async, or synchronous outside `async` code)
/// (a ``TimelineStore/WriteTransaction``: all of its writes commit together or not at all).
/// Reads are available on both kinds; writes only on a write transaction, so a write inside a
/// read transaction does not compile.
///
/// ```swift
/// let (session, turns) = try await timeline.write { tx in
///     let session = try tx.createSession(NewSession(title: "Support"))
///     let turns = try tx.append([NewTurn(role: .user, content: "Hello")], to: session.id)
///     return (session, turns)
/// }
/// let page = try timeline.read { tx in try tx.turns(of: session.id, limit: 50) }
/// ```
///
/// It is `~Copyable` and not `Sendable`: it cannot escape the closure it is handed to, and it is
/// valid only during that call.
public struct TimelineTransaction<Access: TransactionAccess>: ~Copyable {
    /// The timeline this transaction reads and writes.
    public let timeline: TimelineStore
    /// The LMDB transaction underneath (a view: the closure that began it ends it).
    package let txn: Transaction<Access>

    init(_ timeline: TimelineStore, _ txn: borrowing Transaction<Access>) {
        self.timeline = timeline
        self.txn = txn.view()
    }

    // The record layer, as the operations use it.
    var sessions: DocumentCollection<Session> { timeline.sessions }
    var turnRecords: DocumentCollection<Turn> { timeline.turnRecords }
    var checkpointRecords: DocumentCollection<Checkpoint> { timeline.checkpointRecords }
    var crystalRecords: DocumentCollection<Crystal> { timeline.crystalRecords }
    var changeRecords: DocumentCollection<Change>? { timeline.changeRecords }
    var consumerRecords: DocumentCollection<ChangeConsumer>? { timeline.consumerRecords }
    var store: Store { timeline.store }
    /// The current time, as the store keeps it.
    /// - Throws: ``TimelineError/invalidValue(field:reason:)`` (field `clock`) when the store's
    ///   clock gives a time outside the years 1678–2261 or NaN: written, it would not read back
    ///   (NaN) or not export.
    func clock() throws -> Date {
        let now = timeline.clock()
        try Validation.date(now, "clock")
        return now
    }

    /// The session `id`, or ``TimelineError/sessionNotFound(_:)``.
    func existingSession(_ id: UUID) throws -> Session {
        guard let session = try storedSession(id) else { throw TimelineError.sessionNotFound(id) }
        return session
    }

    /// The session stored under `id`, or `nil`.
    /// - Throws: `DocumentStoreError` `.corrupted` for a record that says it is another session
    ///   (only damage or a hand-made load stores one): read as itself, an append to `id` wrote
    ///   its turns and record under the other session's id, over that session's own.
    func storedSession(_ id: UUID) throws -> Session? {
        guard let session = try sessions.get(KeyBytes(id), in: txn) else { return nil }
        guard session.id == id else {
            throw DocumentStoreError(.corrupted, collection: sessions.name, key: KeyBytes(id), underlying: DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "the session stored as \(id) says it is \(session.id)")))
        }
        return session
    }

    /// Where session `id`'s history lies, read in place from its record (no ``Session`` is
    /// built), or ``TimelineError/sessionNotFound(_:)``.
    func historyShape(_ id: UUID) throws -> HistoryShape {
        guard let shape = try historyShapeIfStored(id) else { throw TimelineError.sessionNotFound(id) }
        return shape
    }

    /// Where session `id`'s history lies, or `nil` when there is no such session.
    func historyShapeIfStored(_ id: UUID) throws -> HistoryShape? {
        try withUnsafeBytes(of: id.uuid) { key in
            try sessions.withRecordItem(rawKey: key, in: txn) { item in
                var view = try SessionView(item, id: id)
                // In the order the fields are stored: one walk over the record.
                let turnCount = try view.turnCount, parentID = try view.parentID
                return HistoryShape(id: id, parentID: parentID, firstOwnSequence: try view.branchPoint ?? 0, turnCount: turnCount)
            }
        }
    }

    /// Refuses a negative page size.
    func checkLimit(_ limit: Int) throws {
        if limit < 0 { throw TimelineError.invalidRange("limit \(limit) is negative") }
    }
}

@available(*, unavailable, message: "a transaction belongs to one thread at a time; do the work inside its closure")
extension TimelineTransaction: Sendable {}

/// The fields of a session that say where its history lies (see ``Session``): enough to read
/// its turns, without building the whole record.
struct HistoryShape {
    let id: UUID
    let parentID: UUID?
    /// The first sequence stored under the session's own id (its branch point; 0 for a root).
    let firstOwnSequence: Int
    let turnCount: Int
}

extension Session {
    /// Where this session's history lies.
    var historyShape: HistoryShape { HistoryShape(id: id, parentID: parentID, firstOwnSequence: firstOwnSequence, turnCount: turnCount) }
}
