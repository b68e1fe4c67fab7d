internal import CTimelineLMDB

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

// Every LMDB return code is turned into a Swift error here, so the mapping happens once.

/// Throws an ``LMDBError`` for a non-zero LMDB return code.
/// - Parameters:
///   - rc: the value an `mdb_*` function returned.
///   - operation: what was being done, built only when there is an error.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LMDBError) {
    if rc != 0 { throw LMDBError(LMDBError.Code(rawValue: rc), operation: operation()) }
}

/// Like ``check(_:_:)`` for a call that writes: a full map is also recorded on the environment,
/// so that ``Environment/write(_:)`` grows the map and retries even if the caller catches the error.
@inline(__always)
func checkWrite(
    _ rc: Int32, _ environment: Unmanaged<Environment>, _ operation: @autoclosure () -> String
) throws(LMDBError) {
    if rc == 0 { return }
    if rc == MDB_MAP_FULL { environment.takeUnretainedValue().noteWriteFailure(.mapFull) }
    try check(rc, operation())
}

/// `"database \"name\""`, or `"the main database"` for the unnamed one: used in error contexts.
func describe(database name: String?) -> String {
    name.map { "database \"\($0)\"" } ?? "the main database"
}

extension MDB_val {
    /// A value describing `buffer`'s bytes (no copy; LMDB only reads through it).
    @inline(__always)
    init(_ buffer: UnsafeRawBufferPointer) {
        self.init(mv_size: buffer.count, mv_data: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
    }

    /// The bytes this value points at: inside the memory map when LMDB filled it in.
    @inline(__always)
    var buffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mv_data, count: mv_size)
    }
}

/// `mkdir -p`: creates `path` and any missing parents with `mode`.
func makeDirectories(_ path: String, mode: UInt32) throws(LMDBError) {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/") {
        prefix += component
        if mkdir(prefix, mode_t(mode)) != 0 && errno != EEXIST {
            throw LMDBError(LMDBError.Code(rawValue: errno), operation: "create directory \(prefix)")
        }
        prefix += "/"
    }
}

/// `close(2)`, where a method named `close` would shadow it.
func closeDescriptor(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(fd)
    #else
    Darwin.close(fd)
    #endif
}

/// Bytes an unprivileged writer may still use on the file system holding `path` (`statvfs`).
func availableBytes(onFileSystemOf path: String) -> Int? {
    var info = statvfs()
    guard statvfs(path, &info) == 0 else { return nil }
    return Int(info.f_bavail) &* Int(info.f_frsize)
}
