internal import CTimelineLMDB

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// An error reported by LMDB or by this wrapper, with a Swift name for its code, LMDB's own
/// message, what was being done, and what you can do about it.
///
/// Name the ``code`` in a `catch` clause (or test `error.code`):
///
/// ```swift
/// do {
///     try db.put(value, for: key, flags: .noOverwrite, in: txn)
/// } catch LMDBError.Code.keyExists {
///     // the key was already there
/// }
/// ```
///
/// "Not found" from a lookup is not an error: `Database.get(_:in:)` returns `nil`.
public struct LMDBError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The numeric code: an LMDB code (`MDB_*`), an `errno` value, or one of this wrapper's own.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The C value: negative for LMDB's and this wrapper's codes, positive for `errno`.
        public let rawValue: Int32

        /// Creates a code from its C value.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// `MDB_KEYEXIST`: the key (or key/value pair) is already present.
        public static let keyExists = Code(rawValue: MDB_KEYEXIST)
        /// `MDB_NOTFOUND`: a named database does not exist, or a key was required.
        public static let notFound = Code(rawValue: MDB_NOTFOUND)
        /// `MDB_PAGE_NOTFOUND`: a page the tree points to is missing; the file is damaged.
        public static let pageNotFound = Code(rawValue: MDB_PAGE_NOTFOUND)
        /// `MDB_CORRUPTED`: a page has the wrong type; the file is damaged.
        public static let corrupted = Code(rawValue: MDB_CORRUPTED)
        /// `MDB_PANIC`: an earlier fatal error left the environment unusable.
        public static let panic = Code(rawValue: MDB_PANIC)
        /// `MDB_VERSION_MISMATCH`: the file was written by an incompatible LMDB version.
        public static let versionMismatch = Code(rawValue: MDB_VERSION_MISMATCH)
        /// `MDB_INVALID`: the file is not an LMDB data file.
        public static let invalid = Code(rawValue: MDB_INVALID)
        /// `MDB_MAP_FULL`: the memory map is full and could not be grown further.
        public static let mapFull = Code(rawValue: MDB_MAP_FULL)
        /// `MDB_DBS_FULL`: more named databases than ``Environment/Configuration/maxDatabases``.
        public static let databasesFull = Code(rawValue: MDB_DBS_FULL)
        /// `MDB_READERS_FULL`: every reader slot is taken.
        public static let readersFull = Code(rawValue: MDB_READERS_FULL)
        /// `MDB_TXN_FULL`: the transaction has too many dirty pages.
        public static let transactionFull = Code(rawValue: MDB_TXN_FULL)
        /// `MDB_CURSOR_FULL`: the cursor stack is too deep (internal).
        public static let cursorFull = Code(rawValue: MDB_CURSOR_FULL)
        /// `MDB_PAGE_FULL`: a page has no room (internal).
        public static let pageFull = Code(rawValue: MDB_PAGE_FULL)
        /// `MDB_MAP_RESIZED`: another process grew the map (handled internally by retrying).
        public static let mapResized = Code(rawValue: MDB_MAP_RESIZED)
        /// `MDB_INCOMPATIBLE`: a database was opened with flags that differ from how it was created.
        public static let incompatible = Code(rawValue: MDB_INCOMPATIBLE)
        /// `MDB_BAD_RSLOT`: a reader slot was misused.
        public static let badReaderSlot = Code(rawValue: MDB_BAD_RSLOT)
        /// `MDB_BAD_TXN`: the transaction failed earlier and can only be aborted.
        public static let badTransaction = Code(rawValue: MDB_BAD_TXN)
        /// `MDB_BAD_VALSIZE`: a key was empty or longer than ``Environment/maxKeySize``, or a
        /// value longer than ``Environment/maxValueSize``.
        public static let badValueSize = Code(rawValue: MDB_BAD_VALSIZE)
        /// `MDB_BAD_DBI`: the database handle was closed or dropped.
        public static let badDatabase = Code(rawValue: MDB_BAD_DBI)

        /// `EACCES`: permission denied.
        public static let permissionDenied = Code(rawValue: EACCES)
        /// `ENOENT`: no such file or directory.
        public static let noSuchFile = Code(rawValue: ENOENT)
        /// `ENOTDIR`: a path component is not a directory.
        public static let notADirectory = Code(rawValue: ENOTDIR)
        /// `ENOSPC`: the disk is full.
        public static let noSpace = Code(rawValue: ENOSPC)
        /// `ENOMEM`: out of memory or address space.
        public static let outOfMemory = Code(rawValue: ENOMEM)
        /// `EINVAL`: an argument was invalid.
        public static let invalidArgument = Code(rawValue: EINVAL)
        /// `EIO`: the operating system reported an I/O error.
        public static let ioError = Code(rawValue: EIO)
        /// `EEXIST`: a file is already there.
        public static let fileExists = Code(rawValue: EEXIST)
        /// `EISDIR`: a directory where a file was expected.
        public static let isADirectory = Code(rawValue: EISDIR)
        /// `EBADF`: a file could not be used as asked (e.g. an empty file opened read-only).
        public static let badFileDescriptor = Code(rawValue: EBADF)
        /// `ELOOP`: a loop of symbolic links.
        public static let symbolicLinkLoop = Code(rawValue: ELOOP)
        /// `EPERM`: the operation is not permitted.
        public static let notPermitted = Code(rawValue: EPERM)
        /// `EDQUOT`: the user's disk quota is used up.
        public static let quotaExceeded = Code(rawValue: EDQUOT)
        /// `EROFS`: the file system is mounted read-only.
        public static let readOnlyFileSystem = Code(rawValue: EROFS)
        /// `ENAMETOOLONG`: a name on the path is longer than 255 bytes, or the path than 4,095.
        public static let nameTooLong = Code(rawValue: ENAMETOOLONG)
        /// `EMFILE`: the process has as many files open as its limit allows.
        public static let tooManyOpenFiles = Code(rawValue: EMFILE)

        /// The environment was closed with ``Environment/close()``.
        public static let closed = Code(rawValue: -40_001)
        /// A write was attempted on an environment opened read-only.
        public static let readOnly = Code(rawValue: -40_002)
        /// `write` was called on a thread that already holds a write transaction.
        public static let nestedWrite = Code(rawValue: -40_003)
        /// The map must grow, but the calling thread still holds another transaction.
        public static let growthBlocked = Code(rawValue: -40_004)
        /// The transaction was left unusable by an earlier failure and was not committed.
        public static let poisoned = Code(rawValue: -40_005)
        /// An operation was attempted inside a transaction where it is not allowed.
        public static let misuse = Code(rawValue: -40_006)
        /// The store is already open in this process (LMDB must not open one file twice in a process).
        public static let alreadyOpen = Code(rawValue: -40_007)
        /// The operation raced with writers too often to finish; running it again will do.
        public static let retry = Code(rawValue: -40_008)
        /// Another process writes the store through its write-ahead log (``Environment/Durability/writeAheadLog``).
        public static let busy = Code(rawValue: -40_009)
        /// The store's write-ahead log holds commits that `data.mdb` may lack after a restart of
        /// the machine; a read-only open cannot replay them.
        public static let recoveryNeeded = Code(rawValue: -40_010)

        /// The code's Swift name, e.g. `keyExists`.
        public var description: String {
            Code.names[rawValue] ?? "code(\(rawValue))"
        }

        private static let names: [Int32: String] = [
            MDB_KEYEXIST: "keyExists", MDB_NOTFOUND: "notFound", MDB_PAGE_NOTFOUND: "pageNotFound",
            MDB_CORRUPTED: "corrupted", MDB_PANIC: "panic", MDB_VERSION_MISMATCH: "versionMismatch",
            MDB_INVALID: "invalid", MDB_MAP_FULL: "mapFull", MDB_DBS_FULL: "databasesFull",
            MDB_READERS_FULL: "readersFull", MDB_TXN_FULL: "transactionFull",
            MDB_CURSOR_FULL: "cursorFull", MDB_PAGE_FULL: "pageFull", MDB_MAP_RESIZED: "mapResized",
            MDB_INCOMPATIBLE: "incompatible", MDB_BAD_RSLOT: "badReaderSlot",
            MDB_BAD_TXN: "badTransaction", MDB_BAD_VALSIZE: "badValueSize", MDB_BAD_DBI: "badDatabase",
            EACCES: "permissionDenied", ENOENT: "noSuchFile", ENOTDIR: "notADirectory",
            ENOSPC: "noSpace", ENOMEM: "outOfMemory", EINVAL: "invalidArgument", EIO: "ioError",
            EEXIST: "fileExists", EISDIR: "isADirectory", EBADF: "badFileDescriptor", ELOOP: "symbolicLinkLoop",
            EPERM: "notPermitted", EDQUOT: "quotaExceeded", EROFS: "readOnlyFileSystem",
            ENAMETOOLONG: "nameTooLong", EMFILE: "tooManyOpenFiles",
            -40_001: "closed", -40_002: "readOnly", -40_003: "nestedWrite",
            -40_004: "growthBlocked", -40_005: "poisoned", -40_006: "misuse", -40_007: "alreadyOpen", -40_008: "retry",
            -40_009: "busy", -40_010: "recoveryNeeded",
        ]
    }

    /// What went wrong, as a Swift name.
    public let code: Code
    /// What was being done, e.g. `put into database "turns"` or `open environment at /var/db`.
    public let operation: String
    /// Extra detail from this wrapper, when it knows more than the code says.
    public let detail: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: the code.
    ///   - operation: what was being done when it happened.
    ///   - detail: anything more specific than the code's message.
    public init(_ code: Code, operation: String, detail: String? = nil) {
        self.code = code
        self.operation = operation
        self.detail = detail
    }

    /// LMDB's message for the code (`mdb_strerror`), or this wrapper's for its own codes.
    public var message: String {
        switch code {
        case .closed: return "the environment is closed"
        case .readOnly: return "the environment was opened read-only"
        case .nestedWrite: return "this thread already holds a write transaction"
        case .growthBlocked: return "the map is full and cannot grow while this thread holds another transaction"
        case .poisoned: return "the transaction was left unusable by an earlier failure"
        case .misuse: return "operation not allowed here"
        case .alreadyOpen: return "this process already has the store open"
        case .retry: return "the operation raced with writers"
        case .busy: return "another process is writing this store"
        case .recoveryNeeded: return "the store must replay its write-ahead log before it can be read"
        default: return String(cString: mdb_strerror(code.rawValue))
        }
    }

    /// What the user can do next.
    public var recovery: String? {
        switch code {
        case .keyExists: return "the key is already present: put without .noOverwrite to replace it (with .append, keys must come in ascending order)"
        case .notFound: return "check the name, or open the environment writable so the database can be created"
        case .pageNotFound, .corrupted, .panic:
            return "the store is damaged: stop writing to it, copy it aside, and restore from a backup (Environment.copy / kvtool backup)"
        case .versionMismatch: return "open the store with the LMDB version that wrote it, or dump and reload it"
        case .invalid: return "the path does not hold an LMDB store (data.mdb is not an LMDB file); point at the right directory"
        case .mapFull: return "raise Configuration.maxMapSize or free disk space"
        case .databasesFull: return "raise Configuration.maxDatabases"
        case .readersFull: return "too many open read transactions: raise Configuration.maxReaders or end long reads"
        case .transactionFull: return "split the work into several smaller write transactions"
        case .incompatible: return "open the database with the flags it was created with"
        case .badValueSize: return "keys must be 1 to Environment.maxKeySize bytes (511 by default), values at most Environment.maxValueSize (2 GiB − 4 KiB − 16 bytes with 4 KiB pages)"
        case .badDatabase: return "the database handle was dropped; open it again"
        case .badTransaction: return "an earlier error in this transaction made it unusable; let the closure throw and retry"
        case .permissionDenied: return "check the owner and mode of the directory and its files (data.mdb, lock.mdb)"
        case .noSuchFile: return "check the path; opened without readOnly, a missing directory or store is created"
        case .notADirectory: return "the path must be a directory holding data.mdb and lock.mdb"
        case .noSpace, .quotaExceeded: return "free disk space and retry; every write acknowledged before is kept"
        case .ioError: return "the disk reported an error: check the system log and the disk; if it is full, free space and retry"
        case .fileExists: return "choose a path where nothing exists yet, or remove what is there"
        case .isADirectory: return "a directory stands where a file must be; point at the right path"
        case .symbolicLinkLoop: return "fix the symbolic links on the path"
        case .notPermitted: return "check the owner and mode of the files, and any immutable or append-only attribute"
        case .outOfMemory: return "lower the map size or free address space"
        case .nameTooLong: return "shorten the path: each name on it at most 255 bytes, the whole path at most 4,095"
        case .tooManyOpenFiles: return "the process has too many files open: raise its limit (ulimit -n) or close some (a store takes three or four)"
        case .readOnlyFileSystem:
            return "the store is on a read-only file system: open it with Configuration(readOnly: true) to read it (kvtool's reading commands do), or remount the file system writable"
        case .readOnly: return "open the environment without readOnly to write"
        case .nestedWrite: return "inside a write closure, use txn.nested { } instead of calling write again, and copy the environment after the closure returns"
        case .growthBlocked: return "end the outer read transaction before writing, or open with a larger mapSize"
        case .poisoned: return "let the closure throw so the transaction is retried from the start"
        case .closed: return "open the environment again"
        case .retry: return "run it again"
        case .busy: return "write through the process that has the store open (other processes may read), or close it there first"
        case .recoveryNeeded: return "open the store read-write once (any durability): that replays the log into data.mdb"
        case .alreadyOpen:
            return "share the one open Environment (or Store, TimelineStore) within the process, or close it before opening the path again; a second open would break the first one's file locks"
        default: return nil
        }
    }

    /// A readable one-line description: operation, Swift code name, message, detail, advice.
    public var description: String {
        var text = "LMDB error \(code) (\(code.rawValue)) during \(operation): \(message)"
        if let detail { text += " — \(detail)" }
        if let recovery { text += ". What to do: \(recovery)" }
        return text
    }
}

/// Whether `error` is an ``LMDBError`` with this code: lets a `catch` clause name a code,
/// `catch LMDBError.Code.mapFull { … }`.
public func ~= (code: LMDBError.Code, error: any Error) -> Bool {
    (error as? LMDBError)?.code == code
}
