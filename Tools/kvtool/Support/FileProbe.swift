#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File-system questions kvtool asks before it opens a store.
enum FileProbe {
    /// Whether something exists at `path`.
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The `errno` of looking `path` up (following links), or `nil` when it can be reached.
    static func problem(reaching path: String) -> Int32? {
        var info = stat()
        return stat(path, &info) == 0 ? nil : errno
    }

    /// What `errno` means for `path`, in words a person can act on.
    static func describe(_ code: Int32, path: String) -> String {
        switch code {
        case ENOENT: "\(path) does not exist"
        case EACCES, EPERM: "permission denied on \(path) (or a directory above it): check its owner and mode, or run as the store's owner"
        case ELOOP: "\(path) goes through a loop of symbolic links"
        case ENOTDIR: "a part of \(path) is not a directory"
        default: "\(path): \(String(cString: strerror(code)))"
        }
    }
}
