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
/// without syncing (`MDB_NOSYNC`). A **checkpoint** syncs `data.mdb`, saves a copy of its two
/// meta pages in the log's header and starts the log afresh. Until the next checkpoint a read
/// transaction pinned at the checkpoint's snapshot stops LMDB from reusing any page of that
/// snapshot, so after a power cut the saved meta pages name an intact tree: recovery writes them
/// back (rolling `data.mdb` back to the checkpoint) and replays the records. The reasoning is in
/// `Docs/architecture.md`, "The write-ahead log"; the byte layout in `Docs/format.md`.
///
/// `@unchecked Sendable`: the mutable state is touched only by the thread that holds LMDB's
/// write lock (a write transaction, or a checkpoint, which begins one), and while the
/// environment opens or closes, when no other thread can reach it.
final class WriteAheadLog: @unchecked Sendable {
    static let fileName = "data.wal"
    static let magic: [UInt8] = Array("LMDB-WAL".utf8)
    static let version: UInt32 = 1
    /// Bytes of a header slot before the saved meta pages.
    static let slotFieldsSize = 4096
    /// Bytes of a record's header: length, checksum, salt, transaction id.
    static let recordHeaderSize = 24
    /// The log grows in steps of zeroed bytes, as large as the log up to this many, so that a commit's sync overwrites
    /// allocated blocks instead of extending the file (measured: a 32 KiB `pwrite` + `fdatasync`
    /// took 224 µs over written blocks against 269 µs at the end of the file;
    /// `Docs/benchmarks.md`, "The write-ahead log").
    static let growthStep = 8 << 20
    /// The smallest step, while the log is small: a store that writes little keeps a small log.
    static let firstGrowthStep = 1 << 20
    /// A checkpoint runs once ``checkpointCommits`` transactions committed since the last one
    /// (each rewrites a few to a few hundred pages, which LMDB cannot reuse until the next
    /// checkpoint) … or the log holds this many bytes of records …
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
    /// Which header is newest; the next checkpoint writes slot `(generation + 1) % 2`.
    private(set) var generation: UInt64
    /// LMDB's id of the transaction the last checkpoint made durable.
    private(set) var checkpointTransaction: UInt64
    /// Changes with each checkpoint; a record carries it, so old records left in the file are
    /// never taken for new ones.
    private(set) var salt: UInt64
    /// Where the next record goes.
    private(set) var end: Int
    /// Bytes of the file known to be allocated and zeroed or written.
    private var allocated: Int
    /// The data file's last page at the last checkpoint.
    var lastPageAtCheckpoint = 0
    /// Transactions committed with a record since the last checkpoint.
    private var commitsSinceCheckpoint = 0
    /// The read transaction pinned at the last checkpoint's snapshot.
    var pin: OpaquePointer?
    /// The current write transaction's record: a header's room, then its operations.
    private(set) var pending: [UInt8]
    /// Held from a record's append until its commit is settled (see ``lockAppends()``).
    private let appendMutex: UnsafeMutablePointer<pthread_mutex_t>

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
        generation = scan?.header.generation ?? 0
        checkpointTransaction = scan?.header.checkpointTransaction ?? 0
        salt = scan?.header.salt ?? 0
        end = scan?.end ?? Self.recordsStart(pageSize: pageSize)
        allocated = scan?.fileSize ?? 0
        pending = [UInt8](repeating: 0, count: Self.recordHeaderSize)
        pending.reserveCapacity(64 << 10)
        appendMutex = .allocate(capacity: 1)
        pthread_mutex_init(appendMutex, nil)
    }

    deinit {
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
    /// returns, the transaction survives a power cut even before LMDB commits it.
    /// - Returns: where the record starts, for ``discardRecord(at:)`` if the commit then fails.
    func append(transaction: UInt64) throws(LMDBError) -> Int {
        let start = end
        let length = pending.count - Self.recordHeaderSize
        pending.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: UInt32(truncatingIfNeeded: length).littleEndian, toByteOffset: 0, as: UInt32.self)
            bytes.storeBytes(of: salt.littleEndian, toByteOffset: 8, as: UInt64.self)
            bytes.storeBytes(of: transaction.littleEndian, toByteOffset: 16, as: UInt64.self)
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[8...]))
            bytes.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
        try reserve(upTo: start + pending.count)
        try writeAll(pending, count: pending.count, at: start, "append to")
        try sync("sync")
        end = start + pending.count
        return start
    }

    /// Unmakes the record at `start` after its transaction failed to commit or committed nothing
    /// (so took no transaction id): zeroes its header so that recovery never replays it, and
    /// appends the next record there.
    func discardRecord(at start: Int) {
        let zeros = [UInt8](repeating: 0, count: Self.recordHeaderSize)
        _ = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(start)) }
        _ = fdatasync(fd)
        end = start
    }

    /// Makes sure the file is allocated (zeroed) up to `limit`, in steps of ``growthStep``.
    private func reserve(upTo limit: Int) throws(LMDBError) {
        guard limit > allocated else { return }
        let step = min(Self.growthStep, max(Self.firstGrowthStep, allocated))
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


    /// Whether enough has been committed since the last checkpoint for this commit to be followed
    /// by one; counts this commit. Growth alone would not do: each interval reuses the pages the
    /// one before freed and only then grows the file, so intervals would lengthen without end.
    func checkpointDue(lastPage: Int) -> Bool {
        commitsSinceCheckpoint += 1
        return commitsSinceCheckpoint >= checkpointCommits || end - recordsStart >= Self.checkpointLogBytes
            || lastPage - lastPageAtCheckpoint >= Self.checkpointPages
    }

    /// Records a checkpoint: transaction `transaction` is durable in `data.mdb`, whose meta pages
    /// (both, as on disk after the sync) are `metas`. Writes the other header slot and syncs;
    /// the records before it are then dead and new ones start over at ``recordsStart``.
    func writeCheckpoint(transaction: UInt64, metas: [UInt8]) throws(LMDBError) {
        var next = Header(generation: generation + 1, checkpointTransaction: transaction,
                          salt: UInt64.random(in: 1...UInt64.max), bootID: WriteAheadLog.currentBootID())
        if next.salt == salt { next.salt &+= 1 }
        let slot = next.encode(pageSize: pageSize, metas: metas)
        try reserve(upTo: recordsStart)
        try writeAll(slot, count: slot.count, at: Int(next.generation % 2) * slotSize, "write a checkpoint into")
        try sync("sync a checkpoint of")
        generation = next.generation
        checkpointTransaction = transaction
        salt = next.salt
        end = recordsStart
        commitsSinceCheckpoint = 0
    }

    /// Ends the log at a clean close: after the closing checkpoint no record is live, so the
    /// file shrinks to its two header slots. Releases the lock.
    func close() {
        if end == recordsStart, ftruncate(fd, off_t(recordsStart)) == 0 { _ = fdatasync(fd) }
        _ = closeDescriptor(fd)
    }

    // MARK: The header

    /// One header slot's fields.
    struct Header {
        var generation: UInt64
        var checkpointTransaction: UInt64
        var salt: UInt64
        var bootID: String
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
            guard word(8, UInt32.self) == WriteAheadLog.version, Int(word(12, UInt32.self)) == pageSize,
                  word(96, UInt32.self) == checksum(slot) else { return nil }
            let metaCount = Int(word(100, UInt32.self))
            guard metaCount == 0 || metaCount == 2 * pageSize else { return nil }
            let boot = slot[56..<96].prefix { $0 != 0 }
            return Header(generation: word(16, UInt64.self), checkpointTransaction: word(24, UInt64.self),
                          salt: word(32, UInt64.self),
                          bootID: String(decoding: boot, as: UTF8.self),
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
