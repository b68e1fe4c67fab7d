internal import CTimelineLMDB

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The write-ahead log of an environment opened with ``Environment/Durability/writeAheadLog``:
/// the file `data.wal` beside `data.mdb`.
///
/// A commit appends what its transaction did (puts, deletes, clears, drops, database creations:
/// the operations, not LMDB's pages) as one record and syncs the log once; LMDB then commits
/// without syncing (`MDB_NOSYNC`). A **checkpoint** syncs `data.mdb` and saves a copy of its two
/// meta pages in the log's header, with where the records after it start. Until the next
/// checkpoint a read transaction pinned at the checkpoint's snapshot stops LMDB from reusing any
/// page of that snapshot, so after a power cut the saved meta pages name an intact tree: recovery
/// writes them back (rolling `data.mdb` back to the checkpoint) and replays the records.
///
/// The checkpoints that commits fall due run on a thread of their own while commits go on: the
/// records form a chain from the header's start, which a *jump* continues elsewhere in the file,
/// so the space of records older than the last checkpoint is reused without stopping writers.
/// The reasoning is in `Docs/architecture.md`, "The write-ahead log"; the byte layout in
/// `Docs/format.md`.
///
/// `@unchecked Sendable`: the record buffer is touched only by the thread that holds LMDB's write
/// lock; the chain, the pins and the checkpoint's hand-over only with ``appendMutex`` held; the
/// header fields only by the one checkpoint running (a checkpoint run by a write transaction waits
/// for the background one to end); everything while the environment opens or closes, when no
/// other thread can reach it.
final class WriteAheadLog: @unchecked Sendable {
    static let fileName = "data.wal"
    static let magic: [UInt8] = Array("LMDB-WAL".utf8)
    /// The format written: 2 has the header's start field and jumps. Version 1 logs (records
    /// from the head of the record area, no jumps) are read.
    static let version: UInt32 = 2
    /// Bytes of a header slot before the saved meta pages.
    static let slotFieldsSize = 4096
    /// Bytes of a record's header: length, checksum, salt, transaction id.
    static let recordHeaderSize = 24
    /// Bytes of a jump: a record header whose length is ``jumpLength``, then the offset (`u64`)
    /// where the chain goes on.
    static let jumpSize = recordHeaderSize + 8
    static let jumpLength = UInt32.max
    /// The log grows in steps of zeroed bytes, as large as the log up to this many, so that a commit's sync overwrites
    /// allocated blocks instead of extending the file (measured: a 32 KiB `pwrite` + `fdatasync`
    /// took 224 µs over written blocks against 269 µs at the end of the file;
    /// `Docs/benchmarks.md`, "The write-ahead log").
    static let growthStep = 8 << 20
    /// The smallest step, while the log is small: a store that writes little keeps a small log.
    static let firstGrowthStep = 1 << 20
    /// A checkpoint runs once ``checkpointCommits`` transactions committed since the last one
    /// (each rewrites a few to a few hundred pages, which LMDB cannot reuse until the next
    /// checkpoint) … or this many bytes of records were appended since …
    static let checkpointLogBytes = 16 << 20
    /// … or the data file has grown by this many pages since the last one.
    static let checkpointPages = 1_024

    /// What kind of change an operation in a record is.
    enum Operation: UInt8 {
        case put = 1, delete = 2, deleteValue = 3, clear = 4, drop = 5, create = 6
    }

