internal import TimelineLMDB
internal import TimelineDocumentStore

extension TimelineStore {
    /// Stores every turn, checkpoint and crystal in the form this instance's `compression`
    /// gives the records it writes (`init(path:configuration:migrationPolicy:clock:compression:)`):
    /// opened with `.lz4`, it compresses the plain records the rule would compress — those written
    /// before compression was turned on; opened with `.none`, it stores compressed records plain
    /// again. Only each record's stored form changes: contents, keys, index entries and the change
    /// log stay as they are, so followers see no change. Records that are already in that form
    /// are read but not written.
    ///
    /// It works in batches of `batchSize` records, each its own write transaction, so other
    /// writers go on between batches; a crash loses at most the batch in flight, and running it
    /// again continues. The file does not shrink: LMDB keeps the pages it frees and reuses them
    /// for later writes; `kvtool backup STORE DEST --compact` writes a copy without them.
    ///
    /// ```swift
    /// let timeline = try TimelineStore(path: "/var/lib/chat/timeline", compression: .lz4)
    /// let rewritten = try timeline.storeInCurrentForm()
    /// ```
    /// - Parameter batchSize: records per write transaction; a value below 1 is taken as 1.
    /// - Returns: how many records were rewritten.
    /// - Throws: `LMDBError` from the writes.
    @discardableResult
    public func storeInCurrentForm(batchSize: Int = 500) throws -> Int {
        let limit = max(1, batchSize)
        var rewritten = 0
        func pass(_ batch: ([UInt8]?, borrowing TimelineLMDB.WriteTransaction) throws -> (walked: Int, rewritten: Int, last: [UInt8]?)) throws {
            var after: [UInt8]?
            while true {
                let (walked, count, last) = try store.write { txn in try batch(after, txn) } as (walked: Int, rewritten: Int, last: [UInt8]?)
                rewritten += count
                guard walked == limit, let last else { return }
                after = last
            }
        }
        try pass { try turnRecords.storeInCurrentForm(after: $0, limit: limit, in: $1) }
        try pass { try checkpointRecords.storeInCurrentForm(after: $0, limit: limit, in: $1) }
        try pass { try crystalRecords.storeInCurrentForm(after: $0, limit: limit, in: $1) }
        return rewritten
    }
}
