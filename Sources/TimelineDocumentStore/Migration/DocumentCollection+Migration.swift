internal import TimelineCBOR
internal import TimelineLMDB

extension DocumentCollection {
    /// `item`, stored at `storedVersion`, carried through the steps up to ``version``: the records
    /// that replace it (usually one).
    /// - Throws: ``DocumentStoreError/Kind/migrationFailed(version:)`` naming the step that threw.
    func upgrade(_ item: UnsafeRawBufferPointer, from storedVersion: Int, key: @autoclosure () -> KeyBytes) throws -> [CBORValue] {
        var values: [CBORValue]
        do {
            values = [try CBORValue(decoding: item)]
        } catch {
            throw DocumentStoreError(.corrupted, collection: name, key: key(), underlying: error)
        }
        // The steps in order, not every version number in between: a version may be large.
        for step in migrations where step.from >= storedVersion {
            do {
                values = try values.flatMap(step.apply)
            } catch {
                throw DocumentStoreError(.migrationFailed(version: step.from), collection: name, key: key(), underlying: error)
            }
        }
        return values
    }

    /// A migrated value as a `Record` (which also checks that the steps produced one).
    func decode(upgraded value: CBORValue, key: @autoclosure () -> KeyBytes) throws -> Record {
        do {
            return try value.encoded().withUnsafeBytes { try decode(item: $0, key: key()) }
        } catch {
            throw DocumentStoreError(.migrationFailed(version: version - 1), collection: name, key: key(), underlying: error)
        }
    }

    /// How many records are stored at each record version.
    func versionCounts(in txn: borrowing Transaction<some TransactionAccess>) throws -> [Int: Int] {
        var counts: [Int: Int] = [:]
        try database.forEachEntry(in: txn) { entry in
            guard let stored = Envelope.recordVersion(of: entry.value) else {
                throw DocumentStoreError(.corrupted, collection: name, key: KeyBytes(raw: Array(entry.key)))
            }
            counts[stored, default: 0] += 1
        }
        return counts
    }

    /// Migrates up to `limit` records after the key `after`, in key order: each older record is
    /// carried through the steps and rewritten (moved when its key changed, removed or split when
    /// a step says so); every record walked, old or not, gets its index entries (the runner
    /// cleared the indexes when the run began).
    /// - Returns: how many stored records were walked, how many of them were rewritten, and the
    ///   last key walked.
    func migrateBatch(after: [UInt8]?, limit: Int, in txn: borrowing WriteTransaction) throws -> (walked: Int, rewritten: Int, last: [UInt8]?) {
        let batch = try copyBatch(after: after, limit: limit, in: txn)
        var rewritten = 0
        for (keyBytes, storedValue) in batch {
            let key = KeyBytes(raw: keyBytes)
            // A compressed record is migrated from its plain envelope (and written back as the
            // collection's compression says).
            let compressed = storedValue.withUnsafeBytes { Envelope.isCompressed($0) }
            guard let value = compressed ? storedValue.withUnsafeBytes({ Envelope.expand($0) }) : storedValue,
                  let stored = value.withUnsafeBytes({ Envelope.open($0)?.version }) else {
                throw DocumentStoreError(.corrupted, collection: name, key: key)
            }
            if stored > version {
                throw DocumentStoreError(.recordVersionTooNew(stored: stored, supported: version), collection: name, key: key)
            }
            if stored == version {
                let record = try value.withUnsafeBytes { try decode($0, key: key) }
                try withUnsafePointer(to: record) { try moveIndexEntries(from: nil, to: $0, key: key, in: txn) }
                continue
            }
            let values = try value.withUnsafeBytes { try upgrade(Envelope.open($0)!.item, from: stored, key: key) }
            let records = try values.map { try decode(upgraded: $0, key: key) }
            if !records.contains(where: { primaryKey($0) == key }) {
                try database.delete(keyBytes, in: txn)
            }
            var written: Set<KeyBytes> = []
            for record in records {
                let newKey = primaryKey(record)
                let taken = try written.contains(newKey) || (newKey != key && database.get(newKey.bytes, in: txn) != nil)
                if taken {
                    try mergeMigrated(record, into: newKey, from: key, in: txn)
                } else {
                    try write(record, key: newKey, replacingAt: nil, in: txn)
                }
                written.insert(newKey)
            }
            rewritten += 1
        }
        return (batch.count, rewritten, batch.last?.key)
    }

    /// Stores `record`, migrated from the record at `source`, where a record already is: merged
    /// with it through ``merge`` (the stored one read as a current record), or refused.
    private func mergeMigrated(_ record: Record, into key: KeyBytes, from source: KeyBytes, in txn: borrowing WriteTransaction) throws {
        guard let merge, let stored = try get(key, in: txn) else {
            throw DocumentStoreError(.migrationKeyCollision, collection: name, key: key)
        }
        let merged: Record
        do {
            merged = try merge(stored, record)
        } catch {
            throw DocumentStoreError(.migrationFailed(version: version - 1), collection: name, key: source, underlying: error)
        }
        guard primaryKey(merged) == key else { throw DocumentStoreError(.keyChanged, collection: name, key: key) }
        try write(merged, key: key, replacing: stored, in: txn)
    }

    /// Empties every index database (a run rebuilds them as it walks the records).
    func clearIndexes(in txn: borrowing WriteTransaction) throws {
        for index in indexWriters { try index.database?.clear(in: txn) }
    }
}
