extension Database {
    /// Where a database's bytes go: how much of its leaf pages its entries fill, and how much of
    /// its overflow pages its large values leave empty. Made by ``spaceUsage(in:)``.
    public struct SpaceUsage: Sendable, Hashable {
        /// The page counts (`mdb_stat`).
        public var statistics: Statistics
        /// Bytes of keys.
        public var keyBytes: Int
        /// Bytes of values stored in leaf pages.
        public var inlineValueBytes: Int
        /// Values too large for a leaf page (each on overflow pages of its own), and their bytes.
        public var overflowValues: Int, overflowValueBytes: Int
        /// The leaf-page bytes the entries take, as LMDB lays them out: per entry an 8-byte node
        /// header, the key, the value (or, for an overflow value, its 8-byte page number), padded
        /// to an even size, and a 2-byte slot in the page's index.
        public var leafBytesUsed: Int
        /// The overflow pages the large values need, computed from their sizes; equals
        /// `statistics.overflowPages` (a check of this layout).
        public var overflowPagesNeeded: Int

        /// The share of the leaf pages' room (each page less its 16-byte header) that entries
        /// fill, 0–1; 0 for a database without leaf pages.
        public var leafFill: Double {
            let room = statistics.leafPages * (statistics.pageSize - Self.pageHeader)
            return room == 0 ? 0 : Double(leafBytesUsed) / Double(room)
        }
        /// Overflow-page bytes that hold no value (a value's last page is rarely full).
        public var overflowBytesUnused: Int { statistics.overflowPages * statistics.pageSize - overflowValueBytes }

        /// LMDB's page header (`PAGEHDRSZ`), in bytes.
        static let pageHeader = PageLayout.pageHeader
    }

    /// Walks every entry of the database and accounts for its bytes (see ``SpaceUsage``): for
    /// measuring how full the pages are, as `kvtool stat --space` and the benchmarks report it.
    /// The layout constants are LMDB's (0.9.x): 16-byte page headers, 8-byte node headers and
    /// page numbers, 2-byte slots; a value goes to overflow pages when its node would exceed
    /// about half a page.
    /// - Throws: ``LMDBError`` (`.misuse`) for a `dupSort` database, whose values of one key share
    ///   a sub-page or sub-tree this does not account for; what reading throws.
    /// - Complexity: O(entries).
    public func spaceUsage(in txn: borrowing Transaction<some TransactionAccess>) throws -> SpaceUsage {
        if try storedFlags(in: txn).contains(.dupSort) {
            throw LMDBError(.misuse, operation: "measure the space of \(describe(database: name))",
                            detail: "a dupSort database keeps a key's values together, which this does not account for")
        }
        let statistics = try statistics(in: txn)
        let layout = PageLayout(pageSize: statistics.pageSize)
        var usage = SpaceUsage(statistics: statistics, keyBytes: 0, inlineValueBytes: 0, overflowValues: 0, overflowValueBytes: 0,
                               leafBytesUsed: 0, overflowPagesNeeded: 0)
        try forEachEntry(in: txn) { entry in
            let key = entry.key.count, value = entry.value.count
            usage.keyBytes += key
            var node = 8 + key + value
            if !layout.fitsInLeaf(key: key, value: value) {
                node = 8 + key + 8
                usage.overflowValues += 1
                usage.overflowValueBytes += value
                usage.overflowPagesNeeded += layout.overflowPages(value)
            } else {
                usage.inlineValueBytes += value
            }
            usage.leafBytesUsed += ((node + 1) & ~1) + 2
        }
        return usage
    }
}

/// Where LMDB (0.9.x) puts a value: in a leaf page beside others, or on overflow pages of its
/// own. Shared by ``Database/spaceUsage(in:)`` and the record layer's compression rule.
package struct PageLayout: Sendable {
    /// LMDB's page header (`PAGEHDRSZ`), in bytes.
    package static let pageHeader = 16
    package let pageSize: Int
    /// The largest node a leaf holds (`me_nodemax`): half a page's room, even, less a slot.
    package let nodeMax: Int

    package init(pageSize: Int) {
        self.pageSize = pageSize
        nodeMax = (((pageSize - Self.pageHeader) / 2) & ~1) - 2
    }

    /// Whether a value of `value` bytes under a key of `key` bytes sits in a leaf page: its node
    /// (8 header bytes, the key, the value) is at most ``nodeMax``.
    package func fitsInLeaf(key: Int, value: Int) -> Bool { 8 + key + value <= nodeMax }

    /// The overflow pages a value of `value` bytes too large for a leaf takes (`OVPAGES`).
    package func overflowPages(_ value: Int) -> Int { (Self.pageHeader - 1 + value) / pageSize + 1 }
}
