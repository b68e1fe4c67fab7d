internal import CTimelineLMDB
internal import Synchronization

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// An open LMDB environment: one directory holding `data.mdb` and `lock.mdb`, with any number of
/// named databases inside.
///
/// Open it once per process and share it; it is `Sendable`. Reach the data through
/// transactions, which are scoped closures:
///
/// ```swift
/// let env = try Environment(path: "/var/lib/app/store")
/// let notes = try env.openDatabase("notes")
/// try env.write { txn in
///     try notes.put(Array("hello".utf8), for: Array("greeting".utf8), in: txn)
/// }
/// let text = try env.read { txn in
///     try notes.get(Array("greeting".utf8), in: txn).map { String(decoding: $0, as: UTF8.self) }
/// }
/// ```
///
/// The environment is always opened with `MDB_NOTLS`, so a read transaction is not tied to a
/// thread and Swift concurrency may run its closure on any thread. The map grows by itself when
/// a write needs more room (see `Docs/architecture.md`); stale reader slots left by crashed
/// processes are cleared when the environment opens.
///
/// `@unchecked Sendable`: the LMDB handle is safe to use from many threads under `MDB_NOTLS` as
/// long as each transaction is used by one thread at a time, which the closure API guarantees;
/// the mutable state here is guarded by the transaction gate, a `Mutex`, or atomics.
public final class Environment: @unchecked Sendable {
    /// The directory the environment lives in.
    public let path: String
    /// The options it was opened with.
    public let configuration: Configuration
    /// How many reader slots of dead processes were cleared when the environment opened.
    public let staleReadersClearedAtOpen: Int

    let handle: OpaquePointer
    let gate: TransactionGate
    /// What went wrong in this process's current write transaction (LMDB allows one at a time),
    /// recorded even when the caller catches the error: see ``WriteFailure``.
    let writeFailure = Atomic<UInt8>(0)
    /// The map size in bytes. Changes only inside ``TransactionGate/exclusive(closing:operation:_:)``.
    let currentMapSize: Atomic<Int>
    /// Database handles opened so far, by name ("" for the main database).
    let databases = Mutex<[String: Database]>([:])
    /// The largest value a put takes: 2,147,479,536 bytes (2 GiB − 4 KiB − 16) with 4 KiB pages.
    /// LMDB writes a large value's pages with one `pwrite` at commit, which Linux cuts short at
    /// 2 GiB − 4 KiB, and LMDB reports a short write as `EIO`: a larger value was taken by the put
    /// and then failed the commit as a disk error. A put of a longer value throws
    /// ``LMDBError/Code/badValueSize`` instead, before anything is written.
    public let maxValueSize: Int
    /// Which database each handle slot holds: a ``Database`` is checked against it on every use.
    let handles: DatabaseHandles
    /// Serializes `mdb_dbi_open` through read transactions (read-only environments).
    let openLock = Mutex<Void>(())
    /// The device and inode of `data.mdb`, registered in ``openFiles`` while the environment is open.
    let fileID: FileID?
    /// The write-ahead log, with ``Durability/writeAheadLog``.
    let wal: WriteAheadLog?
    /// The descriptor holding this read-write open's `flock` on `data.mdb` (see
    /// `lockWriters(_:logged:)`); -1 for a read-only one.
    let writersLock: Int32

    /// Where a data file lives on disk: the same file under any path spelling.
    struct FileID: Hashable {
        let device: UInt64
        let inode: UInt64

