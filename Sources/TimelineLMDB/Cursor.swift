internal import CTimelineLMDB
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A key and its value, both pointing into the memory map: valid only until the transaction
/// ends, and never to be written through.
public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

extension Database {
    /// Runs `body` with a cursor over this database in `txn`, closing it afterwards.
    ///
    /// The cursor, and every entry it returns, is valid only during the call.
    /// - Throws: ``LMDBError``, or what `body` throws.
    public func withCursor<Access, R>(in txn: borrowing Transaction<Access>, _ body: (borrowing Cursor<Access>) throws -> R) throws -> R {
        let dbi = try self.handle(in: txn)
        var handle: OpaquePointer?
        try check(mdb_cursor_open(txn.handle, dbi, &handle), "open a cursor on \(describe(database: name))")
        guard let handle else { throw LMDBError(.outOfMemory, operation: "open a cursor on \(describe(database: name))") }
        let cursor = Cursor(handle: handle, txn: txn, database: self)
        return try body(cursor)
    }
}

extension Database {
    /// Calls `body` with every entry whose key lies in `range`, in key order (or reverse): the
    /// common cursor loop in one call. Entries are valid only during `body`.
    ///
    /// ```swift
    /// try db.forEachEntry(.prefix(sessionKey), in: txn) { entry in count += entry.value.count }
    /// ```
    /// To stop early, or to walk two ranges side by side, use ``withCursor(in:_:)`` and
    /// ``Cursor/entries(in:reverse:)``.
    /// - Throws: ``LMDBError`` (a damaged page), or what `body` throws.
    /// - Complexity: O(log n) to start, then amortized O(1) per entry.
    public func forEachEntry(
        _ range: KeyRange = .all, reverse: Bool = false, in txn: borrowing Transaction<some TransactionAccess>,
        _ body: (Entry) throws -> Void
    ) throws {
        try withCursor(in: txn) { cursor in
            var entries = cursor.entries(in: range, reverse: reverse)
            while let entry = try entries.next() { try body(entry) }
        }
    }
}

/// A position in one database, moved with `first()`, `next()`, `seek(_:)` and the like, or
/// walked over a ``KeyRange`` with ``entries(in:reverse:)``.
///
/// Get one from ``Database/withCursor(in:_:)``. It is `~Copyable` and not `Sendable`, closes
/// itself when the closure ends, and every ``Entry`` it returns is valid only until the
/// transaction ends. Each move returns the entry it lands on, or `nil` when there is none. A new
/// cursor is on no entry until it moves: ``next()`` then starts at the first entry, ``previous()``
/// at the last, ``current()`` and the moves within a key's values return `nil`, and ``delete(allValues:)``
/// throws ``LMDBError/Code/misuse``. So is a cursor whose last entry was deleted out of an emptied
/// database.
public struct Cursor<Access: TransactionAccess>: ~Copyable {
    let handle: OpaquePointer
    let txnHandle: OpaquePointer
    let unmanagedEnvironment: Unmanaged<Environment>
    /// The database this cursor walks.
    public let database: Database

    init(handle: OpaquePointer, txn: borrowing Transaction<Access>, database: Database) {
        self.handle = handle
        self.txnHandle = txn.handle
        self.unmanagedEnvironment = txn.unmanagedEnvironment
        self.database = database
    }

    deinit {
        mdb_cursor_close(handle)
    }

    // MARK: Moving

    /// The first entry of the database.
    public func first() throws -> Entry? { try move(MDB_FIRST) }
    /// The last entry of the database (the last value of the last key).
    public func last() throws -> Entry? { try move(MDB_LAST) }
    /// The entry after the current one (the next value of a duplicate key, then the next key).
    public func next() throws -> Entry? { try move(MDB_NEXT) }
    /// The entry before the current one.
    public func previous() throws -> Entry? { try move(MDB_PREV) }
    /// The entry at the current position; `nil` when the cursor is on none (it has not moved yet,
    /// or it is past the end after a delete).
    public func current() throws -> Entry? {
        var key = MDB_val(), value = MDB_val()
        let rc = mdb_cursor_get(handle, &key, &value, MDB_GET_CURRENT)
        if rc == EINVAL { return nil }   // LMDB's answer for a cursor that is on no entry
        return try finish(rc, key, value)
    }

    /// Moves to the first key greater than or equal to `key` (`MDB_SET_RANGE`).
    public func seek(_ key: some ContiguousBytes) throws -> Entry? {
        try key.withUnsafeBytes { try move(MDB_SET_RANGE, key: $0) }
    }

