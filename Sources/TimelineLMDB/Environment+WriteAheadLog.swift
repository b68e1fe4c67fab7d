internal import CTimelineLMDB

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

// Opening, recovering, checkpointing and closing the write-ahead log of an environment opened
// with `Durability.writeAheadLog` (see `WriteAheadLog`). A store that has a `data.wal` is handled
// here whatever durability the opener asked for: a read-write open without the log first brings
// the log's commits into `data.mdb` and removes the file; a read-only open reads on only when
// that is safe.

extension Environment {
    /// What the write-ahead log needs done once LMDB has opened the environment.
    struct LogOpening {
        /// The log, locked; -1 when it is still to be created.
        var fd: Int32
        var scan: WriteAheadLog.Scan?
        /// Whether the meta pages were written back, so that the records must be replayed.
        var replay: Bool
        /// Whether the environment keeps the log (a ``Durability/writeAheadLog`` open), rather
        /// than folding it into `data.mdb` and removing it.
        var keep: Bool
    }

    /// Looks at `data.wal` before LMDB opens the environment, and rolls `data.mdb` back to the
    /// last checkpoint when a power cut may have left it with pages of later commits missing.
    /// - Returns: nil when there is no log to deal with.
    static func prepareLog(_ path: String, _ configuration: Configuration) throws(LMDBError) -> LogOpening? {
        let logPath = path + "/" + WriteAheadLog.fileName
        let operation = "open the write-ahead log \(logPath)"
        let logged = configuration.durability == .writeAheadLog && !configuration.readOnly
        // Non-blocking, so that a named pipe in its place cannot keep the open waiting for a writer.
        let fd = open(logPath, (configuration.readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return logged ? LogOpening(fd: -1, scan: nil, replay: false, keep: true) : nil }
            throw LMDBError(LMDBError.Code(rawValue: code), operation: operation,
                            detail: DataFilePreflight.describe(code, logPath, isDirectory: false))
        }
        var keepDescriptor = false
        defer { if !keepDescriptor { _ = closeDescriptor(fd) } }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw LMDBError(.invalid, operation: operation,
                            detail: "\(logPath) is not a regular file; it must be the store's write-ahead log (remove it if the store never used one)")
        }
        // Back to blocking reads and writes, as the log's code expects of a regular file.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        // A reader only asks whether a writer holds the lock (a shared lock, dropped at once), so
        // readers never stand in each other's way.
        if configuration.readOnly ? flock(fd, LOCK_SH | LOCK_NB) != 0 : !lockBriefly(fd) {
            // Another process writes through the log. Its commits are in the page cache this
            // process maps too, so reading is safe; writing beside it is not.
            if configuration.readOnly { return nil }
            throw LMDBError(.busy, operation: operation,
                            detail: "another process has this store open for writing with a write-ahead log (\(WriteAheadLog.fileName))")
        }
        let scan = try WriteAheadLog.scan(fd: fd, path: logPath)
        let sameBoot = !scan.header.bootID.isEmpty && scan.header.bootID == WriteAheadLog.currentBootID()
        if configuration.readOnly {
            if scan.isDirty && !sameBoot {
                throw LMDBError(.recoveryNeeded, operation: operation,
                                detail: "\(scan.records.count) commit(s) after the last checkpoint are only in \(WriteAheadLog.fileName), and the machine has restarted since they were written")
            }
            return nil
        }
        var replay = false
        if scan.isDirty && !sameBoot {
            try restoreMetaPages(scan.header, dataPath: path + "/data.mdb")
            replay = true
        }
        keepDescriptor = true
        return LogOpening(fd: fd, scan: scan, replay: replay, keep: logged)
    }

    /// Takes the exclusive (or shared) lock on `fd`, trying for up to 0.2 s: a lock its
    /// holder has just let go of may still be held for a moment by a child that the holder's
    /// process is starting — a new process holds a copy of every descriptor, and so every
    /// `flock`, until it runs its program, which closes them. A writer that keeps the store open
    /// holds the lock for longer and still makes this fail.
    private static func lockBriefly(_ fd: Int32, shared: Bool = false) -> Bool {
        for _ in 0..<40 {
            if flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 { return true }
            guard errno == EWOULDBLOCK || errno == EINTR else { return false }
            usleep(5_000)
        }
        return false
    }

    /// Takes this read-write open's part of the writers' lock, a `flock` on `data.mdb` held until
    /// the environment closes: exclusive for a ``Durability/writeAheadLog`` open, shared for any
    /// other. So a writer through the log never runs beside a process that writes `data.mdb`
    /// around it — whichever opened first, the other's open throws `.busy` — since commits
    /// missing from the log would be rolled back by a recovery after a power cut. (LMDB takes no
    /// lock on `data.mdb`: its own are `fcntl` locks on `lock.mdb`, which `flock` does not touch.)
    /// - Returns: the locked descriptor.
    static func lockWriters(_ path: String, logged: Bool) throws(LMDBError) -> Int32 {
        let dataPath = path + "/data.mdb"
        let operation = "lock \(dataPath) for writing"
        let fd = open(dataPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw LMDBError(LMDBError.Code(rawValue: code), operation: operation, detail: DataFilePreflight.describe(code, dataPath, isDirectory: false))
        }
        guard lockBriefly(fd, shared: !logged) else {
            _ = closeDescriptor(fd)
            throw LMDBError(.busy, operation: operation, detail: logged
                ? "another process has this store open for writing without the write-ahead log; its commits would not be in the log"
                : "another process has this store open for writing with a write-ahead log (\(WriteAheadLog.fileName))")
        }
        return fd
    }

    /// This boot of the machine, as the write-ahead log's header keeps it
    /// (`TIMELINESTORE_BOOT_ID` stands in for it): for tools that forge or inspect a log.
    package static var currentBootID: String { WriteAheadLog.currentBootID() }

    /// Writes the checkpoint's meta pages back into `data.mdb`: LMDB then opens the checkpoint's
    /// snapshot, whose pages the pinned reader kept from reuse.
    private static func restoreMetaPages(_ header: WriteAheadLog.Header, dataPath: String) throws(LMDBError) {
        let operation = "recover \(dataPath) from its write-ahead log"
        guard !header.metas.isEmpty else {
            throw LMDBError(.corrupted, operation: operation, detail: "the log holds commits but no checkpoint")
        }
        let fd = open(dataPath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw LMDBError(LMDBError.Code(rawValue: errno), operation: operation) }
        defer { _ = closeDescriptor(fd) }
        let checkpoint = newestSavedMeta(header.metas)
        guard checkpointMatches(checkpoint, dataFD: fd) else {
            throw LMDBError(.invalid, operation: operation,
                            detail: "the checkpoint in \(WriteAheadLog.fileName) does not match this data.mdb (was the file replaced?); remove \(WriteAheadLog.fileName) to open data.mdb as it is, without the commits only the log holds")
        }
        // LMDB trusts the tree a meta page names: one whose pages overlap (two trees sharing a
        // page, a page the free list offers while a tree uses it) makes a write assert and abort
        // the process. A log's checksums can be forged, so the checkpoint's tree is walked —
        // every page it reaches, read once — before its meta pages go into data.mdb.
        if let problem = checkpointTreeProblem(checkpoint, dataFD: fd) {
            throw LMDBError(.corrupted, operation: operation,
                            detail: "the checkpoint in \(WriteAheadLog.fileName) names pages of data.mdb that are not a sound tree (\(problem)); data.mdb was not changed. Remove \(WriteAheadLog.fileName) to open data.mdb as it is, without the commits only the log holds, then run kvtool check")
        }
        let written = header.metas.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == header.metas.count, fdatasync(fd) == 0 else {
            throw LMDBError(LMDBError.Code(rawValue: written < 0 ? errno : EIO), operation: operation, detail: "writing the saved meta pages back failed")
        }
    }

    /// Whether `data.mdb` is the file the checkpoint was taken of: its meta pages are no older
    /// than the checkpoint, and the checkpoint's two tree roots (free pages, main database) are
    /// pages of the right kind that name themselves. Offsets as in ``DataFilePreflight``: in a
    /// meta page, the free database's root is the u64 at 80, the main database's at 128, the
    /// transaction id at 144; a page starts with its own number (u64) and, at 10, its flags (u16).
    private static func checkpointMatches(_ checkpoint: [UInt8], dataFD: Int32) -> Bool {
        let pageSize = checkpoint.count
        func word(_ bytes: [UInt8], _ at: Int) -> UInt64 { bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) } }
        let newest = [0, pageSize].compactMap { DataFilePreflight.readMeta(dataFD, offset: $0)?.transactionID }.max()
        guard let newest, newest >= word(checkpoint, 144) else { return false }
        for rootOffset in [80, 128] {
            let root = word(checkpoint, rootOffset)
            if root == UInt64.max { continue }  // an empty tree
            var header = [UInt8](repeating: 0, count: 16)
            let (offset, overflow) = root.multipliedReportingOverflow(by: UInt64(pageSize))
            guard !overflow, offset < UInt64(Int.max),
                  header.withUnsafeMutableBytes({ pread(dataFD, $0.baseAddress, 16, off_t(offset)) }) == 16 else { return false }
            let flags = UInt16(header[10]) | UInt16(header[11]) << 8
            guard word(header, 0) == root, flags & 0x03 != 0 else { return false }  // P_BRANCH or P_LEAF
        }
        return true
    }

    /// The newer of a checkpoint's two saved meta pages (the higher transaction id, at byte 144):
    /// the one LMDB opens once they are written back.
    private static func newestSavedMeta(_ metas: [UInt8]) -> [UInt8] {
        let pageSize = metas.count / 2
        let saved = [Array(metas[..<pageSize]), Array(metas[pageSize...])]
        func transaction(_ page: [UInt8]) -> UInt64 { page.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 144, as: UInt64.self) } }
        return transaction(saved[1]) > transaction(saved[0]) ? saved[1] : saved[0]
    }

    /// The first structural fault of the tree the saved meta page `checkpoint` names, read from
    /// `data.mdb` as ``Environment/verifyPages(limit:)`` reads a snapshot; `nil` when it is sound.
    private static func checkpointTreeProblem(_ checkpoint: [UInt8], dataFD: Int32) -> PageProblem? {
        let pageSize = checkpoint.count
        guard let meta = DataFilePreflight.meta(checkpoint) else {
            return PageProblem(page: 0, database: "(meta)", detail: "the saved meta page is not one")
        }
        // The walk keeps a bit per page up to the last one; that page must be in the file.
        var info = stat()
        let (pages, overflow) = meta.lastPage.addingReportingOverflow(1)
        guard meta.pageSize == pageSize, !overflow, fstat(dataFD, &info) == 0,
              pages <= UInt64(max(0, info.st_size)) / UInt64(pageSize)
        else { return PageProblem(page: meta.lastPage, database: "(meta)", detail: "the saved meta page's last page lies past the end of data.mdb") }
        // The walk reads pages in tree order, one `pread` each: after a restart the file is not
        // cached, and those reads are random. Reading the file through first, in large pieces,
        // makes them sequential — when it fits in half the memory, so that it stays cached.
        // Measured on the 1,000,000-turn store (2.3 GB), caches dropped: recovery took 4.6–6.5 s
        // with the walk against 3.6–5.3 s without it; 15–17.5 s with the walk alone (and with
        // `POSIX_FADV_WILLNEED` instead of the reads).
        let bytes = pages * UInt64(pageSize)
        if bytes <= UInt64(WriteAheadLog.physicalMemory / 2) {
            let piece = 8 << 20
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: piece, alignment: 4096)
            defer { buffer.deallocate() }
            var offset: UInt64 = 0
            while offset < bytes, pread(dataFD, buffer, piece, off_t(offset)) > 0 { offset += UInt64(piece) }
        }
        var walker = PageWalker(fd: dataFD, meta: meta, limit: 1)
        walker.walkAll(meta: checkpoint)
        return walker.problems.first
    }

    /// Finishes what ``prepareLog(_:_:)`` started, on the opened C environment: replays the
    /// records, then either makes a first checkpoint (and keeps the log) or syncs `data.mdb` and
    /// removes the log.
    static func finishLog(_ opening: LogOpening?, handle: OpaquePointer, path: String,
                          configuration: Configuration) throws(LMDBError) -> WriteAheadLog? {
        guard var opening else { return nil }
        let logPath = path + "/" + WriteAheadLog.fileName
        do throws(LMDBError) {
            if opening.replay, let scan = opening.scan { try replay(scan, handle: handle, path: path) }
            guard opening.keep else {
                try check(mdb_env_sync(handle, 1), "sync \(path) before removing its write-ahead log")
                unlink(logPath)
                _ = closeDescriptor(opening.fd)
                return nil
            }
            var stat = MDB_stat()
            try check(mdb_env_stat(handle, &stat), "read the page size of \(path)")
            let pageSize = Int(stat.ms_psize)
            if opening.fd < 0 { opening.fd = try createLog(path: path, pageSize: pageSize, fileMode: configuration.fileMode) }
            if let scan = opening.scan, scan.pageSize != pageSize {
                throw LMDBError(.corrupted, operation: "open the write-ahead log \(logPath)", detail: "its page size differs from data.mdb's")
            }
            let log = WriteAheadLog(fd: opening.fd, path: logPath, pageSize: pageSize,
                                    checkpointCommits: configuration.checkpointCommits, scan: opening.scan)
            if try !log.resume(opening.scan, handle: handle) {
                try log.checkpoint(handle: handle)
                // A version 1 slot left beside the new one would be the one an older TimelineStore
                // takes for current; a second checkpoint writes the other slot too, and the older
                // code then refuses the log instead.
                if opening.scan?.hasVersion1Slot == true { try log.checkpoint(handle: handle, evenIfUnchanged: true) }
            }
            return log
        } catch {
            if opening.fd >= 0 { _ = closeDescriptor(opening.fd) }
            throw error
        }
    }

    /// Creates `data.wal` with a first header (no checkpoint yet) and locks it. The file appears
    /// whole or not at all: it is written under another name and linked into place.
    private static func createLog(path: String, pageSize: Int, fileMode: UInt32) throws(LMDBError) -> Int32 {
        let logPath = path + "/" + WriteAheadLog.fileName
        let temporary = path + "/\(WriteAheadLog.fileName).\(getpid()).new"
        let operation = "create the write-ahead log \(logPath)"
        unlink(temporary)
        let fd = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(fileMode))
        guard fd >= 0 else { throw LMDBError(LMDBError.Code(rawValue: errno), operation: operation) }
        defer { unlink(temporary) }
        do throws(LMDBError) {
            let header = WriteAheadLog.Header(generation: 0, checkpointTransaction: 0, salt: 0,
                                              bootID: WriteAheadLog.currentBootID())
            let slot = header.encode(pageSize: pageSize, metas: [])
            let written = slot.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            guard written == slot.count, fdatasync(fd) == 0 else {
                throw LMDBError(LMDBError.Code(rawValue: written < 0 ? errno : EIO), operation: operation)
            }
            if link(temporary, logPath) != 0 {
                let code = errno
                if code == EEXIST {
                    throw LMDBError(.busy, operation: operation, detail: "another process created it at the same moment")
                }
                throw LMDBError(LMDBError.Code(rawValue: code), operation: operation)
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                throw LMDBError(.busy, operation: operation, detail: "another process locked it at the same moment")
            }
            let directory = open(path, O_RDONLY | O_CLOEXEC)
            if directory >= 0 { _ = fsync(directory); _ = closeDescriptor(directory) }
            return fd
        } catch {
            _ = closeDescriptor(fd)
            throw error
        }
    }

    /// Applies the log's records to the environment in one transaction and syncs it.
    private static func replay(_ scan: WriteAheadLog.Scan, handle: OpaquePointer, path: String) throws(LMDBError) {
        let operation = "replay the write-ahead log of \(path)"
        while true {
            var txn: OpaquePointer?
            try check(mdb_txn_begin(handle, nil, 0, &txn), operation)
            guard let txn else { throw LMDBError(.outOfMemory, operation: operation) }
            var rc: Int32 = 0
            for record in scan.records {
                rc = WriteAheadLog.apply(scan.bytes[record.payload], to: txn)
                if rc != 0 { break }
            }
            if rc == 0 { rc = mdb_txn_commit(txn) } else { mdb_txn_abort(txn) }
            if rc == MDB_MAP_FULL {
                var info = MDB_envinfo()
                mdb_env_info(handle, &info)
                try check(mdb_env_set_mapsize(handle, Environment.nextMapSize(after: info.me_mapsize)), operation)
                continue
            }
            if rc == MDB_CORRUPTED {
                throw LMDBError(.corrupted, operation: operation, detail: "a record's operations could not be read")
            }
            try check(rc, operation)
            try check(mdb_env_sync(handle, 1), operation)
            return
        }
    }

    // MARK: After opening

    /// Makes a checkpoint now: syncs `data.mdb`, saves its meta pages in the log and starts the
    /// log afresh. Waits for a running write transaction, and a running checkpoint, to end.
    func checkpointLog() throws(LMDBError) {
        guard let wal else { return }
        try gate.enter(write: true)
        defer { gate.exit() }
        try wal.checkpoint(handle: handle)
    }

    /// After a commit of transaction `transaction`, whose record starts at `record`, with the
    /// log's append lock held (released here) and the transaction still registered with the gate
    /// (so the map cannot be resized while a checkpoint's snapshot is taken): a transaction that
    /// changed no page (opening a database that already existed) commits without taking a
    /// transaction id, so its record is unmade; otherwise a checkpoint begins when one is due.
    func afterLoggedCommit(_ wal: WriteAheadLog, transaction: UInt64, record: Int) {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        if UInt64(info.me_last_txnid) < transaction {
            wal.discardRecord(at: record)
        } else {
            wal.checkpointIfDue(handle: handle, lastPage: info.me_last_pgno)
        }
        wal.unlockAppends()
    }
}

