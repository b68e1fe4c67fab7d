internal import TimelineLMDB

extension DocumentCollection {
    /// Rewrites up to `limit` stored values after the key `after`, in key order, into the form
    /// this collection's compression gives records it writes: with a ``ValueCompression`` other
    /// than `.none`, a plain value that the rule would compress is stored compressed; with
    /// `.none`, a compressed value is stored plain. Only the envelope changes — the record, its
    /// key and its index entries stay as they are. A value that is not a readable envelope is
    /// left alone (``check(in:progress:)`` reports it).
    /// - Returns: how many values were walked, how many of them were rewritten, and the last key
    ///   walked.
    package func storeInCurrentForm(after: [UInt8]?, limit: Int, in txn: borrowing WriteTransaction) throws -> (walked: Int, rewritten: Int, last: [UInt8]?) {
        let batch = try copyBatch(after: after, limit: limit, in: txn)
        var rewritten = 0
        for (key, value) in batch {
            let compressed = value.withUnsafeBytes { Envelope.isCompressed($0) }
            let form: [UInt8]?
            if let compression {
                form = compressed ? nil : compression.stored(value, keyLength: key.count)
            } else {
                form = compressed ? value.withUnsafeBytes { Envelope.expand($0) } : nil
            }
            guard let form, form != value else { continue }
            try database.put(form, for: key, in: txn)
            rewritten += 1
        }
        return (batch.count, rewritten, batch.last?.key)
    }

    /// Up to `limit` stored entries after the key `after`, in key order, copied out of the map:
    /// for the batch walks that then change the database they were read from (migrations,
    /// ``storeInCurrentForm(after:limit:in:)``).
    func copyBatch(after: [UInt8]?, limit: Int, in txn: borrowing WriteTransaction) throws -> [(key: [UInt8], value: [UInt8])] {
        var batch: [(key: [UInt8], value: [UInt8])] = []
        try database.withCursor(in: txn) { cursor in
            var entries = cursor.entries(in: after.map { KeyRange.after($0) } ?? .all)
            while batch.count < limit, let entry = try entries.next() {
                batch.append((Array(entry.key), Array(entry.value)))
            }
        }
        return batch
    }
}
