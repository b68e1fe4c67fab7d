#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Names the calling thread for the operating system — the name `top -H`, `perf`, `gdb` and
/// `/proc` show. Foundation's `Thread.name` does not reach it on Linux, where every thread of a
/// process would otherwise show the process's name (or a dispatch queue's). Linux keeps the
/// first 15 bytes; the name is written to `/proc/thread-self/comm`, as `prctl(PR_SET_NAME)`
/// (variadic, so not callable from Swift) would. Failing is harmless and silent.
package func nameCurrentThread(_ name: String) {
    #if os(Linux)
    let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    #elseif canImport(Darwin)
    _ = pthread_setname_np(name)
    #endif
}
