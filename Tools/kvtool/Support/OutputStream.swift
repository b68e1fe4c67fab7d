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
    /// What the output is, for an error: "standard output" or the file's path.
    private let name: String

    /// Standard output, or a new file at `path` with mode 0600 (a dump holds the records): an
    /// existing file is refused unless `replace`, which empties it and sets its mode to 0600.
    /// A file of a store — `store`'s own, by any name or link, or a `data.mdb`, `lock.mdb` or
    /// `data.wal` in any directory holding a store — is refused even with `replace`.
    init(path: String?, replace: Bool = false, store: String) throws {
        if let path {
            if let owner = Self.storeOwning(path, store: store) {
                throw Refusal("\(path) is a file of the store at \(owner); writing there would destroy the store. Choose a file outside it")
            }
            let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL)
            let fd = open(path, flags, 0o600)
            guard fd >= 0 else {
                let code = errno
                if code == EEXIST { throw Refusal("\(path) already exists; pass --force to overwrite it") }
                throw Refusal("cannot create \(path): \(String(cString: strerror(code)))")
            }
            fchmod(fd, 0o600)
            handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            name = path
        } else {
            handle = FileHandle.standardOutput
            name = "standard output"
        }
    }

    /// The names of a store's own files, which an output never replaces.
    private static let storeFileNames = ["data.mdb", "lock.mdb", "data.wal"]

    /// The store directory that `path` (followed through links) is one of the files of, or nil.
    private static func storeOwning(_ path: String, store: String) -> String? {
        // The same file as one of `store`'s, whatever its name (a hard link, say).
        var target = stat()
        if stat(path, &target) == 0 {
            for name in storeFileNames {
                var file = stat()
                if stat(store + "/" + name, &file) == 0, file.st_dev == target.st_dev, file.st_ino == target.st_ino { return store }
            }
        }
        // A store file's name in a directory that holds a store: the file itself when it exists
        // (links resolved), else where it would be created.
        let url = URL(fileURLWithPath: path)
        let resolved = FileProbe.exists(path) ? url.resolvingSymlinksInPath() : url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent)
        let directory = resolved.deletingLastPathComponent().path
        guard storeFileNames.contains(resolved.lastPathComponent), FileProbe.exists(directory + "/data.mdb") else { return nil }
        return directory
    }

    func write(line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes what is buffered. A failed write (a full disk) is a ``Refusal`` naming the output;
    /// `FileHandle.write(_:)`, used before, trapped on it.
    func flush() throws {
        if let code = buffer.withUnsafeBytes({ writeAll(handle.fileDescriptor, $0) }) {
            throw Refusal("cannot write to \(name): \(String(cString: strerror(code))); what was written is incomplete")
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
