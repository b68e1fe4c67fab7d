#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
internal import TimelineLMDB
internal import TimelineDocumentStore

/// What ``TimelineStore/updateBackup(at:)`` did to a backup.
public struct BackupUpdate: Sendable, Hashable {
    /// The backup's position before the update: the last change it held.
    public var previousPosition: Int
    /// Its position now: the store's, as of the snapshot the update read.
    public var position: Int
    /// Records written into the backup: sessions, turns, checkpoints, crystals, log entries and consumers.
    public var recordsWritten: Int
    /// Records removed from it: deleted or pruned in the store, log entries trimmed there, and
    /// records of a range that was copied again whole (those count as written too).
    public var recordsRemoved: Int
    /// How many changes were applied.
    public var changesApplied: Int { position - previousPosition }
}

extension TimelineStore {
    /// Brings the backup at `path` — a copy of this store made earlier (`Environment.copy(to:compact:)`,
    /// `kvtool backup`) and perhaps updated since — up to this store's current state, by applying
    /// the changes logged after the backup's position instead of copying everything
    /// (`Docs/changes.md`).
    ///
    /// ```swift
    /// let update = try timeline.updateBackup(at: "/backups/timeline")
    /// try await timeline.acknowledge(update.position, consumer: "backup")   // trimming keeps what the next update needs
    /// ```
    /// The update reads one snapshot of this store and writes the backup in one transaction: a
    /// crash or an error leaves the backup as it was, and afterwards it holds exactly what a full
    /// copy of that snapshot would (the same records, index entries, change log and consumers).
    /// Its cost follows the changes applied — the turns appended, the sessions touched — not the
    /// store's size. A refused update writes nothing.
    /// - Throws: ``TimelineError/backupNotUpdatable(_:)`` when `path` holds no store, holds a copy
    ///   of another store, is newer than this store, or holds records of other versions (this
    ///   store was migrated, or repaired with `kvtool load`, since), or when this store's log no
    ///   longer holds the changes after the backup's position (trimmed): make a full backup then.
    ///   `LMDBError` from either file.
    /// - Complexity: O(changes + records they name), one write transaction on the backup.
    @discardableResult
    public func updateBackup(at path: String) throws -> BackupUpdate {
        let dataFile = path + "/data.mdb"
        guard FileManager.default.fileExists(atPath: dataFile) else {
            throw TimelineError.backupNotUpdatable("\(path) holds no store")
        }
        if environment.isOwnStore(atDirectory: path) { throw TimelineError.backupNotUpdatable("\(path) is this store itself") }
        // Look first without writing: opening a store writable may add what it lacks (its id, the log).
        do {
            let backup = try TimelineStore(path: path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
            _ = try read { source in try backup.read { target in try Self.backupPosition(of: target, from: source) } }
        }
        let backup = try TimelineStore(path: path, migrationPolicy: .failIfNeeded, compression: compression)
        return try read { source in
            try backup.store.write { txn in try Self.update(TimelineTransaction(backup, txn), from: source) }
        }
    }

    /// The backup's position, once it is known that `source`'s log can bring it up to date.
    private static func backupPosition(of target: borrowing TimelineTransaction<some TransactionAccess>,
                                       from source: borrowing ReadTransaction) throws -> Int {
        func refuse(_ why: String) -> TimelineError { .backupNotUpdatable(why) }
        // The store format is left out: a store opened with `compression: .lz4` since the copy
        // is at format 2, and so becomes the backup once opened the same way to be updated.
        let format = Array(MetaKey.format.utf8)
        var (sourceMeta, targetMeta) = (try metaEntries(source), try metaEntries(target))
        (sourceMeta[format], targetMeta[format]) = (nil, nil)
        let id = Array(MetaKey.storeID.utf8)
        guard sourceMeta[id] != nil else { throw refuse("the store has no identity yet: it was written by older code and not opened writable since") }
        guard sourceMeta[id] == targetMeta[id] else { throw refuse("it is a copy of another store") }
        guard sourceMeta == targetMeta else {
            throw refuse("its record versions, indexes or migration state differ from the store's: the store was migrated or repaired since")
        }
        let from = try target.currentPosition(), current = try source.currentPosition()
        guard from <= current else { throw refuse("it is at change \(from), past the store's last change \(current)") }
        let oldest = try source.oldestPosition()
        guard oldest <= from + 1 else {
            throw refuse("the store's change log no longer holds the changes after the backup's position \(from) (the oldest kept is \(oldest)); acknowledge each update's position as a consumer so that trimming keeps them")
        }
        if from == 0, try target.sessions.count(in: target.txn) > 0 {
            throw refuse("it holds sessions but no change log position (it was copied before the store had a log)")
        }
        // Where both still hold the backup's last entry, it must be the same change.
        if from > 0, oldest <= from, let mine = try target.changes(after: from - 1, limit: 1).first,
           let theirs = try source.changes(after: from - 1, limit: 1).first, mine != theirs {
            throw refuse("its change \(from) differs from the store's: it was written to after it was copied")
        }
        return from
    }

    /// Applies `source`'s changes after the backup's position to `target` (the backup, in its write transaction).
    private static func update(_ target: borrowing WriteTransaction, from source: borrowing ReadTransaction) throws -> BackupUpdate {
        let from = try backupPosition(of: target, from: source)
        guard let targetLog = target.changeRecords, let targetConsumers = target.consumerRecords else {
            throw LMDBError(.readOnly, operation: "update a backup")
        }
        var copier = RecordCopier()
        var last = from
        while true {
            let page = try source.changes(after: last, limit: 1_000)
            for change in page {
                try copier.apply(change, from: source, to: target)
                try targetLog.put(change, in: target.txn)
                copier.written += 1
            }
            guard let end = page.last?.position else { break }
            last = end
        }
        // What the store trimmed from its log, and its consumers as they are now.
        let oldest = try source.oldestPosition()
        if oldest > 1 {
            copier.removed += try targetLog.deleteRange(.upTo(KeyBytes(oldest.keyPart).bytes), in: target.txn)
        }
        let consumers = try source.changeConsumers()
        if try target.changeConsumers() != consumers {
            copier.removed += try targetConsumers.deleteRange(.all, in: target.txn)
            for consumer in consumers { try targetConsumers.put(consumer, in: target.txn) }
            copier.written += consumers.count
        }
        return BackupUpdate(previousPosition: from, position: last, recordsWritten: copier.written, recordsRemoved: copier.removed)
    }

    /// Every entry of a store's `meta` database.
    private static func metaEntries(_ tx: borrowing TimelineTransaction<some TransactionAccess>) throws -> [[UInt8]: [UInt8]] {
        var entries: [[UInt8]: [UInt8]] = [:]
        try tx.store.metaDatabase.forEachEntry(in: tx.txn) { entry in entries[Array(entry.key)] = Array(entry.value) }
        return entries
    }
}

/// Copies the records a change names from the store's snapshot into the backup, counting what it
/// writes and removes. Each record is copied as the snapshot holds it — the state every later
/// change leads to — so applying the entries in order ends with the snapshot's records:
/// a record that a later change deletes is removed when that change is applied.
private struct RecordCopier {
    var written = 0
    var removed = 0