    /// Moves to `key` exactly (`MDB_SET_KEY`); `nil` when it is absent.
    public func find(_ key: some ContiguousBytes) throws -> Entry? {
        try key.withUnsafeBytes { try move(MDB_SET_KEY, key: $0) }
    }

    // MARK: Duplicate values (dupSort databases)

    // Outside a dupSort database a key has one value, the current entry: LMDB itself refuses the
    // first and last moves there (`MDB_INCOMPATIBLE`), and its next and previous moves went on
    // to the next key, which ``nextValue()`` promised not to do.

    /// The first value of the current key (outside ``Database/Flags/dupSort`` databases, the
    /// current entry); `nil` when the cursor is on no entry.
    public func firstValue() throws -> Entry? { try holdsDuplicates() ? moveAndReread(MDB_FIRST_DUP) : current() }
    /// The last value of the current key (outside ``Database/Flags/dupSort`` databases, the
    /// current entry); `nil` when the cursor is on no entry.
    public func lastValue() throws -> Entry? { try holdsDuplicates() ? moveAndReread(MDB_LAST_DUP) : current() }
    /// The next value of the current key; `nil` after its last (always, outside
    /// ``Database/Flags/dupSort`` databases).
    public func nextValue() throws -> Entry? { try holdsDuplicates() ? move(MDB_NEXT_DUP) : nil }
    /// The previous value of the current key; `nil` before its first (always, outside
    /// ``Database/Flags/dupSort`` databases).
    public func previousValue() throws -> Entry? { try holdsDuplicates() ? move(MDB_PREV_DUP) : nil }
    /// The first value of the next key.
    public func nextKey() throws -> Entry? { try move(MDB_NEXT_NODUP) }
    /// The last value of the previous key.
    public func previousKey() throws -> Entry? { try move(MDB_PREV_NODUP) }

    /// Moves to the exact pair `key`/`value` (`MDB_GET_BOTH`); `nil` when absent.
    public func find(_ key: some ContiguousBytes, value: some ContiguousBytes) throws -> Entry? {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try move(MDB_GET_BOTH, key: k, value: v) } }
    }

    /// Moves to `key`'s first value greater than or equal to `value` (`MDB_GET_BOTH_RANGE`).
    public func seek(_ key: some ContiguousBytes, value: some ContiguousBytes) throws -> Entry? {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try move(MDB_GET_BOTH_RANGE, key: k, value: v) } }
    }

    /// How many values the current key has (`mdb_cursor_count`); 1 outside dupSort databases.
    /// - Throws: ``LMDBError/Code/misuse`` when the cursor is on no entry.
    public func valueCount() throws -> Int {
        guard try holdsDuplicates() else {
            guard try current() != nil else { throw onNoEntry("count the values of the current key") }
            return 1
        }
        var count = 0
        let rc = mdb_cursor_count(handle, &count)
        if rc == EINVAL { throw onNoEntry("count the values of the current key") }
        try check(rc, "count values in \(describe(database: database.name))")
        return count
    }

}

extension Cursor where Access == WriteAccess {
    // MARK: Writing

    /// Stores `value` under `key` and moves the cursor there (`mdb_cursor_put`).
    /// - Throws: as ``Database/put(_:for:flags:in:)-(UnsafeRawBufferPointer,UnsafeRawBufferPointer,_,_)``.
    public func put(_ value: some ContiguousBytes, for key: some ContiguousBytes, flags: Database.PutFlags = []) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in
                try database.checkValueSize(v.count, unmanagedEnvironment)
                var kv = MDB_val(k), vv = MDB_val(v)
                try checkWrite(mdb_cursor_put(handle, &kv, &vv, flags.rawValue), unmanagedEnvironment,
                               "put into \(describe(database: database.name)) through a cursor")
                unmanagedEnvironment._withUnsafeGuaranteedRef { $0.wal }?.record(.put, database, putFlags: flags.rawValue, key: k, value: v)
            }
        }
    }

    /// Deletes the entry at the cursor; with `allValues`, every value of its key (`MDB_NODUPDATA`).
    public func delete(allValues: Bool = false) throws {
        // With a write-ahead log, the entry is recorded before it goes (and forgotten if it stays).
        guard let entry = try current() else { throw onNoEntry("delete through a cursor") }
        let wal = unmanagedEnvironment._withUnsafeGuaranteedRef { $0.wal }
        let savepoint = wal?.savepoint
        if let wal {
            if database.flags.contains(.dupSort) && !allValues {
                wal.record(.deleteValue, database, key: entry.key, value: entry.value)
            } else {
                wal.record(.delete, database, key: entry.key)
            }
        }
        do {
            try checkWrite(mdb_cursor_del(handle, allValues ? UInt32(MDB_NODUPDATA) : 0), unmanagedEnvironment,
                           "delete from \(describe(database: database.name)) through a cursor")
        } catch {
            if let wal, let savepoint { wal.rollBack(to: savepoint) }
            throw error
        }
    }

}