    let fd: Int32
    let path: String
    let pageSize: Int
    /// ``Environment/Configuration/checkpointCommits``.
    let checkpointCommits: Int
    /// The smallest and largest growth steps: ``firstGrowthStep`` and ``growthStep``, or both the
    /// environment variable `TIMELINESTORE_WAL_GROWTH_STEP` (bytes, at least 4,096), with which
    /// tests make a short workload fill the log so that its chain wraps and jumps.
    let steps: (first: Int, largest: Int)
    /// Which header is newest; the next checkpoint writes slot `(generation + 1) % 2`.
    private(set) var generation: UInt64
    /// LMDB's id of the transaction the last checkpoint made durable.
    private(set) var checkpointTransaction: UInt64
    /// Changes with each checkpoint that starts the chain afresh (at open, at close, on
    /// ``Environment/sync()``); a record carries it, so records of an earlier chain left in the
    /// file are never taken for new ones. A checkpoint that runs beside commits keeps it: the
    /// chain goes on.
    private(set) var salt: UInt64
    /// The live part of the file, in the chain's order: the records (and jumps) since the last
    /// checkpoint. Never empty; the last range ends where the next record goes.
    private var segments: [Range<Int>]
    /// Where the next record goes.
    var end: Int { segments[segments.count - 1].upperBound }
    /// Bytes of the file known to be allocated and zeroed or written.
    private var allocated: Int
    /// The data file's last page at the last checkpoint.
    private var lastPageAtCheckpoint = 0
    /// Transactions committed with a record, and bytes appended, since the last checkpoint began.
    private var commitsSinceCheckpoint = 0
    private var bytesSinceCheckpoint = 0
    /// Read transactions pinned at checkpoints' snapshots: the last checkpoint's, and those of
    /// checkpoints whose header may or may not have reached the disk (their write failed).
    private(set) var pins: [OpaquePointer] = []
    /// The current write transaction's record: a header's room, then its operations.
    private(set) var pending: [UInt8]
    /// Held from a record's append until its commit is settled (see ``lockAppends()``); also
    /// guards the chain, the pins and the background checkpoint's hand-over.
    private let appendMutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Signalled when a background checkpoint is handed over and when it ends.
    private let checkpointCondition: UnsafeMutablePointer<pthread_cond_t>
    /// The checkpoint handed to the background thread and not yet taken.
    private var queuedCheckpoint: Capture?
    /// Whether a background checkpoint is queued or running.
    private var checkpointRunning = false
    private var thread: pthread_t?
    private var stopping = false

    /// Bytes of a header slot: its fields, then two meta pages.
    static func slotSize(pageSize: Int) -> Int { slotFieldsSize + 2 * pageSize }
    /// Where records start: after the two header slots.
    static func recordsStart(pageSize: Int) -> Int { 2 * slotSize(pageSize: pageSize) }
    var slotSize: Int { Self.slotSize(pageSize: pageSize) }
    var recordsStart: Int { Self.recordsStart(pageSize: pageSize) }
    /// Whether the current write transaction changed anything.
    var hasPendingOperations: Bool { pending.count > Self.recordHeaderSize }

    /// The log at `fd`, as `scan` read it (nil for a log created just now).
    init(fd: Int32, path: String, pageSize: Int, checkpointCommits: Int, scan: Scan?) {
        self.fd = fd
        self.path = path
        self.pageSize = pageSize
        self.checkpointCommits = max(1, checkpointCommits)
        steps = getenv("TIMELINESTORE_WAL_GROWTH_STEP").flatMap { Int(String(cString: $0)) }.map { (max(4096, $0), max(4096, $0)) }
            ?? (Self.firstGrowthStep, Self.growthStep)
        generation = scan?.header.generation ?? 0
        checkpointTransaction = scan?.header.checkpointTransaction ?? 0
        salt = scan?.header.salt ?? 0
        // The open's checkpoint starts the chain afresh before anything is appended.
        segments = [Self.recordsStart(pageSize: pageSize)..<Self.recordsStart(pageSize: pageSize)]
        allocated = scan?.fileSize ?? 0
        pending = [UInt8](repeating: 0, count: Self.recordHeaderSize)
        pending.reserveCapacity(64 << 10)
        appendMutex = .allocate(capacity: 1)
        pthread_mutex_init(appendMutex, nil)
        checkpointCondition = .allocate(capacity: 1)
        pthread_cond_init(checkpointCondition, nil)
    }

    deinit {
        pthread_cond_destroy(checkpointCondition)
        checkpointCondition.deallocate()
        pthread_mutex_destroy(appendMutex)
        appendMutex.deallocate()
    }

    /// Taken before a record is appended and released once its transaction's commit is settled
    /// (committed, or failed and the record unmade). LMDB's writer lock ends with the commit, so
    /// without this the next writer could append after a record that is about to be unmade.
    func lockAppends() { pthread_mutex_lock(appendMutex) }

    /// Releases ``lockAppends()``.
    func unlockAppends() { pthread_mutex_unlock(appendMutex) }