        init?(path: String) {
            var info = stat()
            guard stat(path + "/data.mdb", &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// The stores open in this process. LMDB must never open one file twice in a process: the
    /// second handle's close would release the first one's `fcntl` locks (`lmdb.h`, "Caveats").
    static let openFiles = Mutex<Set<FileID>>([])

    /// Opens (and, unless read-only, creates) the environment in the directory at `path`.
    ///
    /// - Parameters:
    ///   - path: a directory; created with the configured mode if missing (not when read-only).
    ///   - configuration: map size, limits, durability and mode.
    /// - Throws: ``LMDBError`` with ``LMDBError/Code/invalid`` when `data.mdb` is not an LMDB file,
    ///   ``LMDBError/Code/permissionDenied``, ``LMDBError/Code/noSuchFile``,
    ///   ``LMDBError/Code/notADirectory``, ``LMDBError/Code/versionMismatch``, and the like; the
    ///   C handle is released before the error is thrown.
    public init(path: String, configuration: Configuration = Configuration()) throws(LMDBError) {
        // Checked and registered under one lock, before LMDB touches the files.
        let opened = Environment.openFiles.withLock { files in
            Result { () throws(LMDBError) in
                if let id = FileID(path: path), files.contains(id) {
                    throw LMDBError(.alreadyOpen, operation: "open environment at \(path)")
                }
                let handle = try Environment.open(path, configuration)
                let id = FileID(path: path)
                if let id { files.insert(id) }
                return (handle, id)
            }
        }
        let (handle, id) = try opened.get()
        self.handle = handle.handle
        self.wal = handle.wal
        self.writersLock = handle.writersLock
        self.staleReadersClearedAtOpen = handle.staleReaders
        self.currentMapSize = Atomic(handle.mapSize)
        self.fileID = id
        self.path = path
        self.configuration = configuration
        self.gate = TransactionGate(maxIdleReaders: Swift.min(8, Swift.max(0, configuration.maxReaders / 8)))
        self.handles = DatabaseHandles(slots: configuration.maxDatabases + 2)   // LMDB's own two, then the named ones
        var stat = MDB_stat()   // the page size: the operating system's when the file was made
        self.maxValueSize = Environment.maxValueSize(pageSize: mdb_env_stat(handle.handle, &stat) == 0 ? Int(stat.ms_psize) : 4_096)
    }

    /// The most named databases an environment may be configured for (``Configuration/maxDatabases``).
    public static let maxDatabasesLimit = 32_767

    /// The most readers an environment may be configured for (``Configuration/maxReaders``): a
    /// lock file of 64 MiB.
    public static let maxReadersLimit = 1 << 20

    /// Opens the C environment: the handle, the stale readers cleared and the map size.
    private static func open(_ path: String, _ configuration: Configuration) throws(LMDBError)
        -> (handle: OpaquePointer, staleReaders: Int, mapSize: Int, wal: WriteAheadLog?, writersLock: Int32) {
        let operation = "open environment at \(path)"
        try checkDirectoryPath(path, operation)
        // LMDB sizes the lock file by the reader table: at `Int.max` readers it made a 256 GB one.
        guard (1...Environment.maxReadersLimit).contains(configuration.maxReaders) else {
            throw LMDBError(.invalidArgument, operation: operation,
                            detail: "Configuration.maxReaders is \(configuration.maxReaders); it must be 1…\(Environment.maxReadersLimit)")
        }
        guard configuration.fileMode & ~0o777 == 0 else {
            throw LMDBError(.invalidArgument, operation: operation,
                            detail: "Configuration.fileMode is 0o\(String(configuration.fileMode, radix: 8)); it holds permission bits only (0o000…0o777)")
        }
        // LMDB adds its own two databases to the count in an `unsigned int`: near the top of its
        // range the sum wrapped, its tables came out too small, and the first open crashed.
        guard (0...Environment.maxDatabasesLimit).contains(configuration.maxDatabases) else {
            throw LMDBError(.invalidArgument, operation: operation,
                            detail: "Configuration.maxDatabases is \(configuration.maxDatabases); it must be 0…\(Environment.maxDatabasesLimit)")
        }
        guard configuration.maxMapSize >= 1 else {
            throw LMDBError(.invalidArgument, operation: operation, detail: "Configuration.maxMapSize is \(configuration.maxMapSize); it must be at least 1 byte")
        }
        // Before the preflight: after a power cut, the newest meta page may name pages that never
        // reached the disk, until the log's recovery writes the checkpoint's meta pages back.
        let log = try prepareLog(path, configuration)
        var logOwned = log != nil
        defer { if logOwned, let fd = log?.fd, fd >= 0 { _ = closeDescriptor(fd) } }
        try DataFilePreflight.check(path, readOnly: configuration.readOnly)
        if !configuration.readOnly { try Environment.createDirectory(path, fileMode: configuration.fileMode) }

        var writersLock: Int32 = -1
        var created: OpaquePointer?
        try check(mdb_env_create(&created), operation)
        guard let handle = created else { throw LMDBError(.outOfMemory, operation: operation) }
        do throws(LMDBError) {
            try check(mdb_env_set_maxdbs(handle, MDB_dbi(clamping: configuration.maxDatabases)), operation)
            try check(mdb_env_set_maxreaders(handle, UInt32(clamping: configuration.maxReaders)), operation)
            var flags = UInt32(MDB_NOTLS)
            switch configuration.durability {
            case .durable: break
            case .noMetaSync: flags |= UInt32(MDB_NOMETASYNC)
            case .noSync: flags |= UInt32(MDB_NOSYNC)
            case .writeAheadLog: if !configuration.readOnly { flags |= UInt32(MDB_NOSYNC) }
            }
            if configuration.readOnly { flags |= UInt32(MDB_RDONLY) }
            // No map size before opening: LMDB then adopts the size recorded in the file, and we
            // raise it to the configured one below if that is larger, or lower it to the cap.
            try Environment.checkOpen(
                mdb_env_open(handle, path, flags, mdb_mode_t(configuration.fileMode)), path: path)
            // Neither the configured first size nor one LMDB took (its own 1 MiB for a new file,
            // the size the file records) passes `maxMapSize` (LMDB keeps the map at least as
            // large as the pages in use).
            var info = MDB_envinfo()
            mdb_env_info(handle, &info)
            let start = Swift.min(configuration.mapSize, configuration.maxMapSize)
            if !configuration.readOnly && (info.me_mapsize < start || info.me_mapsize > configuration.maxMapSize) {
                try check(mdb_env_set_mapsize(handle, start), operation)
                mdb_env_info(handle, &info)
            }
            var dead: Int32 = 0
            try check(mdb_reader_check(handle, &dead), "clear stale readers of \(path)")
            if !configuration.readOnly {
                writersLock = try lockWriters(path, logged: configuration.durability == .writeAheadLog)
            }
            logOwned = false
            let wal = try finishLog(log, handle: handle, path: path, configuration: configuration)
            mdb_env_info(handle, &info)
            return (handle, Int(dead), info.me_mapsize, wal, writersLock)
        } catch {
            mdb_env_close(handle)
            if writersLock >= 0 { _ = closeDescriptor(writersLock) }
            throw error
        }
    }

    deinit {
        try? close()
    }

    let isClosed = Atomic<Bool>(false)

    /// Closes the environment after every open transaction of this process has ended. Later
    /// calls on it throw ``LMDBError/Code/closed``. Closing twice does nothing. Dropping the last
    /// reference closes it too.
    /// - Throws: ``LMDBError/Code/growthBlocked`` when called from inside a transaction closure.
    public func close() throws(LMDBError) {
        if isClosed.load(ordering: .acquiring) { return }
        // A clean close leaves an empty log; if this fails, the next open recovers from the log.
        if wal != nil && !gate.currentThreadHoldsTransaction { try? checkpointLog() }
        try gate.exclusive(closing: true, operation: "close environment at \(path)") { (idleReaders) throws(LMDBError) in
            idleReaders.forEach { mdb_txn_abort($0) }
            if !isClosed.exchange(true, ordering: .acquiringAndReleasing) {
                wal?.stopCheckpoints()
                wal?.pins.forEach { mdb_txn_abort($0) }
                mdb_env_close(handle)
                wal?.close()
                if writersLock >= 0 { _ = closeDescriptor(writersLock) }
                if let fileID { _ = Environment.openFiles.withLock { $0.remove(fileID) } }
            }
        }
    }

    // MARK: Transactions

    /// Runs `body` in a read-only transaction: a consistent snapshot that never blocks writers.
    ///
    /// The transaction and every buffer read through it are valid only during the call: do not
    /// let them escape (copy bytes out instead). `body` runs synchronously on the calling thread.
    /// - Parameter body: reads through the transaction; its result is returned.
    /// - Throws: ``LMDBError`` (e.g. ``LMDBError/Code/readersFull``), or what `body` throws.
    /// - Complexity: O(1) to begin and end, plus `body`.
    public func read<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        try read(commit: false, body)
    }

    /// ``read(_:)``, ending the transaction with a commit when `commit` is true: a database handle
    /// opened in a read transaction survives only a commit.
    func read<R>(commit: Bool, _ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        let txn: ReadTransaction = try begin()
        let result: R
        do {
            result = try body(txn)
        } catch {
            txn.abort()
            gate.exit()
            throw error
        }
        if commit {
            defer { gate.exit() }
            try txn.commit()
        } else if let rejected = gate.exit(idleReader: txn.reset()) {
            mdb_txn_abort(rejected)
        }
        return result
    }

    /// Runs `body` in a write transaction that commits when `body` returns and aborts when it
    /// throws, rethrowing the error: either all of its writes happen or none.
    ///
    /// Writers are serialized across threads and processes; `body` runs synchronously on the
    /// calling thread (an LMDB write transaction belongs to the thread that began it), so it must
    /// not wait for other work. **`body` may run more than once**: when the map is full, the
    /// transaction is aborted, the map grows, and `body` runs again from the start — keep its side
    /// effects inside the transaction.
    ///
    /// The transaction and every buffer read through it are valid only during the call.
    /// - Parameter body: reads and writes through the transaction; its result is returned.
    /// - Throws: ``LMDBError`` (``LMDBError/Code/readOnly``, ``LMDBError/Code/nestedWrite`` when
    ///   this thread already holds a write transaction, ``LMDBError/Code/mapFull`` past
    ///   ``Configuration/maxMapSize``), or what `body` throws.
    @discardableResult
    public func write<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        if configuration.readOnly { throw LMDBError(.readOnly, operation: "begin write transaction on \(path)") }
        while true {
            let txn: WriteTransaction = try begin()
            wal?.beginTransaction()
            let mapSizeAtBegin = currentMapSize.load(ordering: .relaxed)
            let outcome = Result { try body(txn) }
            switch (WriteFailure(rawValue: writeFailure.load(ordering: .relaxed)), outcome) {
            case (.mapFull?, _):
                txn.abort()
                gate.exit()
                try growMap(beyond: mapSizeAtBegin)
                continue
            case (_, .failure(let error)):
                txn.abort()
                gate.exit()
                throw error
            case (.poisoned?, .success):
                txn.abort()
                gate.exit()
                throw LMDBError(.poisoned, operation: "commit write transaction on \(path)",
                                detail: "a reserved value was not filled in")
            case (nil, .success(let result)):
                // With a write-ahead log, the record is on disk before LMDB commits, and a commit
                // that then fails unmakes it. LMDB releases its writer lock when a commit ends, so
                // the log's own lock keeps the next writer's record out until this one is settled.
                var record: Int?
                let id = UInt64(txn.id)
                if let wal, wal.hasPendingOperations {
                    wal.lockAppends()
                    do throws(LMDBError) {
                        record = try wal.append(transaction: id)
                    } catch {
                        wal.unlockAppends()
                        txn.abort()
                        gate.exit()
                        throw error
                    }
                }
                do throws(LMDBError) {
                    try txn.commit()
                } catch {
                    if let wal, let record {
                        wal.discardRecord(at: record)
                        wal.unlockAppends()
                    }
                    gate.exit()
                    guard error.code == .mapFull else { throw error }
                    try growMap(beyond: mapSizeAtBegin)
                    continue
                }
                if let wal, let record { afterLoggedCommit(wal, transaction: id, record: record) }
                gate.exit()
                return result
            }
        }
    }

