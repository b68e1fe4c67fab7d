internal import CTimelineLMDB
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A handle to one database (a sorted key-value tree) inside an ``Environment``.
///
/// Get one from ``Environment/openDatabase(_:flags:create:)``; it is a small `Sendable` value,
/// valid for the life of the environment, to be used in any transaction of that environment.
/// Keys and values are bytes: anything `ContiguousBytes` (`[UInt8]`, `Data`,
/// `UnsafeRawBufferPointer`, …). Keys sort bytewise (shorter first on a tie) unless the database
/// was created with ``Flags/reverseKey`` or ``Flags/integerKey``.
public struct Database: Sendable, Hashable {
    /// Options fixed when a database is created (`mdb_dbi_open` flags).
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The C value.
        public let rawValue: UInt32
        /// Creates flags from their C value.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Keys compare as strings read backwards (`MDB_REVERSEKEY`).
        public static let reverseKey = Flags(rawValue: UInt32(MDB_REVERSEKEY))
        /// A key may hold several values, kept sorted (`MDB_DUPSORT`).
        public static let dupSort = Flags(rawValue: UInt32(MDB_DUPSORT))
        /// Keys are native `UInt32` or `Int`-sized unsigned integers (`MDB_INTEGERKEY`).
        public static let integerKey = Flags(rawValue: UInt32(MDB_INTEGERKEY))
        /// With ``dupSort``: all values of a key have one size (`MDB_DUPFIXED`).
        public static let dupFixed = Flags(rawValue: UInt32(MDB_DUPFIXED))
        /// With ``dupSort``: values are native unsigned integers (`MDB_INTEGERDUP`).
        public static let integerDup = Flags(rawValue: UInt32(MDB_INTEGERDUP))
        /// With ``dupSort``: values compare as strings read backwards (`MDB_REVERSEDUP`).
        public static let reverseDup = Flags(rawValue: UInt32(MDB_REVERSEDUP))
        /// Every flag above: what a database can be created with through this wrapper.
        static let known: Flags = [.reverseKey, .dupSort, .integerKey, .dupFixed, .integerDup, .reverseDup]
    }

    /// Options for one write (`mdb_put` flags).
    public struct PutFlags: OptionSet, Sendable, Hashable {
        /// The C value.
        public let rawValue: UInt32
        /// Creates flags from their C value.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Fail with ``LMDBError/Code/keyExists`` if the key is present (`MDB_NOOVERWRITE`).
        public static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
        /// With ``Flags/dupSort``: fail with ``LMDBError/Code/keyExists`` if this exact key/value
        /// pair is present (`MDB_NODUPDATA`).
        public static let noDupData = PutFlags(rawValue: UInt32(MDB_NODUPDATA))
        /// The key sorts after every key in the database: a fast bulk load (`MDB_APPEND`). A key
        /// out of order fails with ``LMDBError/Code/keyExists``.
        public static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
        /// With ``Flags/dupSort``: the value sorts after the key's other values (`MDB_APPENDDUP`).
        public static let appendDup = PutFlags(rawValue: UInt32(MDB_APPENDDUP))
        /// Every flag above: what a put through this wrapper can pass to LMDB.
        static let known: PutFlags = [.noOverwrite, .noDupData, .append, .appendDup]
    }

    /// LMDB's handle: the number of a slot of the environment, which LMDB reuses. Read it through
    /// ``handle(in:)``, which checks that the slot still holds this database.
    let dbi: UInt32
    /// Which opening of a database this handle is (see `DatabaseHandles`).
    let token: UInt64
    /// The database's name, or `nil` for the environment's main (unnamed) database.
    public let name: String?
    /// The flags it was opened with.
    public let flags: Flags

    init(dbi: UInt32, name: String?, flags: Flags, token: UInt64) {
        self.dbi = dbi
        self.name = name
        self.flags = flags
        self.token = token
    }

    /// LMDB's handle for this database in `txn`'s environment, after checking that its slot
    /// still holds this database: one relaxed atomic load.
    /// - Throws: ``LMDBError/Code/misuse`` for a handle of a database dropped since (LMDB gives
    ///   its slot to the next database opened), of another environment, or opened in a write
    ///   transaction that rolled back.
    @inline(__always)
    func handle(in txn: borrowing Transaction<some TransactionAccess>) throws(LMDBError) -> UInt32 {
        let (dbi, token) = (dbi, token)
        guard txn.unmanagedEnvironment._withUnsafeGuaranteedRef({ $0.handles.holds(slot: dbi, token: token) }) else {
            throw LMDBError(.misuse, operation: "use \(describe(database: name))",
                            detail: "this handle no longer names a database of this environment: the database was dropped (open it again by name), or the handle comes from another environment or from a write transaction that rolled back")
        }
        return dbi
    }

    /// Refuses a value LMDB would take but could not commit (``Environment/maxValueSize``).
    @inline(__always)
    func checkValueSize(_ count: Int, _ environment: Unmanaged<Environment>) throws(LMDBError) {
        let limit = environment._withUnsafeGuaranteedRef { $0.maxValueSize }
        if count > limit {
            throw LMDBError(.badValueSize, operation: "put into \(describe(database: name))",
                            detail: "a value of \(count) bytes is longer than Environment.maxValueSize (\(limit)): LMDB writes it with one write call at commit, which the system cuts short; store it in pieces")
        }
    }

    // MARK: Reading

    /// The value stored for `key`, or `nil` when there is none.
    ///
    /// The buffer points into the memory map: no copy is made. **It is valid only until the
    /// transaction ends** and must never be written through; copy it (`Array(buffer)`) to keep it.
    /// In a ``Flags/dupSort`` database this is the key's first value.
    /// - Throws: ``LMDBError`` (e.g. ``LMDBError/Code/badValueSize`` for an empty or overlong key).
    /// - Complexity: O(log n).
    public func get(_ key: UnsafeRawBufferPointer, in txn: borrowing Transaction<some TransactionAccess>) throws -> UnsafeRawBufferPointer? {
        let dbi = try handle(in: txn)
        var k = MDB_val(key)
        var v = MDB_val()
        let rc = mdb_get(txn.handle, dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "get from \(describe(database: name))")
        return v.buffer
    }

    /// The value stored for `key`, or `nil`: see ``get(_:in:)-(UnsafeRawBufferPointer,_)``.
    @inlinable
    public func get(_ key: some ContiguousBytes, in txn: borrowing Transaction<some TransactionAccess>) throws -> UnsafeRawBufferPointer? {
        try key.withUnsafeBytes { try get($0, in: txn) }
    }

    /// Whether `key` is present.
    /// - Complexity: O(log n).
    @inlinable
    public func contains(_ key: some ContiguousBytes, in txn: borrowing Transaction<some TransactionAccess>) throws -> Bool {
        try get(key, in: txn) != nil
    }

    // MARK: Writing

    /// Stores `value` under `key`, replacing what was there (in a ``Flags/dupSort`` database,
    /// adding it to the key's values).
    /// - Throws: ``LMDBError/Code/keyExists`` with ``PutFlags/noOverwrite`` or
    ///   ``PutFlags/noDupData``; ``LMDBError/Code/badValueSize``; ``LMDBError/Code/readOnly``-like
    ///   `EACCES` in a read transaction.
    /// - Complexity: O(log n).
    public func put(
        _ value: UnsafeRawBufferPointer, for key: UnsafeRawBufferPointer,
        flags: PutFlags = [], in txn: borrowing WriteTransaction
    ) throws {
        let dbi = try handle(in: txn)
        try checkValueSize(value.count, txn.unmanagedEnvironment)
        var k = MDB_val(key)
        var v = MDB_val(value)
        try txn.checkWrite(mdb_put(txn.handle, dbi, &k, &v, flags.rawValue), "put into \(describe(database: name))")
        txn.wal?.record(.put, self, putFlags: flags.rawValue, key: key, value: value)
    }

    /// Stores `value` under `key`: see ``put(_:for:flags:in:)-(UnsafeRawBufferPointer,UnsafeRawBufferPointer,_,_)``.
    @inlinable
    public func put(
        _ value: some ContiguousBytes, for key: some ContiguousBytes,
        flags: PutFlags = [], in txn: borrowing WriteTransaction
    ) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in try put(v, for: k, flags: flags, in: txn) }
        }
    }

    /// Reserves `count` bytes for `key` inside the memory map and lets `fill` write the value in
    /// place (`MDB_RESERVE`): no intermediate buffer. Not for ``Flags/dupSort`` databases.
    ///
    /// `fill` must write every byte. If it throws, the transaction can no longer commit: the
    /// error propagates and ``Environment/write(_:)`` aborts it (a caught error still makes the
    /// commit fail with ``LMDBError/Code/poisoned``). In a nested transaction
    /// (``Transaction/nested(_:)``) that the error ends, the unfilled value goes with the nested
    /// transaction's abort, and its parent can still commit.
    /// - Complexity: O(log n) plus `fill`.
    public func put<R>(
        reserving count: Int, for key: UnsafeRawBufferPointer, flags: PutFlags = [],
        in txn: borrowing WriteTransaction, _ fill: (UnsafeMutableRawBufferPointer) throws -> R
    ) throws -> R {
        guard count >= 0 else {
            throw LMDBError(.invalidArgument, operation: "reserve a value in \(describe(database: name))", detail: "a negative size (\(count))")
        }
        let dbi = try handle(in: txn)
        try checkValueSize(count, txn.unmanagedEnvironment)
        var k = MDB_val(key)
        var v = MDB_val(mv_size: count, mv_data: nil)
        try txn.checkWrite(mdb_put(txn.handle, dbi, &k, &v, flags.rawValue | UInt32(MDB_RESERVE)),
                           "reserve a value in \(describe(database: name))")
        do {
            let result = try fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: v.mv_size))
            txn.wal?.record(.put, self, putFlags: flags.rawValue, key: key, value: UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
            return result
        } catch {
            txn.environment.noteWriteFailure(.poisoned)
            throw error
        }
    }

    /// Removes `key` and all of its values. Returns whether it was present.
    /// - Complexity: O(log n).
    public func delete(_ key: UnsafeRawBufferPointer, in txn: borrowing WriteTransaction) throws -> Bool {
        let dbi = try handle(in: txn)
        var k = MDB_val(key)
        let rc = mdb_del(txn.handle, dbi, &k, nil)
        if rc == MDB_NOTFOUND { return false }
        try txn.checkWrite(rc, "delete from \(describe(database: name))")
        txn.wal?.record(.delete, self, key: key)
        return true
    }

    /// Removes `key` and all of its values: see ``delete(_:in:)-(UnsafeRawBufferPointer,_)``.
    @inlinable @discardableResult
    public func delete(_ key: some ContiguousBytes, in txn: borrowing WriteTransaction) throws -> Bool {
        try key.withUnsafeBytes { try delete($0, in: txn) }
    }

    /// In a ``Flags/dupSort`` database, removes one value of `key`. Returns whether that pair
    /// was present.
    /// - Complexity: O(log n).
    public func delete(_ key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, in txn: borrowing WriteTransaction) throws -> Bool {
        let dbi = try handle(in: txn)
        var k = MDB_val(key)
        var v = MDB_val(value)
        let rc = mdb_del(txn.handle, dbi, &k, &v)
        if rc == MDB_NOTFOUND { return false }
        try txn.checkWrite(rc, "delete a value from \(describe(database: name))")
        txn.wal?.record(.deleteValue, self, key: key, value: value)
        return true
    }

    /// In a ``Flags/dupSort`` database, removes one value of `key`: see
    /// ``delete(_:value:in:)-(UnsafeRawBufferPointer,UnsafeRawBufferPointer,_)``.
    @inlinable @discardableResult
    public func delete(_ key: some ContiguousBytes, value: some ContiguousBytes, in txn: borrowing WriteTransaction) throws -> Bool {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try delete(k, value: v, in: txn) } }
    }

    /// Removes every entry; the database stays open (`mdb_drop` with `del = 0`).
    ///
    /// The main database holds a record for each named database, and LMDB would clear those
    /// too — every named database lost, its pages never freed. So clearing the main database is
    /// refused while it holds a value of 48 bytes, the size of such a record (as
    /// ``Environment/databaseNames()`` counts them): drop the named databases first.
    /// - Throws: ``LMDBError/Code/misuse`` for the main database while it holds named ones.
    /// - Complexity: O(number of pages).
    public func clear(in txn: borrowing WriteTransaction) throws {
        let dbi = try handle(in: txn)
        if name == nil {
            let holdsNamed = try withCursor(in: txn) { cursor in
                var entries = cursor.entries()
                while let entry = try entries.next() { if entry.value.count == 48 { return true } }
                return false
            }
            if holdsNamed {
                throw LMDBError(.misuse, operation: "clear the main database",
                                detail: "it holds the named databases' records, which LMDB would clear with it; drop the named databases first")
            }
        }
        try txn.checkWrite(mdb_drop(txn.handle, dbi, 0), "clear \(describe(database: name))")
        txn.wal?.record(.clear, self)
    }

    /// Deletes the database itself (`mdb_drop` with `del = 1`). The handle is closed — even if
    /// the transaction rolls back, which keeps the database — and any later use of it throws
    /// ``LMDBError/Code/misuse``; ``Environment/openDatabase(_:flags:create:)`` opens it again
    /// by name (recreating it after a committed drop).
    /// - Complexity: O(number of pages).
    public func drop(in txn: borrowing WriteTransaction) throws {
        let dbi = try handle(in: txn)
        guard name != nil else {
            throw LMDBError(.misuse, operation: "drop the main database", detail: "the main database can only be cleared")
        }
        try txn.checkWrite(mdb_drop(txn.handle, dbi, 1), "drop \(describe(database: name))")
        txn.wal?.record(.drop, self)
        txn.environment.forgetDatabase(named: name)
        txn.environment.handles.release(slot: dbi)   // LMDB closed the handle: its slot goes to the next open
    }

    /// The flags the database was created with, as LMDB keeps them (`mdb_dbi_flags`) — which
    /// may differ from ``flags``, the ones it was opened with: LMDB opens an existing database
    /// with its stored flags whatever the caller passed.
    public func storedFlags(in txn: borrowing Transaction<some TransactionAccess>) throws -> Flags {
        let dbi = try handle(in: txn)
        var raw: UInt32 = 0
        try check(mdb_dbi_flags(txn.handle, dbi, &raw), "read the flags of \(describe(database: name))")
        return Flags(rawValue: raw & Flags.known.rawValue)
    }

    // MARK: Size

    /// Page and entry counts of the database as this transaction sees it (`mdb_stat`).
    public func statistics(in txn: borrowing Transaction<some TransactionAccess>) throws -> Statistics {
        let dbi = try handle(in: txn)
        var stat = MDB_stat()
        try check(mdb_stat(txn.handle, dbi, &stat), "stat \(describe(database: name))")
        return Statistics(stat)
    }

    /// The number of entries (key/value pairs) as this transaction sees it.
    /// - Complexity: O(1).
    public func count(in txn: borrowing Transaction<some TransactionAccess>) throws -> Int {
        try statistics(in: txn).entries
    }

    /// Page and entry counts of a database or of a whole environment (`MDB_stat`).
    public struct Statistics: Sendable, Hashable {
        /// The page size in bytes.
        public var pageSize: Int
        /// The height of the B+tree.
        public var depth: Int
        /// Internal (non-leaf) pages.
        public var branchPages: Int
        /// Leaf pages.
        public var leafPages: Int
        /// Overflow pages, holding values larger than about half a page.
        public var overflowPages: Int
        /// Key/value pairs.
        public var entries: Int

        /// The bytes the tree occupies: every page times the page size.
        public var bytes: Int { (branchPages + leafPages + overflowPages) * pageSize }

        init(_ stat: MDB_stat) {
            pageSize = Int(stat.ms_psize)
            depth = Int(stat.ms_depth)
            branchPages = stat.ms_branch_pages
            leafPages = stat.ms_leaf_pages
            overflowPages = stat.ms_overflow_pages
            entries = stat.ms_entries
        }
    }
}
