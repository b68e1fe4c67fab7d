#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import TimelineLMDB
public import TimelineDocumentStore

extension TimelineTransaction where Access == WriteAccess {
    /// Saves a checkpoint in session `id`: the next number, at the session's current turn count
    /// unless `new.turnSequence` says otherwise.
    /// - Throws: ``TimelineError/sessionNotFound(_:)``,
    ///   ``TimelineError/sequenceOutOfRange(sequence:count:)`` for a turn sequence past the
    ///   history, ``TimelineError/checkpointExists(_:)`` (nothing written in each case).
    @discardableResult
    public func saveCheckpoint(_ new: NewCheckpoint, for id: UUID) throws -> Checkpoint {
        try new.validate()
        let old = try existingSession(id)
        let turnSequence = new.turnSequence ?? old.turnCount
        guard turnSequence >= 0, turnSequence <= old.turnCount else {
            throw TimelineError.sequenceOutOfRange(sequence: turnSequence, count: old.turnCount)
        }
        if try checkpointKey(new.id) != nil { throw TimelineError.checkpointExists(new.id) }
        let now = try clock()
        let checkpoint = Checkpoint(
            id: new.id, sessionID: id, number: old.checkpointCount, turnSequence: turnSequence, kind: new.kind,
            starred: new.starred, description: new.description, created: new.created?.storable ?? now, state: new.state,
            metadata: new.metadata
        )
        try checkpointRecords.insert(checkpoint, in: txn)
        var session = old
        session.checkpointCount = try Validation.next(session.checkpointCount, "checkpointCount", of: id)
        session.updated = now
        try sessions.replace(old, with: session, in: txn)
        try logChange(.checkpointSaved, session: id, checkpoint: checkpoint.id, number: checkpoint.number)
        return checkpoint
    }
    /// Stars or unstars checkpoint `id`. Starred checkpoints survive pruning.
    /// - Throws: ``TimelineError/checkpointNotFound(_:)``.
    @discardableResult
    public func setStarred(_ starred: Bool, checkpoint id: UUID) throws -> Checkpoint {
        guard let old = try checkpoint(id) else { throw TimelineError.checkpointNotFound(id) }
        var new = old
        new.starred = starred
        if new != old {
            try checkpointRecords.replace(old, with: new, in: txn)
            try logChange(.checkpointStarred, session: new.sessionID, checkpoint: new.id, number: new.number)
        }
        return new
    }
    /// Restores checkpoint `id`: a fork of its session at the checkpoint's turn sequence, holding
    /// a copy of the checkpoint (kind `system`) so the state travels with the branch. The original
    /// session is untouched.
    /// - Returns: the new session and its copy of the checkpoint.
    /// - Throws: ``TimelineError/checkpointNotFound(_:)``, and what ``TimelineTransaction/fork(session:at:branchName:newID:)`` throws.
    public func restore(checkpoint id: UUID, branchName: String? = nil) throws -> (session: Session, checkpoint: Checkpoint) {
        guard let checkpoint = try checkpoint(id) else { throw TimelineError.checkpointNotFound(id) }
        let session = try fork(session: checkpoint.sessionID, at: checkpoint.turnSequence,
                               branchName: branchName ?? "restore of checkpoint \(checkpoint.number)")
        let copy = try saveCheckpoint(
            NewCheckpoint(turnSequence: checkpoint.turnSequence, kind: .system, description: "restored from checkpoint \(id)",
                          state: checkpoint.state, metadata: checkpoint.metadata),
            for: session.id
        )
        return (try existingSession(session.id), copy)
    }
    /// Deletes the checkpoints created before `date`, except starred ones unless `keepStarred`
    /// is `false` — the retention policy (e.g. `olderThan: now − 30 days`).
    /// - Returns: how many were deleted.
    /// - Throws: ``TimelineError/invalidValue(field:reason:)`` for a NaN date (nothing deleted).
    /// - Complexity: O(checkpoints older than `date`), through the `created` index.
    @discardableResult
    public func pruneCheckpoints(olderThan date: Date, keepStarred: Bool = true) throws -> Int {
        try Validation.bound(date, "olderThan")
        let keys = try checkpointRecords.primaryKeys(index: "created", .upTo(KeyBytes(date).bytes), in: txn).items
        var deleted = 0
        for key in keys {
            guard let checkpoint = try checkpointRecords.get(key, in: txn) else { continue }
            if keepStarred && checkpoint.starred { continue }
            if try checkpointRecords.delete(key, in: txn) {
                deleted += 1
                try logChange(.checkpointDeleted, session: checkpoint.sessionID, checkpoint: checkpoint.id, number: checkpoint.number)
            }
        }
        return deleted
    }
}

