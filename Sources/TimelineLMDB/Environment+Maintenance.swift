internal import CTimelineLMDB
internal import Synchronization

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

extension Environment {
    /// Facts about the environment as a whole (`mdb_env_info`).
    public struct Info: Sendable, Hashable {
        /// The size of this process's memory map in bytes.
        public var mapSize: Int
        /// The number of the last page in use: `(lastPage + 1) × pageSize` bytes of the map hold data.
        public var lastPage: Int
        /// The id of the last committed transaction.
        public var lastTransactionID: Int
        /// The size of the reader table.
        public var maxReaders: Int
        /// How far into the reader table slots have been used, by any process: a high-water mark
        /// that includes slots freed since (`me_numreaders`).
        public var readerSlotsUsed: Int
    }

    /// Runs `body` registered with the transaction gate as a reader, for LMDB calls outside a
    /// transaction that read through the map (the meta pages, a copy's pages): another thread's
    /// growth of the map, which unmaps it, waits until `body` returns. (Unregistered, a copy made
    /// while another thread grew the map failed with `EFAULT`, came out damaged or crashed.)
    func whileMapped<R>(_ body: () throws(LMDBError) -> R) throws(LMDBError) -> R {
        let idle = try gate.enter(write: false)
        defer { if let rejected = gate.exit(idleReader: idle) { mdb_txn_abort(rejected) } }
        return try body()
    }

    /// Map size, last page, last transaction and reader counts.
    /// - Throws: ``LMDBError/Code/closed``.
    public func info() throws -> Info {
        try ensureOpen("read environment info")
        var info = MDB_envinfo()
        try whileMapped { () throws(LMDBError) in try check(mdb_env_info(handle, &info), "read environment info of \(path)") }
        return Info(mapSize: info.me_mapsize, lastPage: info.me_last_pgno, lastTransactionID: info.me_last_txnid,
                    maxReaders: Int(info.me_maxreaders), readerSlotsUsed: Int(info.me_numreaders))
    }

    /// Page counts of the main database (`mdb_env_stat`); its `pageSize` is the environment's.
    /// - Throws: ``LMDBError/Code/closed``.
    public func statistics() throws -> Database.Statistics {
        try ensureOpen("read environment statistics")
        var stat = MDB_stat()
        try whileMapped { () throws(LMDBError) in try check(mdb_env_stat(handle, &stat), "read environment statistics of \(path)") }
        return Database.Statistics(stat)
    }

    /// The durability LMDB applies to this environment's commits, read back from its flags
    /// (`mdb_env_get_flags`): what a benchmark reports, so that no figure compares a synced
    /// commit with an unsynced one by mistake.
    /// - Throws: ``LMDBError/Code/closed``.
    public func effectiveDurability() throws -> Durability {
        try ensureOpen("read the flags of \(path)")
        if wal != nil { return .writeAheadLog }
        var flags: UInt32 = 0
        try check(mdb_env_get_flags(handle, &flags), "read the flags of \(path)")
        if flags & UInt32(MDB_NOSYNC) != 0 { return .noSync }
        if flags & UInt32(MDB_NOMETASYNC) != 0 { return .noMetaSync }
        return .durable
    }

    /// The largest key LMDB accepts (`mdb_env_get_maxkeysize`): 511 bytes in Debian's build.
    public var maxKeySize: Int { Int(mdb_env_get_maxkeysize(handle)) }

    /// ``maxValueSize`` for pages of `pageSize` bytes: the most whole pages one write call moves
    /// (Linux's `MAX_RW_COUNT`, `0x7FFFF000`), less the page header of 16 bytes.
    static func maxValueSize(pageSize: Int) -> Int { 0x7FFF_F000 / pageSize * pageSize - 16 }

    /// Whether the store in the directory at `path` is this environment's own (the same data
    /// file, by device and inode: through a symbolic link or another spelling of the path too).
    package func isOwnStore(atDirectory path: String) -> Bool {
        var mine = stat(), theirs = stat()
        guard stat(self.path + "/data.mdb", &mine) == 0, stat(path + "/data.mdb", &theirs) == 0 else { return false }
        return mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino
    }

