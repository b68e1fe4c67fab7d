import Foundation

/// One figure of one workload on one backend.
struct Measurement: Codable {
    var size: Int
    var workload: String
    var backend: String
    /// Latency percentiles in microseconds, for workloads timed per operation.
    var p50: Double?
    var p99: Double?
    var mean: Double?
    var operations: Int
    /// Throughput (operations per second), for the import and the concurrent writers.
    var perSecond: Double?
    /// Anything else measured: bytes per turn, RSS, bytes written per append…
    var value: Double?
    var unit: String
    /// The backend's answer (content bytes read): equal across backends for the same query.
    var answer: Int?
}

/// Nanoseconds of a monotonic clock.
@inline(__always)
func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Runs `body` `count` times and returns the latencies in microseconds, sorted.
func latencies(_ count: Int, _ body: (Int) throws -> Void) rethrows -> [Double] {
    var samples: [Double] = []
    samples.reserveCapacity(count)
    for index in 0..<count {
        let start = now()
        try body(index)
        samples.append(Double(now() - start) / 1_000)
    }
    return samples.sorted()
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

/// The process's I/O so far (`/proc/self/io`): the bytes its write system calls passed to the
/// kernel (`wchar`) and how many calls there were (`syscw`). `nil` where the file does not exist
/// (not Linux).
///
/// Not `write_bytes`: the kernel adds to it the whole page-cache folio a write first dirties, and
/// on Linux 6.18's ext4 a file read or copied in large chunks is cached in folios of up to 2 MiB —
/// measured here, a 4 KiB `pwrite` into such a file added 532 KiB to `write_bytes` while the disk
/// took 4 KiB (`Docs/benchmarks.md`). The fixtures are copied for every run, so `write_bytes`
/// said more about the copy than about the engine.
struct IOCounters {
    var writeBytes: Int
    var writeCalls: Int

    static func read() -> IOCounters? {
        guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) else { return nil }
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":")
            if parts.count == 2, let value = Int(parts[1].trimmingCharacters(in: .whitespaces)) { fields[String(parts[0])] = value }
        }
        return IOCounters(writeBytes: fields["wchar"] ?? 0, writeCalls: fields["syscw"] ?? 0)
    }
}

/// The CPU time this process has used so far, user and system, every thread (`getrusage`), in
/// seconds: what a workload costs in CPU, the backend's own threads (a writer, a checkpoint
/// thread) included.
func processCPUSeconds() -> Double {
    var usage = rusage()
    guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return .nan }
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Peak resident memory since the last ``resetPeakRSS()``, in bytes (`VmHWM`), on Linux.
func peakRSS() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return nil }
    return kilobytes * 1024
}

/// Starts a new peak-RSS window (writing 5 to `/proc/self/clear_refs`).
func resetPeakRSS() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}
