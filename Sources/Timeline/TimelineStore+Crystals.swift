public import FoundationEssentials
public import LMDB
internal import DocumentStore

extension TimelineStore {
    /// Saves a new crystal (summary) for session `id`. It becomes the session's current crystal;
    /// the earlier versions stay readable with ``crystal(of:version:in:)``.
    /// - Throws: ``TimelineError/Kind/sessionNotFound(_:)``,
    ///   ``TimelineError/Kind/sequenceOutOfRange(sequence:count:)`` when the covered turns run past
    ///   the history.
    @discardableResult
    public func saveCrystal(_ new: NewCrystal, for id: UUID, in txn: borrowing WriteTransaction) throws -> Crystal {
        try new.validate()
        let old = try existingSession(id, in: txn)
        let covered = new.coveredTurns ?? 0..<old.turnCount
        guard covered.upperBound <= old.turnCount else {
            throw TimelineError(.sequenceOutOfRange(sequence: covered.upperBound, count: old.turnCount))
        }
        let now = clock()
        let crystal = Crystal(
            sessionID: id, version: old.crystalCount, text: new.text, firstSequence: covered.lowerBound,
            endSequence: covered.upperBound, tokens: new.tokens, created: new.created?.storable ?? now, metadata: new.metadata
        )
        try crystalRecords.insert(crystal, in: txn)
        var session = old
        session.crystalCount = try Validation.next(session.crystalCount, "crystalCount", of: id)
        session.updated = now
        try sessions.replace(old, with: session, in: txn)
        return crystal
    }

    /// Saves a crystal (see ``saveCrystal(_:for:in:)``).
    @discardableResult
    public func saveCrystal(_ new: NewCrystal, for id: UUID) async throws -> Crystal {
        try await submit { txn in try self.saveCrystal(new, for: id, in: txn) }
    }

    /// Session `id`'s current crystal (the newest), or the given `version`; `nil` when there is none.
    /// - Throws: ``TimelineError/Kind/sessionNotFound(_:)``.
    public func crystal(of id: UUID, version: UInt64? = nil, in txn: borrowing Transaction<some TransactionAccess>) throws -> Crystal? {
        _ = try existingSession(id, in: txn)
        if let version { return try crystalRecords.get(KeyBytes(id, version), in: txn) }
        return try crystalRecords.scan(.prefix(KeyBytes(id).bytes), reverse: true, limit: 1, in: txn).items.first
    }

    /// Session `id`'s current crystal (see ``crystal(of:version:in:)``).
    public func crystal(of id: UUID, version: UInt64? = nil) async throws -> Crystal? {
        try read { txn in try crystal(of: id, version: version, in: txn) }
    }

    /// Every crystal of session `id`, oldest version first.
    public func crystals(of id: UUID, in txn: borrowing Transaction<some TransactionAccess>) throws -> [Crystal] {
        _ = try existingSession(id, in: txn)
        return try crystalRecords.scan(.prefix(KeyBytes(id).bytes), in: txn).items
    }

    /// Every crystal of session `id` (see ``crystals(of:in:)``).
    public func crystals(of id: UUID) async throws -> [Crystal] {
        try read { txn in try crystals(of: id, in: txn) }
    }
}