    /// Begins a top-level transaction after registering it with the gate; adopts a map grown by
    /// another process and retries. On success the caller must `gate.exit()` after ending it.
    private func begin<Access>() throws(LMDBError) -> Transaction<Access> {
        let readOnly = Access.isReadOnly
        while true {
            let idle = try gate.enter(write: !readOnly)
            var rc: Int32
            var txn: OpaquePointer?
            if let idle {
                rc = mdb_txn_renew(idle)
                if rc == 0 { return Transaction(handle: idle, environment: self) }
                mdb_txn_abort(idle)
            } else {
                rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
                if rc == 0, let txn {
                    // Only now does this thread hold LMDB's writer lock: resetting the failure
                    // record earlier could erase the record of a writer still running.
                    if !readOnly { writeFailure.store(0, ordering: .relaxed) }
                    return Transaction(handle: txn, environment: self)
                }
            }
            gate.exit()
            if rc == MDB_MAP_RESIZED {
                try adoptMapSize()
                continue
            }
            try check(rc, readOnly ? "begin read transaction on \(path)" : "begin write transaction on \(path)")
        }
    }

    // MARK: Map size

    /// The map size in bytes right now.
    public var mapSize: Int { currentMapSize.load(ordering: .relaxed) }

    /// Grows the map geometrically, unless another thread already grew it past `observed`; adopts
    /// a larger size set by another process first.
    private func growMap(beyond observed: Int) throws(LMDBError) {
        let operation = "grow the map of \(path)"
        try gate.exclusive(operation: operation) { _ throws(LMDBError) in
            if currentMapSize.load(ordering: .relaxed) > observed { return }
            try check(mdb_env_set_mapsize(handle, 0), operation)
            // The size the file records may pass this environment's cap (LMDB's first 1 MiB of a
            // new file, or another process's larger cap): keep to the cap.
            if refreshMapSize() > configuration.maxMapSize {
                try check(mdb_env_set_mapsize(handle, configuration.maxMapSize), operation)
            }
            if refreshMapSize() > observed { return }
            // Up to the cap exactly, when the next step would pass it.
            let target = Swift.min(Environment.nextMapSize(after: observed), configuration.maxMapSize)
            guard target > observed else {
                throw LMDBError(.mapFull, operation: operation,
                                detail: "needs more than maxMapSize (\(configuration.maxMapSize) bytes)")
            }
            try check(mdb_env_set_mapsize(handle, target), operation)
            refreshMapSize()
        }
    }