extension Cursor {
    // MARK: Ranges

    /// The entries whose keys lie in `range`, in key order, or in reverse key order when
    /// `reverse` is true; in a dupSort database every value of each key, in value order (reversed
    /// too when `reverse` is true).
    ///
    /// ```swift
    /// try db.withCursor(in: txn) { cursor in
    ///     var entries = cursor.entries(in: .prefix(sessionID))
    ///     while let (key, value) = try entries.next() { … }
    /// }
    /// ```
    /// The walk moves this cursor; it must not outlive it.
    /// - Complexity: O(log n) to start, then amortized O(1) per entry.
    public func entries(in range: KeyRange = .all, reverse: Bool = false) -> Entries {
        Entries(cursor: handle, txn: txnHandle, database: database, range: range, reverse: reverse)
    }

    /// A walk over a key range, returned by ``Cursor/entries(in:reverse:)``.
    ///
    /// Its ``next()`` throws rather than ending early: a damaged page surfaces as an error instead
    /// of a silently shortened scan (which is why this is not a `Sequence`). It is `~Copyable`, so
    /// it cannot be returned from the cursor's closure or outlive the cursor it moves.
    public struct Entries: ~Copyable {
        let cursor: OpaquePointer
        let txn: OpaquePointer
        let database: Database
        let range: KeyRange
        let reverse: Bool
        /// Whether keys sort bytewise (LMDB's default), so bounds can be compared inline.
        let bytewise: Bool
        /// The bound the walk ends at (upper going forward, lower in reverse), empty when none.
        let endKey: [UInt8]
        /// How `endKey` stops the walk: 0 none, 1 included, 2 excluded.
        let endKind: UInt8
        var started = false
        var finished = false

        init(cursor: OpaquePointer, txn: OpaquePointer, database: Database, range: KeyRange, reverse: Bool) {
            self.cursor = cursor
            self.txn = txn
            self.database = database
            self.range = range
            self.reverse = reverse
            self.bytewise = database.flags.isDisjoint(with: [.reverseKey, .integerKey])
            switch reverse ? range.lower : range.upper {
            case .unbounded: (endKey, endKind) = ([], 0)
            case .included(let key): (endKey, endKind) = (key, 1)
            case .excluded(let key): (endKey, endKind) = (key, 2)
            }
        }

        /// The next entry of the range, or `nil` past its end.
        public mutating func next() throws -> Entry? {
            if finished { return nil }
            var key = MDB_val(), value = MDB_val()
            var rc: Int32
            if started {
                rc = mdb_cursor_get(cursor, &key, &value, reverse ? MDB_PREV : MDB_NEXT)
            } else {
                started = true
                rc = reverse ? positionAtUpperEnd(&key, &value) : positionAtLowerEnd(&key, &value)
            }
            if rc == MDB_NOTFOUND {
                finished = true
                return nil
            }
            try check(rc, "scan \(describe(database: database.name))")
            if endKind != 0 && !isBeforeEnd(key) {
                finished = true
                return nil
            }
            return (key.buffer, value.buffer)
        }

        /// Positions at the first entry ≥ (or >) the lower bound. Every key is longer than the
        /// empty key, so an empty lower bound is no bound (LMDB refuses to seek an empty key).
        private func positionAtLowerEnd(_ key: inout MDB_val, _ value: inout MDB_val) -> Int32 {
            switch range.lower {
            case .unbounded, .included([]), .excluded([]):
                return mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            case .included(let bound):
                return bound.withUnsafeBytes { b in
                    key = MDB_val(b)
                    return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
                }
            case .excluded(let bound):
                return bound.withUnsafeBytes { b in
                    key = MDB_val(b)
                    let rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
                    if rc == 0 && compare(key, b) == 0 {
                        return mdb_cursor_get(cursor, &key, &value, MDB_NEXT_NODUP)
                    }
                    return rc
                }
            }
        }