    // MARK: Recording a transaction's operations

    /// Starts the record of a new write transaction (or of a retry of one).
    func beginTransaction() {
        pending.removeSubrange(Self.recordHeaderSize...)
    }

    /// Where a nested transaction starts: ``rollBack(to:)`` forgets what it recorded.
    var savepoint: Int { pending.count }

    /// Forgets the operations recorded since `savepoint` (a nested transaction aborted).
    func rollBack(to savepoint: Int) {
        if savepoint < pending.count { pending.removeSubrange(savepoint...) }
    }

    /// Records one operation on `database`.
    func record(_ operation: Operation, _ database: Database, putFlags: UInt32 = 0,
                key: UnsafeRawBufferPointer? = nil, value: UnsafeRawBufferPointer? = nil) {
        pending.append(operation.rawValue)
        if let name = database.name {
            let utf8 = Array(name.utf8)
            append(UInt16(truncatingIfNeeded: utf8.count))
            pending += utf8
        } else {
            append(UInt16.max)
        }
        append(database.flags.rawValue)
        if operation == .put { append(putFlags) }
        if let key { appendBytes(key) }
        if let value { appendBytes(value) }
    }

    private func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { pending.append(contentsOf: $0) }
    }

    private func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        append(UInt32(truncatingIfNeeded: bytes.count))
        pending.append(contentsOf: bytes)
    }

    // MARK: Appending and syncing

    /// Appends the pending record as transaction `transaction` and syncs the log: once this
    /// returns, the transaction survives a power cut even before LMDB commits it. Called with
    /// ``lockAppends()`` held.
    /// - Returns: where the record starts, for ``discardRecord(at:)`` if the commit then fails.
    func append(transaction: UInt64) throws(LMDBError) -> Int {
        let length = pending.count - Self.recordHeaderSize
        pending.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: UInt32(truncatingIfNeeded: length).littleEndian, toByteOffset: 0, as: UInt32.self)
            Self.seal(bytes, salt: salt, transaction: transaction)
        }
        let from = end
        let start = place(pending.count)
        try reserve(upTo: max(from + Self.jumpSize, start + pending.count + Self.jumpSize))
        if start != from {
            var jump = [UInt8](repeating: 0, count: Self.jumpSize)
            jump.withUnsafeMutableBytes { bytes in
                bytes.storeBytes(of: Self.jumpLength.littleEndian, toByteOffset: 0, as: UInt32.self)
                bytes.storeBytes(of: UInt64(start).littleEndian, toByteOffset: Self.recordHeaderSize, as: UInt64.self)
                Self.seal(bytes, salt: salt, transaction: transaction)
            }
            try writeAll(jump, count: jump.count, at: from, "append to")
        }
        try writeAll(pending, count: pending.count, at: start, "append to")
        try sync("sync")
        if start != from {
            segments[segments.count - 1] = segments[segments.count - 1].lowerBound..<from + Self.jumpSize
            segments.append(start..<start + pending.count)
        } else {
            segments[segments.count - 1] = segments[segments.count - 1].lowerBound..<start + pending.count
        }
        bytesSinceCheckpoint += pending.count
        return start
    }

    /// Writes the salt and transaction id into a record's (or a jump's) header and its checksum,
    /// which covers everything after the checksum field.
    private static func seal(_ bytes: UnsafeMutableRawBufferPointer, salt: UInt64, transaction: UInt64) {
        bytes.storeBytes(of: salt.littleEndian, toByteOffset: 8, as: UInt64.self)
        bytes.storeBytes(of: transaction.littleEndian, toByteOffset: 16, as: UInt64.self)
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[8...]))
        bytes.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
    }

    /// Where a record of `count` bytes goes: at the end of the chain when it fits there with room
    /// for a jump after it (below the next live segment, or below the allocated size); else, when
    /// the chain has wrapped below live records, past every live record; else at the head of the
    /// record area once a quarter of the file is free there; else at the end, growing the file.
    private func place(_ count: Int) -> Int {
        let from = end
        let need = count + Self.jumpSize
        let above = segments.dropLast().lazy.map(\.lowerBound).filter { $0 >= from }.min()
        if let above {
            return from + need <= above ? from : segments.lazy.map(\.upperBound).max()!
        }
        if from + need <= allocated { return from }
        let lowest = segments.lazy.map(\.lowerBound).min()!
        if from != recordsStart, recordsStart + max(need, (allocated - recordsStart) / 4) <= lowest { return recordsStart }
        return from
    }

    /// Unmakes the record at `start` after its transaction failed to commit or committed nothing
    /// (so took no transaction id): zeroes its header so that recovery never replays it, and
    /// appends the next record there. Called with ``lockAppends()`` held.
    func discardRecord(at start: Int) {
        let zeros = [UInt8](repeating: 0, count: Self.recordHeaderSize)
        _ = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(start)) }
        _ = fdatasync(fd)
        segments[segments.count - 1] = segments[segments.count - 1].lowerBound..<start
    }

    /// Makes sure the file is allocated (zeroed) up to `limit`, in steps of ``growthStep``.
    private func reserve(upTo limit: Int) throws(LMDBError) {
        guard limit > allocated else { return }
        let step = min(steps.largest, max(steps.first, allocated))
        let target = (limit + step - 1) / step * step
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        while allocated < target {
            let count = min(zeros.count, target - allocated)
            try writeAll(zeros, count: count, at: allocated, "grow")
            allocated += count
        }
    }

    /// Writes the first `count` bytes of `bytes` at `offset`, however many calls it takes.
    private func writeAll(_ bytes: [UInt8], count: Int, at offset: Int, _ verb: String) throws(LMDBError) {
        var done = 0
        while done < count {
            let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw LMDBError(LMDBError.Code(rawValue: errno), operation: "\(verb) the write-ahead log \(path)")
            }
            if written == 0 { throw LMDBError(.ioError, operation: "\(verb) the write-ahead log \(path)", detail: "a write wrote nothing") }
            done += written
        }
    }

    private func sync(_ verb: String) throws(LMDBError) {
        if fdatasync(fd) != 0 {
            throw LMDBError(LMDBError.Code(rawValue: errno), operation: "\(verb) the write-ahead log \(path)")
        }
    }

    // MARK: Checkpoints

    /// A checkpoint's snapshot: the last commit's, pinned by a read transaction, with `data.mdb`'s
    /// two meta pages as that commit left them and where the chain of records after it starts.
    struct Capture {
        var handle: OpaquePointer
        var pin: OpaquePointer
        var transaction: UInt64
        var metas: [UInt8]
        /// Where the records after ``transaction`` start, and the index of the segment holding it.
        var start: Int
        var segment: Int
        /// The data file's last page at the snapshot.
        var lastPage: Int
    }

    /// The path of the data file beside the log, for messages.
    private var dataPath: String { String(path.dropLast(Self.fileName.count)) + "data.mdb" }

    /// After a commit that appended a record, with ``lockAppends()`` still held (so no other
    /// commit can land): counts the commit, and when enough has been committed since the last
    /// checkpoint and none is running, takes the next one's snapshot and hands it to the
    /// checkpoint thread. A checkpoint that cannot begin (no free reader slot, no thread) or fails
    /// is retried after a later commit; the commits are safe in the log meanwhile.
    ///
    /// Growth alone would not do as the trigger: each interval reuses the pages the one before
    /// freed and only then grows the file, so intervals would lengthen without end.
    func checkpointIfDue(handle: OpaquePointer, lastPage: Int) {
        commitsSinceCheckpoint += 1
        guard !checkpointRunning, !stopping,
              commitsSinceCheckpoint >= checkpointCommits || bytesSinceCheckpoint >= Self.checkpointLogBytes
                || lastPage - lastPageAtCheckpoint >= Self.checkpointPages,
              let capture = try? capture(handle: handle) else { return }
        if thread == nil {
            var created = pthread_t()
            let context = Unmanaged.passRetained(self).toOpaque()
            guard pthread_create(&created, nil, { context in
                let log = Unmanaged<WriteAheadLog>.fromOpaque(context!).takeRetainedValue()
                log.runCheckpoints()
                return nil
            }, context) == 0 else {
                Unmanaged<WriteAheadLog>.fromOpaque(context).release()
                mdb_txn_abort(capture.pin)
                return
            }
            thread = created
        }
        queuedCheckpoint = capture
        checkpointRunning = true
        commitsSinceCheckpoint = 0
        bytesSinceCheckpoint = 0
        pthread_cond_broadcast(checkpointCondition)
    }

    /// The checkpoint thread's loop: completes each checkpoint handed over, until ``stopCheckpoints()``.
    private func runCheckpoints() {
        nameCurrentThread("timeline-ckpt")
        pthread_mutex_lock(appendMutex)
        while true {
            while queuedCheckpoint == nil && !stopping { pthread_cond_wait(checkpointCondition, appendMutex) }
            guard let capture = queuedCheckpoint else { break }
            queuedCheckpoint = nil
            pthread_mutex_unlock(appendMutex)
            try? complete(capture, restart: false)
            pthread_mutex_lock(appendMutex)
            checkpointRunning = false
            pthread_cond_broadcast(checkpointCondition)
        }
        pthread_mutex_unlock(appendMutex)
    }

    /// Waits for the background checkpoint, if one is queued or running, to end.
    private func waitForCheckpoint() {
        pthread_mutex_lock(appendMutex)
        while checkpointRunning { pthread_cond_wait(checkpointCondition, appendMutex) }
        pthread_mutex_unlock(appendMutex)
    }

    /// Finishes the background checkpoint, if one is queued or running, and ends the checkpoint
    /// thread; later commits start none. Called when the environment closes, before its handle goes.
    func stopCheckpoints() {
        pthread_mutex_lock(appendMutex)
        stopping = true
        pthread_cond_broadcast(checkpointCondition)
        let running = thread
        thread = nil
        pthread_mutex_unlock(appendMutex)
        if let running { pthread_join(running, nil) }
    }

    /// Makes a checkpoint that starts the chain afresh, with a new salt: at open, at close and for
    /// ``Environment/sync()``. Begins a write transaction, so no commit runs meanwhile, and waits
    /// for the background checkpoint, if one runs, to end first. Writes nothing when nothing was
    /// committed since the last checkpoint, which started the chain afresh: its header already
    /// names the current state, durable — unless `evenIfUnchanged`.
    func checkpoint(handle: OpaquePointer, evenIfUnchanged: Bool = false) throws(LMDBError) {
        var writer: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &writer), "checkpoint the write-ahead log \(path)")
        defer { mdb_txn_abort(writer) }
        waitForCheckpoint()
        if !evenIfUnchanged, !pins.isEmpty, segments == [recordsStart..<recordsStart],
           UInt64(mdb_txn_id(writer)) - 1 == checkpointTransaction { return }
        try complete(try capture(handle: handle), restart: true)
    }

    /// At open, takes up the checkpoint the log's header names instead of making one: when the
    /// log holds no record, both its slots are of this format, its header was written in this
    /// boot of the machine, and `data.mdb`'s meta pages are byte for byte the ones the header
    /// saved (so nothing was committed since, and the file is the one checkpointed; its pages
    /// were synced before the header was written). Pins that snapshot; the chain goes on from the
    /// header's start. A clean close followed by an open then syncs nothing.
    /// - Returns: whether it did; if not, the opener makes a checkpoint.
    func resume(_ scan: Scan?, handle: OpaquePointer) throws(LMDBError) -> Bool {
        // A chain starts in the record area and within the file (a checkpoint's start is where
        // the next record was to go, in space already allocated): any other start is not taken up.
        let start = scan.map { $0.header.start == 0 ? recordsStart : Int(clamping: $0.header.start) } ?? 0
        guard let scan, !scan.isDirty, !scan.hasVersion1Slot, scan.header.salt != 0, !scan.header.metas.isEmpty,
              scan.header.bootID == Self.currentBootID(), start >= recordsStart, start <= scan.fileSize else { return false }
        let capture = try capture(handle: handle)
        guard capture.transaction == scan.header.checkpointTransaction, capture.metas == scan.header.metas else {
            mdb_txn_abort(capture.pin)
            return false
        }
        segments = [start..<start]
        pins = [capture.pin]
        lastPageAtCheckpoint = capture.lastPage
        return true
    }

    /// Pins the snapshot of the environment's last commit and reads `data.mdb`'s two meta pages
    /// (from the page cache: the sync that follows makes them, and every page of the snapshot,
    /// durable). Called while no commit can land.
    private func capture(handle: OpaquePointer) throws(LMDBError) -> Capture {
        let operation = "checkpoint the write-ahead log \(path)"
        var pin: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &pin), operation)
        guard let pin else { throw LMDBError(.outOfMemory, operation: operation) }
        var dataFD: Int32 = -1
        var metas = [UInt8](repeating: 0, count: 2 * pageSize)
        let rc = mdb_env_get_fd(handle, &dataFD)
        let count = rc != 0 ? -1 : metas.withUnsafeMutableBytes { pread(dataFD, $0.baseAddress, $0.count, 0) }
        guard count == metas.count else {
            mdb_txn_abort(pin)
            throw LMDBError(LMDBError.Code(rawValue: rc != 0 ? rc : count < 0 ? errno : EIO), operation: operation,
                            detail: "reading the meta pages of \(dataPath) failed")
        }
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return Capture(handle: handle, pin: pin, transaction: UInt64(mdb_txn_id(pin)), metas: metas,
                       start: end, segment: segments.count - 1, lastPage: info.me_last_pgno)
    }

    /// Makes `capture` the log's checkpoint: syncs `data.mdb`, writes the older header slot and
    /// syncs the log. Only then are the records before the capture's start dead (or, with
    /// `restart`, all of them: the chain starts afresh at ``recordsStart`` under a new salt) and
    /// the previous pins released, so some checkpoint's tree is protected at every moment. When
    /// the header's write fails it may still have reached the disk: the capture's pin is kept too.
    private func complete(_ capture: Capture, restart: Bool) throws(LMDBError) {
        do throws(LMDBError) {
            try check(mdb_env_sync(capture.handle, 1), "sync \(dataPath) for a checkpoint")
        } catch {
            mdb_txn_abort(capture.pin)
            throw error
        }
        var next = Header(generation: generation + 1, checkpointTransaction: capture.transaction, salt: salt,
                          bootID: WriteAheadLog.currentBootID(), start: UInt64(restart ? recordsStart : capture.start))
        if restart {
            next.salt = UInt64.random(in: 1...UInt64.max)
            if next.salt == salt { next.salt &+= 1 }
        }
        let slot = next.encode(pageSize: pageSize, metas: capture.metas)
        pthread_mutex_lock(appendMutex)
        let written = Result { () throws(LMDBError) in
            try reserve(upTo: recordsStart)
            try writeAll(slot, count: slot.count, at: Int(next.generation % 2) * slotSize, "write a checkpoint into")
        }
        pthread_mutex_unlock(appendMutex)
        do throws(LMDBError) {
            try written.get()
            try sync("sync a checkpoint of")
        } catch {
            pthread_mutex_lock(appendMutex)
            pins.append(capture.pin)
            pthread_mutex_unlock(appendMutex)
            throw error
        }
        pthread_mutex_lock(appendMutex)
        generation = next.generation
        checkpointTransaction = capture.transaction
        salt = next.salt
        if restart {
            segments = [recordsStart..<recordsStart]
            commitsSinceCheckpoint = 0
            bytesSinceCheckpoint = 0
        } else {
            segments.removeFirst(capture.segment)
            segments[0] = capture.start..<segments[0].upperBound
        }
        let released = pins
        pins = [capture.pin]
        lastPageAtCheckpoint = capture.lastPage
        pthread_mutex_unlock(appendMutex)
        released.forEach { mdb_txn_abort($0) }
    }

    /// Ends the log at a clean close: after the closing checkpoint no record is live, so the
    /// file shrinks to its two header slots. Releases the lock.
    func close() {
        if segments == [recordsStart..<recordsStart], allocated > recordsStart, ftruncate(fd, off_t(recordsStart)) == 0 { _ = fdatasync(fd) }
        _ = closeDescriptor(fd)
    }

    // MARK: The header

    /// One header slot's fields.
    struct Header {
        var generation: UInt64
        var checkpointTransaction: UInt64
        var salt: UInt64
        var bootID: String
        /// Where the records after the checkpoint start (0 in a version 1 header: at
        /// ``recordsStart``).
        var start: UInt64 = 0
        /// The format version the slot was written in.
        var version: UInt32 = WriteAheadLog.version
        /// The saved meta pages; empty before the first checkpoint.
        var metas: [UInt8] = []

        /// The slot's bytes: fields, checksum, then the meta pages at ``slotFieldsSize``.
        func encode(pageSize: Int, metas: [UInt8]) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: WriteAheadLog.slotSize(pageSize: pageSize))
            bytes.replaceSubrange(0..<8, with: WriteAheadLog.magic)
            bytes.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: WriteAheadLog.version.littleEndian, toByteOffset: 8, as: UInt32.self)
                raw.storeBytes(of: UInt32(pageSize).littleEndian, toByteOffset: 12, as: UInt32.self)
                raw.storeBytes(of: generation.littleEndian, toByteOffset: 16, as: UInt64.self)
                raw.storeBytes(of: checkpointTransaction.littleEndian, toByteOffset: 24, as: UInt64.self)
                raw.storeBytes(of: salt.littleEndian, toByteOffset: 32, as: UInt64.self)
                raw.storeBytes(of: start.littleEndian, toByteOffset: 40, as: UInt64.self)
                raw.storeBytes(of: UInt32(metas.count).littleEndian, toByteOffset: 100, as: UInt32.self)
            }
            let boot = Array(bootID.utf8.prefix(40))
            bytes.replaceSubrange(56..<56 + boot.count, with: boot)
            if !metas.isEmpty { bytes.replaceSubrange(WriteAheadLog.slotFieldsSize..<WriteAheadLog.slotFieldsSize + metas.count, with: metas) }
            let crc = Header.checksum(bytes)
            bytes.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: 96, as: UInt32.self) }
            return bytes
        }

        /// The checksum of a slot: its fields before the checksum, the field after it, and the meta pages.
        static func checksum(_ slot: [UInt8]) -> UInt32 {
            slot.withUnsafeBytes { raw in
                var crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<96]))
                crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: raw[100..<WriteAheadLog.slotFieldsSize]))
                return CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: raw[WriteAheadLog.slotFieldsSize...]))
            }
        }

        /// The header in `slot`, or nil when the slot is not a whole, valid one.
        static func decode(_ slot: ArraySlice<UInt8>, pageSize: Int) -> Header? {
            let slot = Array(slot)
            guard slot.count == WriteAheadLog.slotSize(pageSize: pageSize),
                  Array(slot[0..<8]) == WriteAheadLog.magic else { return nil }
            func word<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
                T(littleEndian: slot.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: T.self) })
            }
            let version = word(8, UInt32.self)
            guard version == 1 || version == WriteAheadLog.version, Int(word(12, UInt32.self)) == pageSize,
                  word(96, UInt32.self) == checksum(slot) else { return nil }
            let metaCount = Int(word(100, UInt32.self))
            guard metaCount == 0 || metaCount == 2 * pageSize else { return nil }
            // A generation or checkpoint id of 2^63 or more is never written (one checkpoint a
            // microsecond would take 290,000 years to get there): such a slot is not one of ours,
            // and refusing it keeps every later checkpoint's `generation + 1` from overflowing.
            guard word(16, UInt64.self) < 1 << 63, word(24, UInt64.self) < 1 << 63 else { return nil }
            let boot = slot[56..<96].prefix { $0 != 0 }
            return Header(generation: word(16, UInt64.self), checkpointTransaction: word(24, UInt64.self),
                          salt: word(32, UInt64.self),
                          bootID: String(decoding: boot, as: UTF8.self),
                          start: version == 1 ? 0 : word(40, UInt64.self), version: version,
                          metas: metaCount == 0 ? [] : Array(slot[WriteAheadLog.slotFieldsSize...]))
        }
    }

    /// The identity of this boot of the machine: records written under the same boot were also
    /// written to the page cache, which a crash of the process does not lose. The environment
    /// variable `TIMELINESTORE_BOOT_ID` stands in for it (tests use it to simulate a reboot).
    static func currentBootID() -> String {
        if let forced = getenv("TIMELINESTORE_BOOT_ID") { return String(cString: forced) }
        let fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { _ = closeDescriptor(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return "" }
        return String(decoding: buffer[..<count].prefix { $0 != 10 }, as: UTF8.self)
    }
}
