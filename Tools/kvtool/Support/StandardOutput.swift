// Only the C library here: `stdout` is a C global, which Swift 6 lets code read only from a
// module imported `@preconcurrency` (through Foundation it is refused as shared mutable state).
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// Writes all of `bytes` to `descriptor`, going on after a short write or an interruption.
/// Returns `nil`, or the `errno` of the write that failed.
func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
    var done = 0
    while done < bytes.count {
        let written = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
        if written > 0 { done += written } else if written < 0 && errno == EINTR { continue } else { return written < 0 ? errno : EIO }
    }
    return nil
}

/// Flushes standard output, and ends the process with status 1 when it could not be written — a
/// full disk, a closed descriptor — which `print` does not report: the commands that print their
/// results would otherwise exit 0 with the output lost (as GNU tools do, "write error"), and
/// `changes --follow` would go on printing into nothing.
func checkStandardOutput() {
    guard fflush(stdout) != 0 || ferror(stdout) != 0 else { return }
    let reason = String(cString: strerror(errno))
    writeStandardError("Error: cannot write to standard output: \(reason); the output is incomplete\n")
    exit(1)
}