    /// Adopts the map size another process set (after `MDB_MAP_RESIZED`).
    private func adoptMapSize() throws(LMDBError) {
        let operation = "adopt the map size of \(path) set by another process"
        try gate.exclusive(operation: operation) { _ throws(LMDBError) in
            try check(mdb_env_set_mapsize(handle, 0), operation)
            refreshMapSize()
        }
    }

    @discardableResult
    private func refreshMapSize() -> Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        currentMapSize.store(info.me_mapsize, ordering: .relaxed)
        return info.me_mapsize
    }

    /// The size after `size`: doubling while small, then steps of 4 GiB, rounded up to 1 MiB.
    static func nextMapSize(after size: Int) -> Int {
        let step = Swift.max(Swift.min(size, 4 << 30), 1 << 20)
        let target = size + step
        let unit = 1 << 20
        return (target + unit - 1) / unit * unit
    }

    // MARK: Opening

    /// Refuses a store directory's path that would name another place: LMDB names the files
    /// `path + "/data.mdb"`, so an empty path would put them in `/`, and a path with a NUL in it
    /// would name the directory before the NUL (C strings end there).
    static func checkDirectoryPath(_ path: String, _ operation: String) throws(LMDBError) {
        guard !path.isEmpty else {
            throw LMDBError(.invalidArgument, operation: operation, detail: "the path is empty; give the directory that holds (or is to hold) the store")
        }
        guard !path.utf8.contains(0) else {
            throw LMDBError(.invalidArgument, operation: operation, detail: "the path contains a NUL character, which no file name may hold")
        }
    }

