import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes text to standard output in large chunks, or to a file.
final class OutputStream {
    private let handle: FileHandle
    private var buffer = Data()

    /// Standard output, or a new file at `path` with mode 0600 (a dump holds the records): an
    /// existing file is refused unless `replace`, which empties it and sets its mode to 0600.
    init(path: String?, replace: Bool = false) throws {
        if let path {
            let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL)
            let fd = open(path, flags, 0o600)
            guard fd >= 0 else {
                let code = errno
                if code == EEXIST { throw Refusal("\(path) already exists; pass --force to overwrite it") }
                throw Refusal("cannot create \(path): \(String(cString: strerror(code)))")
            }
            fchmod(fd, 0o600)
            handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        } else {
            handle = FileHandle.standardOutput
        }
    }

    func write(line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        handle.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
