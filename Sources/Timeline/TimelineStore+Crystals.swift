#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import TimelineLMDB
internal import TimelineDocumentStore

extension TimelineTransaction where Access == WriteAccess {
    /// Saves a new crystal (summary) for session `id`. It becomes the session's current crystal;
    /// the earlier versions stay readable with ``TimelineTransaction/crystal(of:version:)``.
    /// - Throws: ``TimelineError/sessionNotFound(_:)``,
    ///   ``TimelineError/sequenceOutOfRange(sequence:count:)`` when the covered turns run past
    ///   the history or start below 0.
    @discardableResult
    public func saveCrystal(_ new: NewCrystal, for id: UUID) throws -> Crystal {
        try new.validate()
        let old = try existingSession(id)
        let covered = new.coveredTurns ?? 0..<old.turnCount
        guard covered.lowerBound >= 0 else { throw TimelineError.sequenceOutOfRange(sequence: covered.lowerBound, count: old.turnCount) }
        guard covered.upperBound <= old.turnCount else {
            throw TimelineError.sequenceOutOfRange(sequence: covered.upperBound, count: old.turnCount)
        }
        let now = try clock()
        let crystal = Crystal(
            sessionID: id, version: old.crystalCount, text: new.text, firstSequence: covered.lowerBound,
            endSequence: covered.upperBound, tokens: new.tokens, created: new.created?.storable ?? now, metadata: new.metadata
        )
        try crystalRecords.insert(crystal, in: txn)
        var session = old
        session.crystalCount = try Validation.next(session.crystalCount, "crystalCount", of: id)
        session.updated = now
        try sessions.replace(old, with: session, in: txn)
        try logChange(.crystalSaved, session: id, number: crystal.version)
        return crystal
    }
}

extension TimelineTransaction {
    /// Session `id`'s current crystal (the newest), or the given `version`; `nil` when there is none.
    /// - Throws: ``TimelineError/sessionNotFound(_:)``.
    public func crystal(of id: UUID, version: Int? = nil) throws -> Crystal? {
        _ = try existingSession(id)
        if let version { return try crystalRecords.get(KeyBytes(id, version.keyPart), in: txn) }
        return try crystalRecords.scan(.prefix(KeyBytes(id).bytes), reverse: true, limit: 1, in: txn).items.first
    }
    /// Every crystal of session `id`, oldest version first.
    public func crystals(of id: UUID) throws -> [Crystal] {
        _ = try existingSession(id)
        return try crystalRecords.scan(.prefix(KeyBytes(id).bytes), in: txn).items
    }
}

extension TimelineStore {
    /// Saves a crystal (see ``TimelineTransaction/saveCrystal(_:for:)``).
    @discardableResult
    public func saveCrystal(_ new: NewCrystal, for id: UUID) async throws -> Crystal {
        try await write { tx in try tx.saveCrystal(new, for: id) }
    }
    /// Session `id`'s current crystal (see ``TimelineTransaction/crystal(of:version:)``).
    public func crystal(of id: UUID, version: Int? = nil) throws -> Crystal? {
        try read { tx in try tx.crystal(of: id, version: version) }
    }
    /// Every crystal of session `id` (see ``TimelineTransaction/crystals(of:)``).
    public func crystals(of id: UUID) throws -> [Crystal] {
        try read { tx in try tx.crystals(of: id) }
    }
}
