internal import CTimelineLMDB

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// What a ``Transaction`` may do, as a type: ``ReadAccess`` or ``WriteAccess``.
///
/// Operations that only read take `borrowing Transaction<some TransactionAccess>`, so they accept
/// both kinds; operations that write take a ``WriteTransaction``, so a write inside a read
/// transaction does not compile.
public protocol TransactionAccess: Sendable {
    /// Whether transactions of this kind can only read.
    static var isReadOnly: Bool { get }
}

/// The access of a read-only transaction: ``ReadTransaction``.
public enum ReadAccess: TransactionAccess {
    /// Always true.
    public static var isReadOnly: Bool { true }
}

/// The access of a read-write transaction: ``WriteTransaction``.
public enum WriteAccess: TransactionAccess {
    /// Always false.
    public static var isReadOnly: Bool { false }
}

/// A read-only transaction: a consistent snapshot, from ``Environment/read(_:)``.
public typealias ReadTransaction = Transaction<ReadAccess>

/// A read-write transaction, from ``Environment/write(_:)``: usable wherever a read one is.
public typealias WriteTransaction = Transaction<WriteAccess>

/// An LMDB transaction: a consistent snapshot to read from and, for a ``WriteTransaction``, the
/// place where changes accumulate until commit.
///
/// You never create or end one yourself: ``Environment/read(_:)`` and ``Environment/write(_:)``
/// hand a borrowed transaction to a closure and end it when the closure returns. The type is
/// `~Copyable` and not `Sendable`, so it cannot escape that closure or cross to another thread.
/// It is valid only during the call, and so is every buffer read through it.
///
/// `Access` says at compile time what it may do: reads accept any transaction
/// (`borrowing Transaction<some TransactionAccess>`), writes only a ``WriteTransaction``.
///
/// If a transaction is ever destroyed without being committed or aborted, its `deinit` aborts it.
public struct Transaction<Access: TransactionAccess>: ~Copyable {
    let handle: OpaquePointer
    /// The environment, unretained: a transaction never outlives the closure of the environment
    /// method that created it, and that method holds the environment.
    let unmanagedEnvironment: Unmanaged<Environment>
    /// Whether this value ends the C transaction (false for a ``view()``).
    private let owned: Bool

    init(handle: OpaquePointer, environment: Environment) {
        self.handle = handle
        self.unmanagedEnvironment = Unmanaged.passUnretained(environment)
        self.owned = true
    }

    private init(viewing handle: OpaquePointer, _ environment: Unmanaged<Environment>) {
        self.handle = handle
        self.unmanagedEnvironment = environment
        self.owned = false
    }

    deinit {
        if owned { mdb_txn_abort(handle) }
    }

    /// Another value for this same transaction, which never ends it: for a higher layer that wraps
    /// a borrowed transaction in its own `~Copyable` context. Valid only while this one is.
    package func view() -> Transaction<Access> {
        Transaction(viewing: handle, unmanagedEnvironment)
    }

    /// Whether this is a read-only transaction (known from its type).
    public var isReadOnly: Bool { Access.isReadOnly }

    /// The environment this transaction belongs to.
    public var environment: Environment { unmanagedEnvironment.takeUnretainedValue() }

    /// The environment's write-ahead log, if it has one, read without retaining the environment:
    /// every write asks for it.
    var wal: WriteAheadLog? { unmanagedEnvironment._withUnsafeGuaranteedRef { $0.wal } }

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
        try TimelineLMDB.checkWrite(rc, environment, "commit transaction on \(path)")
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

}

extension Transaction where Access == WriteAccess {
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
    /// - Throws: what `body` throws; ``LMDBError`` when the child cannot begin or commit.
    public func nested<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        var child: OpaquePointer?
        try check(mdb_txn_begin(mdb_txn_env(handle), handle, 0, &child), "begin nested transaction")
        guard let child else { throw LMDBError(.outOfMemory, operation: "begin nested transaction") }
        let txn = WriteTransaction(handle: child, environment: environment)
        let wal = self.wal
        let savepoint = wal?.savepoint
        // A reserved value the child left unfilled goes with the child's abort: the parent is
        // not poisoned by it (a full map still is, since it is retried as a whole).
        let failureBefore = environment.recordedWriteFailure
        let result: R
        do {
            result = try body(txn)
        } catch {
            txn.abort()
            if let wal, let savepoint { wal.rollBack(to: savepoint) }
            environment.forgetPoisoning(since: failureBefore)
            throw error
        }
        do throws(LMDBError) {
            try txn.commit()
        } catch {
            if let wal, let savepoint { wal.rollBack(to: savepoint) }
            throw error
        }
        return result
    }

    /// Checks the return code of a write made through this transaction: see the free `checkWrite`.
    @inline(__always)
    func checkWrite(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
        try TimelineLMDB.checkWrite(rc, unmanagedEnvironment, operation())
    }
}

@available(*, unavailable, message: "a transaction belongs to one thread at a time; do the work inside its closure")
extension Transaction: Sendable {}
