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
