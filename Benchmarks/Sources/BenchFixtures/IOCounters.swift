import Foundation

/// The process's I/O so far (`/proc/self/io`): the bytes its write system calls passed to the
/// kernel (`wchar`) and how many calls there were (`syscw`). `nil` where the file does not exist
/// (not Linux).
///
/// Not `write_bytes`: the kernel adds to it the whole page-cache folio a write first dirties, and
/// on Linux 6.18's ext4 a file read or copied in large chunks is cached in folios of up to 2 MiB —
/// measured here, a 4 KiB `pwrite` into such a file added 532 KiB to `write_bytes` while the disk
/// took 4 KiB (`Docs/benchmarks.md`). The fixtures are copied for every run, so `write_bytes`
/// said more about the copy than about the engine.
public struct IOCounters {
    /// Bytes the process's write calls handed the kernel (`wchar`).
    public var writeBytes: Int
    /// Write calls made (`syscw`).
    public var writeCalls: Int

    /// The counters now, or `nil` where `/proc/self/io` cannot be read.
    public static func read() -> IOCounters? {
        guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) else { return nil }
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":")
            if parts.count == 2, let value = Int(parts[1].trimmingCharacters(in: .whitespaces)) { fields[String(parts[0])] = value }
        }
        return IOCounters(writeBytes: fields["wchar"] ?? 0, writeCalls: fields["syscw"] ?? 0)
    }
}
