#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Counts the transactions this process has open on one environment, so that the map can be
/// resized only while none is open (LMDB's rule for `mdb_env_set_mapsize`).
///
/// Every transaction passes ``enter(write:)`` before `mdb_txn_begin` and ``exit()`` after it
/// ends. ``exclusive(_:)`` stops new transactions, waits until the open ones have ended, and
/// runs its body alone. The gate also remembers which threads hold transactions, to turn two
/// self-deadlocks into errors: `write` inside `write` on one thread, and map growth requested by a
/// thread that still holds another transaction.
///
/// It also keeps a few idle read transactions (reset with `mdb_txn_reset`, so they hold a reader
/// slot but no snapshot) for ``Environment/read(_:)`` to renew: renewing skips the search for a
/// free slot under LMDB's cross-process reader mutex that `mdb_txn_begin` does. Sharing the gate's
/// mutex means taking or returning one costs no extra lock.
///
/// `@unchecked Sendable`: every mutable field is read and written only with `mutex` held.
final class TransactionGate: @unchecked Sendable {
    private struct Holder {
        var thread: pthread_t
        var isWrite: Bool
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    // Not checked for exclusive access at run time: the mutex already guarantees it, and the
    // checks cost about 250 instructions per transaction (a quarter of a read's).
    @exclusivity(unchecked) private var holders: [Holder] = []
    @exclusivity(unchecked) private var exclusiveRequested = false
    @exclusivity(unchecked) private var isClosed = false
    @exclusivity(unchecked) private var idleReaders: [OpaquePointer] = []
    private let maxIdleReaders: Int

    /// - Parameter maxIdleReaders: how many reset read transactions to keep for reuse.
    init(maxIdleReaders: Int) {
        self.maxIdleReaders = maxIdleReaders
        idleReaders.reserveCapacity(maxIdleReaders)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
        holders.reserveCapacity(16)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Registers a transaction of the calling thread; waits while a resize is pending, unless this
    /// thread already holds a transaction (the resize is then waiting for us, not we for it).
    /// - Returns: for a read, an idle reset read transaction to renew, if one is kept.
    /// - Throws: ``LMDBError/Code/closed``; ``LMDBError/Code/nestedWrite`` for a second write
    ///   transaction on one thread (LMDB's writer lock would deadlock).
    @discardableResult
    func enter(write: Bool) throws(LMDBError) -> OpaquePointer? {
        let me = pthread_self()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if write && holders.contains(where: { $0.isWrite && pthread_equal($0.thread, me) != 0 }) {
            throw LMDBError(.nestedWrite, operation: "begin write transaction")
        }
        while exclusiveRequested && !holdsTransaction(me) && !isClosed {
            pthread_cond_wait(condition, mutex)
        }
        if isClosed { throw LMDBError(.closed, operation: write ? "begin write transaction" : "begin read transaction") }
        holders.append(Holder(thread: me, isWrite: write))
        return write ? nil : idleReaders.popLast()
    }

    /// Unregisters the calling thread's most recent transaction, keeping `idleReader` (a read
    /// transaction already reset) for reuse when there is room.
    /// - Returns: `idleReader` when it was not kept: the caller must abort it.
    @discardableResult
    func exit(idleReader: OpaquePointer? = nil) -> OpaquePointer? {
        let me = pthread_self()
        var rejected = idleReader
        pthread_mutex_lock(mutex)
        if let reader = idleReader, idleReaders.count < maxIdleReaders, !isClosed {
            idleReaders.append(reader)
            rejected = nil
        }
        if let index = holders.lastIndex(where: { pthread_equal($0.thread, me) != 0 }) {
            holders.swapAt(index, holders.count - 1)
            holders.removeLast()
        }
        if exclusiveRequested && holders.isEmpty { pthread_cond_broadcast(condition) }
        pthread_mutex_unlock(mutex)
        return rejected
    }

    /// Whether the calling thread holds a write transaction of this environment.
    var currentThreadHoldsWrite: Bool {
        let me = pthread_self()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return holders.contains { $0.isWrite && pthread_equal($0.thread, me) != 0 }
    }

    /// Whether the calling thread holds any transaction of this environment.
    var currentThreadHoldsTransaction: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return holdsTransaction(pthread_self())
    }

    /// Runs `body` while no transaction of this process is open and none can start.
    /// - Parameters:
    ///   - closing: when true, the gate stays shut afterwards: every later ``enter(write:)`` throws
    ///     ``LMDBError/Code/closed``, and `body` gets the idle read transactions to abort.
    ///   - operation: named in the error when the calling thread itself holds a transaction.
    /// - Throws: ``LMDBError/Code/growthBlocked`` when the calling thread holds a transaction (it
    ///   would wait for itself), ``LMDBError/Code/closed`` after a close, or what `body` throws.
    func exclusive<R>(
        closing: Bool = false,
        operation: String,
        _ body: (_ idleReaders: [OpaquePointer]) throws(LMDBError) -> R
    ) throws(LMDBError) -> R {
        let me = pthread_self()
        pthread_mutex_lock(mutex)
        if holdsTransaction(me) {
            pthread_mutex_unlock(mutex)
            throw LMDBError(.growthBlocked, operation: operation)
        }
        while exclusiveRequested { pthread_cond_wait(condition, mutex) }
        if isClosed {
            pthread_mutex_unlock(mutex)
            throw LMDBError(.closed, operation: operation)
        }
        exclusiveRequested = true
        while !holders.isEmpty { pthread_cond_wait(condition, mutex) }
        var drained: [OpaquePointer] = []
        if closing { swap(&drained, &idleReaders) }
        pthread_mutex_unlock(mutex)

        let result: Result<R, LMDBError>
        do throws(LMDBError) { result = .success(try body(drained)) } catch { result = .failure(error) }

        pthread_mutex_lock(mutex)
        exclusiveRequested = false
        if closing { isClosed = true }
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        return try result.get()
    }

    private func holdsTransaction(_ thread: pthread_t) -> Bool {
        holders.contains { pthread_equal($0.thread, thread) != 0 }
    }
}
