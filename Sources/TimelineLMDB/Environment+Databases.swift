internal import CTimelineLMDB
internal import Synchronization

extension Environment {
    /// Opens the named database, creating it when missing (unless `create` is false or the
    /// environment is read-only). Handles are cached: opening the same name again is cheap and
    /// returns the same handle.
    ///
    /// Open databases before using them, not from inside a transaction closure: a database that is
    /// not open yet needs a transaction of its own.
    /// - Parameters:
    ///   - name: the database's name, or `nil` for the main (unnamed) database.
    ///   - flags: how keys and values are kept; must match the flags it was created with.
    ///   - create: create the database when it does not exist.
    /// - Throws: ``LMDBError/Code/notFound`` when it does not exist and cannot be created,
    ///   ``LMDBError/Code/incompatible`` when `flags` differ from the stored ones,
    ///   ``LMDBError/Code/databasesFull`` past ``Configuration/maxDatabases``,
    ///   ``LMDBError/Code/misuse`` when called inside a transaction for a database not yet open,
    ///   ``LMDBError/Code/invalidArgument`` for an empty name or one with a NUL character (LMDB
    ///   would take the main database, or the name up to the NUL, instead).
    public func openDatabase(_ name: String? = nil, flags: Database.Flags = [], create: Bool = true) throws -> Database {
        if let name, name.isEmpty || name.utf8.contains(0) {
            throw LMDBError(.invalidArgument, operation: "open database \"\(name)\"",
                            detail: "a database's name is at least one byte, without NUL characters; nil names the main database")
        }
        let cacheKey = name ?? ""
        if let cached = databases.withLock({ $0[cacheKey] }) {
            guard cached.flags == flags else {
                throw LMDBError(.incompatible, operation: "open \(describe(database: name))",
                                detail: "already open with flags \(cached.flags.rawValue), asked for \(flags.rawValue)")
            }
            return cached
        }
        if gate.currentThreadHoldsTransaction {
            throw LMDBError(.misuse, operation: "open \(describe(database: name))",
                            detail: "a database must be opened outside of read/write closures")
        }
        let operation = "open \(describe(database: name)) in \(path)"
        func open(_ txn: borrowing Transaction<some TransactionAccess>, _ create: Bool) throws(LMDBError) -> Database {
            let (rc, dbi, created) = openHandle(txn.handle, name, flags, create: create)
            if rc == MDB_NOTFOUND {
                throw LMDBError(.notFound, operation: operation,
                                detail: "no database named \"\(cacheKey)\" exists" + (create ? "" : " and it was not to be created"))
            }
            try check(rc, operation)
            let database = Database(dbi: dbi, name: name, flags: flags, token: handles.token(slot: dbi, name: name))
            if created { wal?.record(.create, database) }
            return database
        }
        let database: Database
        if configuration.readOnly {
            // mdb_dbi_open must not run in two transactions of one process at once; writers are
            // serialized by LMDB itself, readers by this lock. The handle survives only a commit.
            database = try openLock.withLock { _ in
                try read(commit: true) { txn in try open(txn, false) }
            }
        } else {
            database = try write { txn in try open(txn, create) }
        }
        databases.withLock { $0[cacheKey] = database }
        return database
    }

    /// Removes a dropped database's handle from the cache.
    func forgetDatabase(named name: String?) {
        _ = databases.withLock { $0.removeValue(forKey: name ?? "") }
    }

    /// The names of the named databases, sorted, read from the main database (each named
    /// database is a key there). Includes databases this process has not opened. Keys that
    /// callers put into the main database themselves are not listed unless their value happens to
    /// be 48 bytes long, the size of a database record.
    public func databaseNames() throws -> [String] {
        let main = try openDatabase(nil)
        return try read { txn in
            var names: [String] = []
            try main.forEachEntry(in: txn) { entry in
                // A named database's record in the main database is its 48-byte MDB_db
                // header; a plain key put into the main database has some other value.
                if entry.value.count == 48 {
                    names.append(String(decoding: entry.key, as: UTF8.self))
                }
            }
            return names
        }
    }
}

extension Transaction where Access == WriteAccess {
    /// Opens the named database inside this write transaction, creating it when missing and
    /// `create` is true: the creation commits or rolls back with the transaction, so a write that
    /// fails leaves no empty database behind (``Environment/openDatabase(_:flags:create:)`` commits
    /// a creation at once).
    ///
    /// The handle is not cached. Use it only inside this transaction; once the transaction
    /// committed, ``Environment/openDatabase(_:flags:create:)`` returns the same database. Do not
    /// open databases from another thread of the process while this runs (`mdb_dbi_open` is not
    /// safe in two transactions at once).
    /// - Throws: ``LMDBError/Code/notFound`` when
    ///   the database is missing and `create` is false; ``LMDBError/Code/databasesFull``;
    ///   ``LMDBError/Code/incompatible``.
    public func openDatabase(_ name: String, flags: Database.Flags = [], create: Bool = true) throws(LMDBError) -> Database {
        let operation = "open database \"\(name)\" in \(environment.path)"
        let (rc, dbi, created) = openHandle(handle, name, flags, create: create)
        if rc == MDB_NOTFOUND { throw LMDBError(.notFound, operation: operation, detail: "no database named \"\(name)\" exists") }
        try TimelineLMDB.checkWrite(rc, unmanagedEnvironment, operation)
        let database = Database(dbi: dbi, name: name, flags: flags, token: environment.handles.token(slot: dbi, name: name))
        if created { wal?.record(.create, database) }
        return database
    }
}

/// Opens database `name` in transaction `txn`, creating it when missing and `create` is true.
/// Returns LMDB's code, the handle, and whether this call created the database: only a creation
/// goes into the write-ahead log, so that a transaction that merely opens existing databases (as
/// every open of a store does) writes no record and syncs nothing.
private func openHandle(_ txn: OpaquePointer, _ name: String?, _ flags: Database.Flags, create: Bool) -> (Int32, MDB_dbi, created: Bool) {
    var dbi: MDB_dbi = 0
    let rc = mdb_dbi_open(txn, name, flags.rawValue, &dbi)
    guard rc == MDB_NOTFOUND, create else { return (rc, dbi, false) }
    let created = mdb_dbi_open(txn, name, flags.rawValue | UInt32(MDB_CREATE), &dbi)
    return (created, dbi, created == 0)
}