    /// Creates the store's directory (and its parents) with `fileMode` plus execute where read is set.
    private static func createDirectory(_ path: String, fileMode: UInt32) throws(LMDBError) {
        var directoryMode = fileMode | 0o100
        if fileMode & 0o040 != 0 { directoryMode |= 0o010 }
        if fileMode & 0o004 != 0 { directoryMode |= 0o001 }
        try makeDirectories(path, mode: directoryMode)
    }

    private static func checkOpen(_ rc: Int32, path: String) throws(LMDBError) {
        guard rc != 0 else { return }
        let code = LMDBError.Code(rawValue: rc)
        let detail: String? = switch code {
        case .invalid: "\(path)/data.mdb exists but is not an LMDB data file"
        case .noSuchFile: "\(path) does not exist or has no store"
        case .permissionDenied: "no permission to open the files in \(path)"
        default: nil
        }
        throw LMDBError(code, operation: "open environment at \(path)", detail: detail)
    }
}

extension Environment {
    /// Records a failure that must stop the current write transaction from committing as it is;
    /// a full map wins over a poisoned transaction, since the retry redoes everything.
    func noteWriteFailure(_ failure: WriteFailure) {
        if failure == .mapFull || writeFailure.load(ordering: .relaxed) == 0 {
            writeFailure.store(failure.rawValue, ordering: .relaxed)
        }
    }

    /// What the current write transaction has recorded so far (a ``WriteFailure``'s raw value, 0
    /// for none): taken when a nested transaction begins.
    var recordedWriteFailure: UInt8 { writeFailure.load(ordering: .relaxed) }

    /// After a nested transaction aborted: forgets a poisoning it recorded (its unfilled reserved
    /// value went with it), when nothing was recorded before it began (`before`). A full map stays.
    func forgetPoisoning(since before: UInt8) {
        if before == 0, writeFailure.load(ordering: .relaxed) == WriteFailure.poisoned.rawValue {
            writeFailure.store(0, ordering: .relaxed)
        }
    }
}

/// What went wrong inside the current write transaction, beyond what the closure may have caught.
enum WriteFailure: UInt8 {
    /// A write hit `MDB_MAP_FULL`: the transaction is retried after the map grows.
    case mapFull = 1
    /// A reserved value was not filled in: the transaction must not commit.
    case poisoned = 2
}