    /// Writes a consistent copy of the environment into the directory `destination` (created if
    /// missing; it must not already hold a store), while readers and writers carry on
    /// (`mdb_env_copyfd2`). With `compact`, free pages are left out and the copy is renumbered —
    /// smaller, slower to make.
    ///
    /// The copy's `data.mdb` gets the source's file mode (0600 by default) — a copy of
    /// conversation history is never more readable than the store — and is synced to disk before
    /// this returns. A copy that fails is removed.
    /// - Throws: ``LMDBError`` with ``LMDBError/Code/fileExists`` when `destination/data.mdb` (or a
    ///   symbolic link of that name) is already there, ``LMDBError/Code/noSuchFile`` when
    ///   `destination` is a symbolic link to nothing, ``LMDBError/Code/notADirectory``,
    ///   ``LMDBError/Code/noSpace``; ``LMDBError/Code/nestedWrite`` for a copy without `compact`
    ///   from inside a write transaction (it needs the writer lock the transaction holds).
    public func copy(to destination: String, compact: Bool = false) throws {
        try ensureOpen("copy the environment")
        let operation = "copy \(path) to \(destination)"
        // A plain copy takes LMDB's writer lock for a moment: from the thread that holds it, it
        // would wait for itself forever.
        if !compact && gate.currentThreadHoldsWrite {
            throw LMDBError(.nestedWrite, operation: operation, detail: "a copy waits for the writer lock, which this thread holds; copy after the write closure returns")
        }
        let mode = try prepareCopy(to: destination, operation)
        let target = destination + "/data.mdb"
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw LMDBError(LMDBError.Code(rawValue: errno), operation: operation, detail: "cannot create \(target)") }
        var failure: LMDBError?
        // LMDB's copy reads the map in a read transaction of its own.
        let rc = try whileMapped { mdb_env_copyfd2(handle, fd, compact ? UInt32(MDB_CP_COMPACT) : 0) }
        if rc != 0 {
            failure = LMDBError(LMDBError.Code(rawValue: rc), operation: operation)
        } else if fsync(fd) != 0 {
            failure = LMDBError(LMDBError.Code(rawValue: errno), operation: operation, detail: "syncing \(target) to disk failed")
        }
        if closeDescriptor(fd) != 0 && failure == nil {
            failure = LMDBError(LMDBError.Code(rawValue: errno), operation: operation, detail: "closing \(target) failed")
        }
        if let failure {
            unlink(target)
            throw failure
        }
    }

    /// Makes `destination` a directory to copy into — refusing a dangling symbolic link, a file,
    /// or a directory that already holds a store — and returns the mode the copy's data file gets
    /// (the source's).
    private func prepareCopy(to destination: String, _ operation: String) throws -> mode_t {
        try Environment.checkDirectoryPath(destination, operation)
        var info = stat()
        if lstat(destination, &info) == 0, info.st_mode & S_IFMT == S_IFLNK, stat(destination, &info) != 0 {
            throw LMDBError(.noSuchFile, operation: operation, detail: "\(destination) is a symbolic link to something that does not exist; create its target directory or choose another path")
        }
        try makeDirectories(destination, mode: 0o700)
        guard stat(destination, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw LMDBError(.notADirectory, operation: operation, detail: "\(destination) is not a directory")
        }
        if lstat(destination + "/data.mdb", &info) == 0 {
            throw LMDBError(.fileExists, operation: operation, detail: "\(destination) already holds a store (or something named data.mdb); choose an empty directory")
        }
        if stat(path + "/data.mdb", &info) == 0 { return info.st_mode & 0o666 }
        return mode_t(configuration.fileMode & 0o666)
    }

    /// Writes a copy of the environment into the directory `destination` with every named
    /// database rewritten in key order, so that its pages are as full as they can be — what
    /// SQLite's `VACUUM INTO` does. Records that arrive in the middle of a tree (each session's
    /// turns, say) leave its pages about 70 % full, since LMDB splits a full page in half; the
    /// copy's leaf pages come out nearly full, and the file smaller (`Docs/benchmarks.md`).
    /// Values that need overflow pages take as many as before.
    ///
    /// The copy is made from one read snapshot, while readers and writers carry on, and holds
    /// exactly the same entries (keys and values, byte for byte) in every database; it is written
    /// without syncs and synced once at the end, and gets the source's file mode. A copy that fails
    /// is removed. Entries are copied in write transactions of about 32 MB.
    /// - Throws: as ``copy(to:compact:)``; ``LMDBError/Code/incompatible`` for a database created
    ///   with flags (`dupSort`, reverse or integer keys), which this does not rewrite; what reading
    ///   the source throws.
    public func copyRepacked(to destination: String) throws {
        try ensureOpen("copy the environment")
        let operation = "repack \(path) into \(destination)"
        let mode = try prepareCopy(to: destination, operation)
        let names = try databaseNames()
        let sources = try names.map { name in
            do { return try openDatabase(name, create: false) } catch let error as LMDBError where error.code == .incompatible {
                throw LMDBError(.incompatible, operation: operation, detail: "database \"\(name)\" is open with flags; only plain databases are repacked")
            }
        }
        // LMDB opens an existing database with the flags it was created with, whatever was asked.
        if let flagged = try read({ txn in try zip(names, sources).first { try !$0.1.storedFlags(in: txn).isEmpty } }) {
            throw LMDBError(.incompatible, operation: operation, detail: "database \"\(flagged.0)\" was created with flags; only plain databases are repacked")
        }
        let used = try (info().lastPage + 1) * statistics().pageSize
        var targetConfiguration = Configuration(mapSize: max(used + used / 8, 1 << 20), maxDatabases: configuration.maxDatabases,
                                                fileMode: UInt32(mode), durability: .noSync)
        targetConfiguration.maxMapSize = max(configuration.maxMapSize, targetConfiguration.mapSize)
        do {
            let target = try Environment(path: destination, configuration: targetConfiguration)
            defer { try? target.close() }
            let targets = try names.map { try target.openDatabase($0) }
            try read { txn in
                for (source, copy) in zip(sources, targets) {
                    try source.withCursor(in: txn) { cursor in
                        var entries = cursor.entries(in: .all)
                        var chunk: [(key: [UInt8], value: [UInt8])] = []
                        while true {
                            // Read a chunk first, then write it: a write closure may run again
                            // after the map grew, and must not find the cursor moved on.
                            chunk.removeAll(keepingCapacity: true)
                            var bytes = 0
                            while bytes < 32 << 20, let entry = try entries.next() {
                                chunk.append((Array(entry.key), Array(entry.value)))
                                bytes += entry.key.count + entry.value.count
                            }
                            if chunk.isEmpty { break }
                            try target.write { write in
                                for (key, value) in chunk { try copy.put(value, for: key, flags: .append, in: write) }
                            }
                        }
                    }
                }
            }
            try target.sync(force: true)
        } catch {
            unlink(destination + "/data.mdb")
            unlink(destination + "/lock.mdb")
            throw error
        }
    }

    /// Flushes written data to disk (`mdb_env_sync`). Only needed with ``Durability/noSync`` or
    /// ``Durability/noMetaSync``; with `force`, flushes even then. With
    /// ``Durability/writeAheadLog`` it makes a checkpoint (which syncs `data.mdb` and empties the
    /// log), waiting for a running write transaction, and a running background checkpoint, to end.
    public func sync(force: Bool = true) throws {
        try ensureOpen("sync the environment")
        if wal != nil { return try checkpointLog() }
        try check(mdb_env_sync(handle, force ? 1 : 0), "sync \(path)")
    }

    /// Clears reader slots held by processes that no longer exist (`mdb_reader_check`) and
    /// returns how many it cleared. Runs automatically at open.
    public func clearStaleReaders() throws -> Int {
        try ensureOpen("check readers")
        var dead: Int32 = 0
        try check(mdb_reader_check(handle, &dead), "clear stale readers of \(path)")
        return Int(dead)
    }

    /// Throws ``LMDBError/Code/closed`` once the environment is closed.
    func ensureOpen(_ operation: String) throws(LMDBError) {
        if isClosed.load(ordering: .acquiring) { throw LMDBError(.closed, operation: operation) }
    }
}