        /// Positions at the last entry ≤ (or <) the upper bound; no entry is ≤ the empty key.
        private func positionAtUpperEnd(_ key: inout MDB_val, _ value: inout MDB_val) -> Int32 {
            guard let bound = range.upper.key else {
                return mdb_cursor_get(cursor, &key, &value, MDB_LAST)
            }
            if bound.isEmpty { return MDB_NOTFOUND }
            let included = if case .included = range.upper { true } else { false }
            return bound.withUnsafeBytes { b in
                key = MDB_val(b)
                let rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
                if rc == MDB_NOTFOUND { return mdb_cursor_get(cursor, &key, &value, MDB_LAST) }
                if rc != 0 { return rc }
                if included && compare(key, b) == 0 {
                    guard database.flags.contains(.dupSort) else { return 0 }
                    let last = mdb_cursor_get(cursor, nil, &value, MDB_LAST_DUP)
                    return last != 0 ? last : mdb_cursor_get(cursor, &key, &value, MDB_GET_CURRENT)
                }
                return mdb_cursor_get(cursor, &key, &value, MDB_PREV)
            }
        }

        /// Whether `key` has not yet passed the end bound in the walk's direction.
        @inline(__always)
        private func isBeforeEnd(_ key: MDB_val) -> Bool {
            let order = endKey.withUnsafeBytes { compare(key, $0) }
            if order == 0 { return endKind == 1 }
            return reverse ? order > 0 : order < 0
        }

        /// The database's order of `key` against `limit`: negative, zero or positive. Databases in
        /// the default bytewise order compare inline (memcmp, shorter first on a tie), the others
        /// through LMDB's comparator.
        @inline(__always)
        private func compare(_ key: MDB_val, _ limit: UnsafeRawBufferPointer) -> Int32 {
            var l = MDB_val(limit)
            guard bytewise else {
                var k = key
                return mdb_cmp(txn, database.dbi, &k, &l)
            }
            let common = Swift.min(key.mv_size, limit.count)
            if common > 0, let a = key.mv_data, let b = limit.baseAddress {
                let order = memcmp(a, b, common)
                if order != 0 { return order }
            }
            return key.mv_size < limit.count ? -1 : (key.mv_size > limit.count ? 1 : 0)
        }
    }

    // MARK: Internals

    private func move(_ op: MDB_cursor_op) throws -> Entry? {
        var key = MDB_val(), value = MDB_val()
        return try finish(mdb_cursor_get(handle, &key, &value, op), key, value)
    }

    private func move(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer) throws -> Entry? {
        var k = MDB_val(key), value = MDB_val()
        return try finish(mdb_cursor_get(handle, &k, &value, op), k, value)
    }

    private func move(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws -> Entry? {
        var k = MDB_val(key), v = MDB_val(value)
        return try finish(mdb_cursor_get(handle, &k, &v, op), k, v)
    }

    /// Whether the database keeps several values a key, as LMDB has it (`mdb_dbi_flags`: the
    /// stored flags, whatever the handle was opened with).
    private func holdsDuplicates() throws -> Bool {
        var flags: UInt32 = 0
        try check(mdb_dbi_flags(txnHandle, database.dbi, &flags), "read the flags of \(describe(database: database.name))")
        return flags & UInt32(MDB_DUPSORT) != 0
    }

    /// The error for an operation that needs the cursor on an entry when it is on none.
    func onNoEntry(_ operation: String) -> LMDBError {
        LMDBError(.misuse, operation: "\(operation) in \(describe(database: database.name))",
                  detail: "the cursor is on no entry: move it to one first (first(), seek(_:), find(_:)…)")
    }

    /// For the dup moves that fill in only the value: move, then read the whole current entry.
    private func moveAndReread(_ op: MDB_cursor_op) throws -> Entry? {
        var value = MDB_val()
        let rc = mdb_cursor_get(handle, nil, &value, op)
        if rc == MDB_NOTFOUND || rc == EINVAL { return nil }   // EINVAL: on no entry
        try check(rc, "move a cursor on \(describe(database: database.name))")
        return try move(MDB_GET_CURRENT)
    }

    private func finish(_ rc: Int32, _ key: MDB_val, _ value: MDB_val) throws -> Entry? {
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "move a cursor on \(describe(database: database.name))")
        return (key.buffer, value.buffer)
    }
}

@available(*, unavailable, message: "a cursor belongs to its transaction's thread")
extension Cursor: Sendable {}