    mutating func apply(_ change: Change, from source: borrowing TimelineStore.ReadTransaction,
                        to target: borrowing TimelineStore.WriteTransaction) throws {
        // A change may move a session's counters, activity or parent, and a fork's parent's.
        try sync(KeyBytes(change.session), target.sessions, from: source.sessions, source, target)
        if let parent = change.parent { try sync(KeyBytes(parent), target.sessions, from: source.sessions, source, target) }
        let owned = KeyRange.prefix(KeyBytes(change.session).bytes)
        switch change.kind {
        case .turnsAppended, .sessionReparented, .sessionImported:
            if let sequences = change.sequences, !sequences.isEmpty {
                let range = KeyRange.halfOpen(KeyBytes(change.session, sequences.lowerBound.keyPart).bytes,
                                              KeyBytes(change.session, sequences.upperBound.keyPart).bytes)
                try sync(range, target.turnRecords, from: source.turnRecords, source, target)
            }
            if change.kind == .sessionImported {
                try sync(owned, target.checkpointRecords, from: source.checkpointRecords, source, target)
                try sync(owned, target.crystalRecords, from: source.crystalRecords, source, target)
            }
        case .checkpointSaved, .checkpointStarred, .checkpointDeleted:
            if let number = change.number {
                try sync(KeyBytes(change.session, number.keyPart), target.checkpointRecords, from: source.checkpointRecords, source, target)
            }
        case .crystalSaved:
            if let version = change.number {
                try sync(KeyBytes(change.session, version.keyPart), target.crystalRecords, from: source.crystalRecords, source, target)
            }
        case .sessionDeleted:
            removed += try target.turnRecords.deleteRange(owned, in: target.txn)
            removed += try target.checkpointRecords.deleteRange(owned, in: target.txn)
            removed += try target.crystalRecords.deleteRange(owned, in: target.txn)
        case .sessionCreated, .sessionUpdated:
            break
        }
    }

    /// Makes the record under `key` in the backup what it is in the store: copied, or removed.
    private mutating func sync<Record>(_ key: KeyBytes, _ collection: DocumentCollection<Record>, from original: DocumentCollection<Record>,
                                       _ source: borrowing TimelineStore.ReadTransaction, _ target: borrowing TimelineStore.WriteTransaction) throws {
        if let record = try original.get(key, in: source.txn) {
            try collection.put(record, in: target.txn)
            written += 1
        } else if try collection.delete(key, in: target.txn) {
            removed += 1
        }
    }

    /// Makes the records in `range` in the backup what they are in the store.
    private mutating func sync<Record>(_ range: KeyRange, _ collection: DocumentCollection<Record>, from original: DocumentCollection<Record>,
                                       _ source: borrowing TimelineStore.ReadTransaction, _ target: borrowing TimelineStore.WriteTransaction) throws {
        removed += try collection.deleteRange(range, in: target.txn)
        var page = try original.scan(range, limit: 1_000, in: source.txn)
        while true {
            for record in page.items { try collection.put(record, in: target.txn) }
            written += page.items.count
            guard let next = page.next else { break }
            page = try original.scan(range, limit: 1_000, after: next, in: source.txn)
        }
    }
}
