#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What kvtool says when LMDB faults on a damaged page.
///
/// LMDB keeps no checksums and trusts its pages: damage inside one can lead it to read outside
/// the file, and the kernel stops the process with SIGBUS (or SIGSEGV). `check`, `dump`, `load`,
/// `migrate` and `backup --compact` walk every page first (`Environment.verifyPages`) and refuse
/// a damaged store without touching it through LMDB; the quick commands (`stat`, `sessions`,
/// `turns`, `get`) do not, so that they stay fast on large stores. If one of them meets damage,
/// this handler says so and exits with status 3 instead of dying with a signal. (A fault from a
/// bug in kvtool itself would be reported the same way; `kvtool check` then finds no damage.)
enum FaultReport {
    /// The message, built before any fault: a signal handler may only call `write` and `_exit`.
    nonisolated(unsafe) private static var message: [UInt8] = []

    static func install() {
        message = Array("kvtool: stopped by a memory fault while reading the store; the likely cause is a damaged data file (a damaged page can lead LMDB outside the file). Nothing was written. Run `kvtool check` on the store for a report of the damage, and restore from a backup.\n".utf8)
        for sig in [SIGBUS, SIGSEGV] {
            signal(sig) { _ in
                FaultReport.message.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
                _exit(3)
            }
        }
    }
}
