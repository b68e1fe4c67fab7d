internal import CLMDB

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// An LMDB transaction: a consistent snapshot to read from and, for a write transaction, the
/// place where changes accumulate until commit.
///
/// You never create or end one yourself: ``Environment/read(_:)`` and ``Environment/write(_:)``
/// hand a borrowed transaction to a closure and end it when the closure returns. The type is
/// `~Copyable` and not `Sendable`, so it cannot escape that closure or cross to another thread.
/// It is valid only during the call, and so is every buffer read through it.
///
/// If a transaction is ever destroyed without being committed or aborted, its `deinit` aborts it.
public struct Transaction: ~Copyable {
    let handle: OpaquePointer
    /// The environment, unretained: a transaction never outlives the closure of the environment
    /// method that created it, and that method holds the environment.
    let unmanagedEnvironment: Unmanaged<Environment>
    /// Whether this is a read-only transaction.
    public let isReadOnly: Bool

    init(handle: OpaquePointer, environment: Environment, isReadOnly: Bool) {
        self.handle = handle
        self.unmanagedEnvironment = Unmanaged.passUnretained(environment)
        self.isReadOnly = isReadOnly
    }

    deinit {
        mdb_txn_abort(handle)
    }

    /// The environment this transaction belongs to.
    public var environment: Environment { unmanagedEnvironment.takeUnretainedValue() }

    /// LMDB's id for this transaction: the snapshot a reader sees, or the id the writer will
    /// commit as (`mdb_txn_id`).
    public var id: Int { Int(mdb_txn_id(handle)) }

    /// Commits; LMDB frees the handle whether or not that succeeds.
    consuming func commit() throws(LMDBError) {
        let handle = self.handle
        let environment = self.unmanagedEnvironment
        discard self
        let rc = mdb_txn_commit(handle)
        let path = environment.takeUnretainedValue().path
        // LMDB turns a short write into EIO: on a full disk, say so.
        if rc == EIO, let free = availableBytes(onFileSystemOf: path), free < 1 << 20 {
            throw LMDBError(.noSpace, operation: "commit transaction on \(path)",
                            detail: "a write came up short (LMDB reports EIO) with \(free) bytes left on the file system; the transaction was not committed")
        }
        try LMDB.checkWrite(rc, environment, "commit transaction on \(path)")
    }

    /// Resets a read transaction for reuse (`mdb_txn_reset`): it releases its snapshot but keeps
    /// its reader slot. Returns the handle, to be renewed or aborted.
    consuming func reset() -> OpaquePointer {
        let handle = self.handle
        discard self
        mdb_txn_reset(handle)
        return handle
    }

    /// Aborts, discarding every change.
    consuming func abort() {
        let handle = self.handle
        discard self
        mdb_txn_abort(handle)
    }

    /// Runs `body` in a nested write transaction: its changes become part of this transaction
    /// when `body` returns, and are discarded (leaving this transaction's earlier writes intact)
    /// when it throws. While `body` runs, use only the child transaction.
    ///
    /// ```swift
    /// try env.write { txn in
    ///     try db.put(a, for: k1, in: txn)
    ///     try? txn.nested { child in
    ///         try db.put(b, for: k2, in: child)
    ///         throw Cancelled()          // k2 is discarded, k1 stays
    ///     }
    /// }
    /// ```
    /// - Throws: ``LMDBError/Code/readOnly`` in a read transaction; what `body` throws.
    public func nested<R>(_ body: (borrowing Transaction) throws -> R) throws -> R {
        guard !isReadOnly else {
            throw LMDBError(.readOnly, operation: "begin nested transaction",
                            detail: "nested transactions need a write transaction")
        }
        var child: OpaquePointer?
        try check(mdb_txn_begin(mdb_txn_env(handle), handle, 0, &child), "begin nested transaction")
        guard let child else { throw LMDBError(.outOfMemory, operation: "begin nested transaction") }
        let txn = Transaction(handle: child, environment: environment, isReadOnly: false)
        let result: R
        do {
            result = try body(txn)
        } catch {
            txn.abort()
            throw error
        }
        try txn.commit()
        return result
    }

    /// Checks the return code of a write made through this transaction: see the free `checkWrite`.
    @inline(__always)
    func checkWrite(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
        try LMDB.checkWrite(rc, unmanagedEnvironment, operation())
    }
}

@available(*, unavailable, message: "a transaction belongs to one thread at a time; do the work inside its closure")
extension Transaction: Sendable {}
