#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Checks on a store's directory and `data.mdb` made before LMDB opens and maps them, so that a
/// file LMDB would crash on (a truncated `data.mdb` makes every access past its end a SIGBUS) or
/// answer with a bare `errno` ("code(9)", "code(21)") gives an error that says what is wrong with
/// which file and what to do.
///
/// LMDB keeps two meta pages at the start of `data.mdb` (`mdb.c`, `MDB_meta`); the one with the
/// larger transaction id is current and records the last page in use. A file shorter than that
/// page's end is truncated (or still being copied): LMDB would map it and fault on the missing
/// pages. On 64-bit builds a meta page holds, after the 16-byte page header: magic (u32 at 16),
/// format version (u32 at 20), the page size (the free database's `md_pad`, u32 at 40), the last
/// page number (u64 at 136) and the transaction id (u64 at 144), in the machine's byte order.
enum DataFilePreflight {
    static let magic: UInt32 = 0xBEEF_C0DE
    static let pageHeaderSize = 16

    /// What the meta pages of a data file say.
    struct Meta: Equatable {
        let pageSize: Int
        let lastPage: UInt64
        let transactionID: UInt64
    }

    /// Throws a clear error for a directory or data file LMDB cannot or must not open.
    /// - Parameter readOnly: a read-only open needs an existing, non-empty store.
    static func check(_ path: String, readOnly: Bool) throws(LMDBError) {
        let operation = "open environment at \(path)"
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ENOENT && !readOnly { return }  // created by the open
            throw LMDBError(LMDBError.Code(rawValue: code), operation: operation, detail: describe(code, path, isDirectory: true))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw LMDBError(.notADirectory, operation: operation, detail: "\(path) is a file; a store is a directory holding data.mdb and lock.mdb")
        }
        // LMDB opens lock.mdb itself; anything but a regular file there (a named pipe, a
        // directory) would fail inside it with a bare errno ("Illegal seek").
        let lockPath = path + "/lock.mdb"
        if stat(lockPath, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            throw LMDBError(.invalid, operation: operation,
                            detail: "\(lockPath) is not a regular file; remove it (LMDB makes a new one: it holds no data)")
        }
        let dataPath = path + "/data.mdb"
        if stat(dataPath, &info) != 0 {
            let code = errno
            if code == ENOENT && !readOnly {
                // A link named data.mdb that points nowhere would make LMDB create its target.
                if lstat(dataPath, &info) == 0 {
                    throw LMDBError(.noSuchFile, operation: operation, detail: "\(dataPath) is a symbolic link to a file that does not exist; remove it or point it at the store's data file")
                }
                return
            }
            throw LMDBError(LMDBError.Code(rawValue: code), operation: operation, detail: describe(code, dataPath, isDirectory: false))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            let what = info.st_mode & S_IFMT == S_IFDIR ? "a directory" : "not a regular file"
            throw LMDBError(.invalid, operation: operation, detail: "\(dataPath) is \(what); it must be the store's data file")
        }
        if access(dataPath, readOnly ? R_OK : R_OK | W_OK) != 0 {
            let code = errno
            throw LMDBError(LMDBError.Code(rawValue: code), operation: operation, detail: describe(code, dataPath, isDirectory: false))
        }
        let size = Int(info.st_size)
        if size == 0 {
            // Nothing in it to lose: a read-write open makes it a new, empty store (LMDB's own
            // behaviour); a read-only open has nothing to read.
            if readOnly {
                throw LMDBError(.invalid, operation: operation, detail: "\(dataPath) is empty (0 bytes): it holds no store; open it writable to start a new one there, or restore the file from a backup")
            }
            return
        }
        let fd = open(dataPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw LMDBError(LMDBError.Code(rawValue: code), operation: operation, detail: describe(code, dataPath, isDirectory: false))
        }
        defer { close(fd) }
        guard let first = readMeta(fd, offset: 0) else {
            throw LMDBError(.invalid, operation: operation, detail: "\(dataPath) (\(size) bytes) exists but is not an LMDB data file (no LMDB meta page at its start), or its first page is damaged")
        }
        let second = readMeta(fd, offset: first.pageSize)
        let current = second.map { $0.transactionID > first.transactionID ? $0 : first } ?? first
        let (pages, pagesOverflow) = current.lastPage.addingReportingOverflow(1)
        let (needed, bytesOverflow) = pages.multipliedReportingOverflow(by: UInt64(current.pageSize))
        guard !pagesOverflow, !bytesOverflow, needed <= UInt64(Int.max) else {
            throw LMDBError(.corrupted, operation: operation, detail: "\(dataPath): its meta page records an impossible last page (\(current.lastPage)); restore from a backup")
        }
        let minimum = max(Int(needed), 2 * current.pageSize)
        // The size as of now, after the meta pages were read: a writer in another process grows
        // the file with a commit's pages before it writes the meta page that names them, so the
        // size taken before reading could predate a meta page read since and look truncated.
        let sizeNow = fstat(fd, &info) == 0 ? Int(info.st_size) : size
        if sizeNow < minimum {
            throw LMDBError(.corrupted, operation: operation,
                            detail: "\(dataPath) is \(sizeNow) bytes but its meta page needs \(minimum): truncated or still being copied; wait for the copy to finish, or restore from a backup")
        }
    }

    /// The meta page at `offset`, or `nil` when it cannot be read or lacks LMDB's magic.
    static func readMeta(_ fd: Int32, offset: Int) -> Meta? {
        var page = [UInt8](repeating: 0, count: 152)
        let count = page.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard count == page.count else { return nil }
        return meta(page)
    }

    /// What the meta page whose bytes `page` starts with says, or `nil` when it lacks LMDB's magic
    /// or is too short.
    static func meta(_ page: some Collection<UInt8>) -> Meta? {
        let page = Array(page.prefix(152))
        guard page.count == 152 else { return nil }
        func word<T: FixedWidthInteger>(_ at: Int, as: T.Type) -> T {
            page.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: T.self) }
        }
        guard word(pageHeaderSize, as: UInt32.self) == magic else { return nil }
        let pageSize = Int(word(40, as: UInt32.self))
        // LMDB's page sizes are powers of two from 512 bytes to 64 KiB.
        guard pageSize >= 512, pageSize <= 65_536, pageSize & (pageSize - 1) == 0 else { return nil }
        return Meta(pageSize: pageSize, lastPage: word(136, as: UInt64.self), transactionID: word(144, as: UInt64.self))
    }

    /// What `errno` means for `path`, in words, with the next step.
    static func describe(_ code: Int32, _ path: String, isDirectory: Bool) -> String {
        switch code {
        case ENOENT: isDirectory ? "\(path) does not exist: there is no store there" : "\(path) does not exist: the directory holds no store"
        case EACCES, EPERM: "permission denied on \(path) (or a directory above it): check its owner and mode, or run as the store's owner"
        case ELOOP: "\(path) goes through a loop of symbolic links"
        case ENOTDIR: "a part of \(path) is not a directory"
        case ENAMETOOLONG: "\(path) is too long a path"
        default: "\(path): \(String(cString: strerror(code)))"
        }
    }
}
