#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import TimelineLMDB
internal import TimelineDocumentStore

extension TimelineTransaction where Access == WriteAccess {
    /// Deletes session `id` with its turns, checkpoints, crystals and index entries, in one
    /// transaction.
    ///
    /// A delete never loses another session's history: each fork of the session first receives
    /// the part of the session's own turns it inherited (copied under the fork's id, same
    /// sequences and turn ids) and is re-parented to the session's parent — or becomes a root
    /// session. Only that part is copied; what the fork inherits from further up stays shared.
    /// - Returns: the ids of the forks that were re-parented.
    /// - Throws: ``TimelineError/sessionNotFound(_:)``; ``TimelineError/invalidValue(field:reason:)``
    ///   when a fork's token or cost totals would overflow once the turns it inherited are its own
    ///   (the reason names the fork). Nothing is written in either case.
    /// - Complexity: O(own turns + checkpoints + crystals) of the session, plus the turns copied.
    @discardableResult
    public func deleteSession(_ id: UUID) throws -> [UUID] {
        let session = try existingSession(id)
        let children = try children(of: id)
        for child in children {
            try adopt(child, from: session)
        }
        // Through the collections, so that every index entry goes with its record.
        let owned = KeyRange.prefix(KeyBytes(id).bytes)
        try turnRecords.deleteRange(owned, in: txn)
        try crystalRecords.deleteRange(owned, in: txn)
        try checkpointRecords.deleteRange(owned, in: txn)
        try sessions.delete(KeyBytes(id), in: txn)
        try logChange(.sessionDeleted, session: id)
        return children.map(\.id)
    }
    /// Moves `child` from `parent` (about to be deleted) to `parent`'s parent, first copying the
    /// turns of `parent`'s own that `child` inherits — which become its own, tokens and costs too.
    private func adopt(_ child: Session, from parent: Session) throws {
        let inherited = child.branchPoint ?? 0
        let own = parent.firstOwnSequence..<max(parent.firstOwnSequence, min(inherited, parent.turnCount))
        var adopted = child
        var totals = SessionTotals(of: child)
        if !own.isEmpty {
            let keys = KeyRange.halfOpen(KeyBytes(parent.id, own.lowerBound.keyPart).bytes, KeyBytes(parent.id, own.upperBound.keyPart).bytes)
            var page = try turnRecords.scan(keys, limit: 1_000, in: txn)
            while true {
                for var turn in page.items {
                    turn.sessionID = child.id
                    try turnRecords.insert(turn, in: txn)
                    do { try totals.add(input: turn.inputTokens, output: turn.outputTokens, cost: turn.cost) }
                    catch TimelineError.invalidValue(let field, let reason) {
                        throw TimelineError.invalidValue(field: field, reason: "\(reason), in fork \(child.id), whose turns inherited from \(parent.id) would become its own")
                    }
                }
                guard let next = page.next else { break }
                page = try turnRecords.scan(keys, limit: 1_000, after: next, in: txn)
            }
        }
        totals.apply(to: &adopted)
        adopted.parentID = parent.parentID
        adopted.branchPoint = parent.parentID == nil ? nil : min(inherited, parent.firstOwnSequence)
        adopted.updated = try clock()
        try sessions.replace(child, with: adopted, in: txn)
        try logChange(.sessionReparented, session: child.id, parent: adopted.parentID, sequences: own)
    }
}

extension TimelineStore {
    /// Deletes a session (see ``TimelineTransaction/deleteSession(_:)``).
    @discardableResult
    public func deleteSession(_ id: UUID) async throws -> [UUID] {
        try await write { tx in try tx.deleteSession(id) }
    }
}