extension TimelineTransaction {
    /// Session `id`'s checkpoints, newest first (highest number first), a page at a time; all of
    /// them by default.
    /// - Throws: ``TimelineError/sessionNotFound(_:)``; ``TimelineError/invalidPageCursor(_:)`` for a
    ///   cursor from another listing (another session's checkpoints, say).
    /// - Complexity: O(log n + limit).
    public func checkpoints(of id: UUID, limit: Int = .max, after cursor: PageCursor? = nil) throws -> Page<Checkpoint> {
        try checkLimit(limit)
        _ = try existingSession(id)
        do {
            return try checkpointRecords.scan(.prefix(KeyBytes(id).bytes), reverse: true, limit: limit, after: cursor, in: txn)
        } catch DocumentStoreError.Code.invalidPageCursor {
            throw TimelineError.invalidPageCursor("it does not come from this listing of session \(id)'s checkpoints")
        }
    }
    /// The checkpoint `id`, or `nil`.
    /// - Throws: `DocumentStoreError` `.corrupted` when the `id` index names a checkpoint of
    ///   another id (only damage makes one).
    public func checkpoint(_ id: UUID) throws -> Checkpoint? {
        guard let key = try checkpointKey(id), let checkpoint = try checkpointRecords.get(key, in: txn) else { return nil }
        guard checkpoint.id == id else {
            throw DocumentStoreError(.corrupted, collection: "idx.checkpoints.id", key: KeyBytes(id), underlying: DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "the entry names checkpoint \(checkpoint.number) of \(checkpoint.sessionID), whose id is \(checkpoint.id)")))
        }
        return checkpoint
    }
    /// The primary key of checkpoint `id`, from the unique `id` index.
    func checkpointKey(_ id: UUID) throws -> KeyBytes? {
        try checkpointRecords.primaryKeys(index: "id", .closed(KeyBytes(id).bytes, KeyBytes(id).bytes), limit: 1, in: txn).items.first
    }
}

extension TimelineStore {
    /// Saves a checkpoint (see ``TimelineTransaction/saveCheckpoint(_:for:)``).
    @discardableResult
    public func saveCheckpoint(_ new: NewCheckpoint, for id: UUID) async throws -> Checkpoint {
        try await write { tx in try tx.saveCheckpoint(new, for: id) }
    }
    /// Session `id`'s checkpoints (see ``TimelineTransaction/checkpoints(of:limit:after:)``).
    public func checkpoints(of id: UUID, limit: Int = .max, after cursor: PageCursor? = nil) throws -> Page<Checkpoint> {
        try read { tx in try tx.checkpoints(of: id, limit: limit, after: cursor) }
    }
    /// The checkpoint `id`, or `nil`.
    public func checkpoint(_ id: UUID) throws -> Checkpoint? {
        try read { tx in try tx.checkpoint(id) }
    }
    /// Stars or unstars a checkpoint (see ``TimelineTransaction/setStarred(_:checkpoint:)``).
    @discardableResult
    public func setStarred(_ starred: Bool, checkpoint id: UUID) async throws -> Checkpoint {
        try await write { tx in try tx.setStarred(starred, checkpoint: id) }
    }
    /// Restores a checkpoint (see ``TimelineTransaction/restore(checkpoint:branchName:)``).
    public func restore(checkpoint id: UUID, branchName: String? = nil) async throws -> (session: Session, checkpoint: Checkpoint) {
        try await write { tx in try tx.restore(checkpoint: id, branchName: branchName) }
    }
    /// Deletes old checkpoints (see ``TimelineTransaction/pruneCheckpoints(olderThan:keepStarred:)``).
    @discardableResult
    public func pruneCheckpoints(olderThan date: Date, keepStarred: Bool = true) async throws -> Int {
        try await write { tx in try tx.pruneCheckpoints(olderThan: date, keepStarred: keepStarred) }
    }
}