extension WriteAheadLog {
    /// What a log file holds: its newest valid header and the records after it that belong to it.
    struct Scan {
        var header: Header
        var pageSize: Int
        /// Each record's transaction id and where its operations are in ``bytes``.
        var records: [(transaction: UInt64, payload: Range<Int>)]
        var bytes: [UInt8]
        var fileSize: Int
        /// Whether either slot holds a valid version 1 header.
        var hasVersion1Slot: Bool
        /// Whether there are commits that may be missing from `data.mdb`.
        var isDirty: Bool { !records.isEmpty }
    }

    /// The machine's memory in bytes (0 when the system does not say): what a whole read of a
    /// file may take at most half of.
    static var physicalMemory: Int {
        max(0, Int(clamping: sysconf(Int32(_SC_PHYS_PAGES)))) &* max(0, Int(clamping: sysconf(Int32(_SC_PAGESIZE))))
    }

    /// Reads the log at `fd`: the header slot with the highest generation whose checksum holds,
    /// then every record of the chain that starts where the header says, in sequence (right salt,
    /// next transaction id, checksum), following jumps. The first record that fails ends the log:
    /// it was being written when the process or the machine stopped, and its transaction was
    /// never acknowledged. A jump must be followed by a record, so a chain cannot loop.
    static func scan(fd: Int32, path: String) throws(LMDBError) -> Scan {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LMDBError(LMDBError.Code(rawValue: errno), operation: "read the write-ahead log \(path)") }
        // The log is read whole. One larger than half the machine's memory cannot be (a log
        // stays a few checkpoint intervals long; a sparse file can claim any size).
        let memory = physicalMemory
        guard memory <= 0 || Int(info.st_size) <= memory / 2 else {
            throw LMDBError(.corrupted, operation: "read the write-ahead log \(path)",
                            detail: "it is \(info.st_size) bytes, more than half this machine's memory (\(memory) bytes); if data.mdb opens without it, remove \(fileName) (commits only the log held are then lost)")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(done)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw LMDBError(LMDBError.Code(rawValue: count < 0 ? errno : EIO), operation: "read the write-ahead log \(path)") }
            done += count
        }
        // The page size is written in each slot; try it, then LMDB's possible sizes.
        var candidates: [Int] = []
        if bytes.count >= 16 { candidates.append(Int(bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self)) })) }
        candidates += [4096, 8192, 16_384, 32_768, 65_536, 512, 1024, 2048]
        for pageSize in candidates where pageSize >= 512 && pageSize <= 65_536 && pageSize & (pageSize - 1) == 0 {
            let slotSize = slotSize(pageSize: pageSize)
            let headers = (0..<2).compactMap { slot -> Header? in
                let start = slot * slotSize
                guard bytes.count >= start + slotSize else { return nil }
                return Header.decode(bytes[start..<start + slotSize], pageSize: pageSize)
            }
            guard let header = headers.max(by: { $0.generation < $1.generation }) else { continue }
            var records: [(transaction: UInt64, payload: Range<Int>)] = []
            let first = recordsStart(pageSize: pageSize)
            var at = header.start == 0 ? first : Int(clamping: header.start)
            var expected = header.checkpointTransaction + 1
            var jumped = false
            while header.salt != 0, at >= first, at <= bytes.count - recordHeaderSize {
                let (rawLength, crc, salt, transaction) = bytes.withUnsafeBytes { raw in
                    (UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)),
                     UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self)),
                     UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)),
                     UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self)))
                }
                let isJump = rawLength == jumpLength
                let length = isJump ? jumpSize - recordHeaderSize : Int(rawLength)
                let payload = at + recordHeaderSize
                guard salt == header.salt, transaction == expected, !(isJump && jumped), length <= bytes.count - payload,
                      bytes.withUnsafeBytes({ CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[at + 8..<payload + length])) }) == crc
                else { break }
                jumped = isJump
                if isJump {
                    at = Int(clamping: bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: payload, as: UInt64.self)) })
                    continue
                }
                records.append((transaction, payload..<payload + length))
                at = payload + length
                guard expected < .max else { break }
                expected += 1
            }
            return Scan(header: header, pageSize: pageSize, records: records, bytes: bytes, fileSize: bytes.count,
                        hasVersion1Slot: headers.contains { $0.version == 1 })
        }
        throw LMDBError(.corrupted, operation: "read the write-ahead log \(path)",
                        detail: "neither of its two headers is whole; if data.mdb opens without it, remove \(fileName) (commits only the log held are then lost)")
    }

    /// Applies one record's operations inside `txn`. Returns an LMDB code: `MDB_CORRUPTED` when
    /// the operations cannot be read, or ask for what this wrapper never writes — a flag it does
    /// not know, or a key or value that is not the 4 or 8 bytes an integer-keyed database holds
    /// (LMDB would read past it) — since a record whose checksum holds may still be forged.
    static func apply(_ payload: ArraySlice<UInt8>, to txn: OpaquePointer) -> Int32 {
        var reader = payload.startIndex
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, count <= payload.endIndex - reader else { return nil }
            defer { reader += count }
            return payload[reader..<reader + count]
        }
        func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            take(MemoryLayout<T>.size).map { piece in piece.reversed().reduce(T.zero) { $0 << 8 | T($1) } }
        }
        func bytes() -> ArraySlice<UInt8>? { integer(UInt32.self).flatMap { take(Int($0)) } }
        // Each database's handle and stored flags, looked up once per replay.
        var databases: [String: (dbi: MDB_dbi, flags: UInt32)] = [:]
        while reader < payload.endIndex {
            guard let kind = integer(UInt8.self).flatMap(Operation.init(rawValue:)),
                  let nameLength = integer(UInt16.self) else { return MDB_CORRUPTED }
            var name: String?
            if nameLength != UInt16.max {
                guard let utf8 = take(Int(nameLength)) else { return MDB_CORRUPTED }
                name = String(decoding: utf8, as: UTF8.self)
            }
            guard let flags = integer(UInt32.self), flags & ~Database.Flags.known.rawValue == 0 else { return MDB_CORRUPTED }
            let cacheKey = name.map { "n" + $0 } ?? "main"
            var dbi: MDB_dbi = 0, stored: UInt32 = 0
            if let known = databases[cacheKey] {
                (dbi, stored) = known
            } else {
                let rc = mdb_dbi_open(txn, name, flags | UInt32(MDB_CREATE), &dbi)
                if rc != 0 { return rc }
                if mdb_dbi_flags(txn, dbi, &stored) != 0 { return MDB_CORRUPTED }
                databases[cacheKey] = (dbi, stored)
            }
            func fits(_ piece: ArraySlice<UInt8>, integer flag: Int32) -> Bool {
                stored & UInt32(flag) == 0 || piece.count == 4 || piece.count == 8
            }
            var rc: Int32 = 0
            switch kind {
            case .put:
                guard let putFlags = integer(UInt32.self), putFlags & ~Database.PutFlags.known.rawValue == 0,
                      let key = bytes(), let value = bytes(), fits(key, integer: MDB_INTEGERKEY), fits(value, integer: MDB_INTEGERDUP)
                else { return MDB_CORRUPTED }
                rc = withValues(key, value) { k, v in mdb_put(txn, dbi, &k, &v, putFlags) }
            case .delete:
                guard let key = bytes(), fits(key, integer: MDB_INTEGERKEY) else { return MDB_CORRUPTED }
                rc = withValues(key, nil) { k, _ in mdb_del(txn, dbi, &k, nil) }
            case .deleteValue:
                guard let key = bytes(), let value = bytes(), fits(key, integer: MDB_INTEGERKEY), fits(value, integer: MDB_INTEGERDUP)
                else { return MDB_CORRUPTED }
                rc = withValues(key, value) { k, v in mdb_del(txn, dbi, &k, &v) }
            case .clear:
                rc = mdb_drop(txn, dbi, 0)
            case .drop:
                rc = mdb_drop(txn, dbi, 1)
                databases[cacheKey] = nil
            case .create:
                break
            }
            if rc != 0 { return rc }
        }
        return 0
    }

    private static func withValues(_ key: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>?,
                                   _ body: (inout MDB_val, inout MDB_val) -> Int32) -> Int32 {
        key.withUnsafeBytes { k in
            (value ?? []).withUnsafeBytes { v in
                var kv = MDB_val(k), vv = MDB_val(v)
                return body(&kv, &vv)
            }
        }
    }
}
