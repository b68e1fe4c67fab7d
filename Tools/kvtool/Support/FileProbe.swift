import Foundation
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
        case EISDIR: "\(path) is a directory, not a file"
        default: "\(path): \(String(cString: strerror(code)))"
        }
    }

    /// The whole contents of the file at `path`, read to its end — a regular file, a pipe
    /// (`<(gunzip -c dump.gz)`), a character device such as `/dev/null` — or a `Refusal` that
    /// says why it cannot be read (missing, a directory, permissions).
    static func contents(of path: String) throws -> Data {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Refusal(describe(errno, path: path)) }
        defer { close(descriptor) }
        return try contents(of: descriptor, path: path)
    }

    /// Everything standard input holds, to its end. A standard input that cannot be read — a
    /// directory, a closed descriptor — is a ``Refusal`` where `FileHandle.readDataToEndOfFile()`
    /// trapped.
    static func standardInput() throws -> Data {
        try contents(of: STDIN_FILENO, path: "standard input")
    }

    /// What the open `descriptor` (named `path` in an error) holds from where it stands to its end.
    private static func contents(of descriptor: Int32, path: String) throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return data }
            if count < 0 {
                if errno == EINTR { continue }
                throw Refusal(describe(errno, path: path))
            }
            data.append(contentsOf: buffer[0..<count])
        }
    }
}
