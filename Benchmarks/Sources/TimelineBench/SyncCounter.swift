#if canImport(Glibc)
import Glibc
import Synchronization

/// Sync calls of the whole process, counted by interposing libc's `fsync` and `fdatasync` and
/// the writes through descriptors opened `O_DSYNC`/`O_SYNC` (each such write is a sync; LMDB
/// writes its meta page that way). The executable exports these public symbols
/// (`--export-dynamic`), so liblmdb's and libsqlite3's calls reach them first; each forwards to
/// libc's.
enum SyncCounter {
    static let count = Atomic<Int>(0)
    static var syncs: Int { count.load(ordering: .relaxed) }
}

private typealias SyncFunction = @convention(c) (Int32) -> Int32
private typealias PWriteFunction = @convention(c) (Int32, UnsafeRawPointer?, Int, off_t) -> Int
/// libc's definition of `name` (`RTLD_NEXT`: the next one after this executable's).
private func libc<T>(_ name: String, as type: T.Type) -> T { unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: -1), name), to: T.self) }
nonisolated(unsafe) private let libcFsync = libc("fsync", as: SyncFunction.self)
nonisolated(unsafe) private let libcFdatasync = libc("fdatasync", as: SyncFunction.self)
nonisolated(unsafe) private let libcPwrite = libc("pwrite", as: PWriteFunction.self)

@_cdecl("fsync")
public func countedFsync(_ fd: Int32) -> Int32 {
    SyncCounter.count.add(1, ordering: .relaxed)
    return libcFsync(fd)
}

@_cdecl("fdatasync")
public func countedFdatasync(_ fd: Int32) -> Int32 {
    SyncCounter.count.add(1, ordering: .relaxed)
    return libcFdatasync(fd)
}

@_cdecl("pwrite")
public func countedPwrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int, _ offset: off_t) -> Int {
    if fcntl(fd, F_GETFL) & (O_DSYNC | O_SYNC) != 0 { SyncCounter.count.add(1, ordering: .relaxed) }
    return libcPwrite(fd, bytes, count, offset)
}
#else
/// Sync calls are counted on Linux only.
enum SyncCounter {
    static var syncs: Int { 0 }
}
#endif
