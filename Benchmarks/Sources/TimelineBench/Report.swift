import Foundation

/// The results of a run as a table on the terminal, `results.json`, `results.csv` and SVG charts.
struct Report {
    let options: TimelineBench.Options
    let results: [Measurement]
    let settings: [String: [String: String]]
    let started: Date

    static let ours = "TimelineStore"
    static let limit = "raw LMDB (limit)"
    static func isSQLite(_ backend: String) -> Bool { backend.hasPrefix("SQLite") }

    /// The figure a row compares: throughput where there is one (higher is better), else the p50
    /// latency or the value (lower is better).
    static func figure(_ measurement: Measurement) -> (value: Double, higherIsBetter: Bool) {
        if let perSecond = measurement.perSecond { return (perSecond, true) }
        return (measurement.p50 ?? measurement.value ?? .nan, false)
    }

    /// How many times better TimelineStore is than `other` (> 1: better).
    static func advantage(_ ours: Measurement, over other: Measurement) -> Double {
        let (a, higher) = figure(ours), (b, _) = figure(other)
        return higher ? a / b : b / a
    }

    var mainSize: Int { options.growth.last ?? options.turns }

    /// Workloads of the main size, in the order they were run.
    var workloads: [String] {
        results.filter { $0.size == mainSize }.map(\.workload).uniqued()
    }

    var backends: [String] { results.map(\.backend).uniqued() }

    func measurement(_ workload: String, _ backend: String, size: Int? = nil) -> Measurement? {
        results.first { $0.workload == workload && $0.backend == backend && $0.size == (size ?? mainSize) }
    }

    /// The target a workload is held to, and whether `backend` (TimelineStore, or it with the
    /// write-ahead log) meets it: ahead of the best SQLite everywhere (≥ 5× for 16 concurrent
    /// writers, ≥ 10× for 64), reads within 3× of raw LMDB.
    func verdict(_ workload: String, for backend: String = Report.ours) -> String {
        guard let ours = measurement(workload, backend) else { return "" }
        let sqlite = backends.filter(Self.isSQLite).compactMap { measurement(workload, $0) }
        var checks: [String] = []
        if let best = sqlite.min(by: { Self.advantage(ours, over: $0) < Self.advantage(ours, over: $1) }) {
            let needed = workload == "concurrent durable appends, 16 writers" ? 5.0 : workload == "concurrent durable appends, 64 writers" ? 10.0 : 1.0
            let ratio = Self.advantage(ours, over: best)
            checks.append((ratio >= needed ? "✓" : "✗") + " \(format(ratio))× best SQLite" + (needed > 1 ? " (≥ \(Int(needed))×)" : ""))
        }
        if workload.hasPrefix("load") || workload.hasPrefix("read") || workload.hasPrefix("list") || workload.hasPrefix("point"),
           let limit = measurement(workload, Self.limit) {
            let ratio = 1 / Self.advantage(ours, over: limit)
            checks.append((ratio <= 3 ? "✓" : "✗") + " \(format(ratio))× the limit (≤ 3×)")
        }
        return checks.joined(separator: "; ")
    }

    func format(_ value: Double) -> String {
        if value.isNaN { return "—" }
        if value >= 100 { return String(format: "%.0f", value) }
        if value >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    func cell(_ measurement: Measurement?) -> String {
        guard let measurement else { return "—" }
        if let perSecond = measurement.perSecond { return "\(format(perSecond)) \(measurement.unit)" }
        if let p50 = measurement.p50 { return "\(format(p50)) µs (p99 \(format(measurement.p99 ?? .nan)))" }
        return "\(format(measurement.value ?? .nan)) \(measurement.unit)"
    }

    /// The terminal table: one row per workload, one column per backend, then the verdict.
    func table() -> String {
        var lines = ["", "timeline-bench, \(mainSize) turns — p50 (p99) per operation, or throughput;",
                     "[r×] beside a peer: TimelineStore's advantage over it (> 1: TimelineStore is faster or smaller)", ""]
        let withLog = backends.contains(TimelineStoreBackend.withLogName)
        let header = ["workload"] + backends + ["target"] + (withLog ? ["target, write-ahead log"] : [])
        var rows: [[String]] = [header]
        for workload in workloads {
            let ours = measurement(workload, Self.ours)
            rows.append([workload] + backends.map { backend in
                let theirs = measurement(workload, backend)
                guard backend != Self.ours, let ours, let theirs else { return cell(theirs) }
                return cell(theirs) + " [\(format(Self.advantage(ours, over: theirs)))×]"
            } + [verdict(workload)] + (withLog ? [verdict(workload, for: TimelineStoreBackend.withLogName)] : []))
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        let growth = options.growth
        if growth.count > 1 {
            lines.append("")
            lines.append("growth (p50, µs) at " + growth.map(String.init).joined(separator: " / ") + " turns")
            for workload in [Workloads.append, Workloads.latest, Workloads.listTwenty] {
                for backend in backends {
                    let values = growth.map { measurement(workload, backend, size: $0)?.p50 ?? .nan }
                    let flatness = values.last! / values.first!
                    lines.append("  \(workload), \(backend): " + values.map(format).joined(separator: " / ")
                                 + "  (\(format(flatness))× \(flatness <= 1.2 ? "✓" : "✗") flat ≤ 1.2×)")
                }
            }
        }
        let mismatches = answerMismatches()
        lines.append("")
        lines.append(mismatches.isEmpty ? "every backend gave the same answers to the same reads" : "ANSWERS DIFFER: " + mismatches.joined(separator: "; "))
        let weak = weakDurability()
        lines.append(weak.isEmpty ? "every backend's commits were durable as read back from the engine" : "NOT DURABLE: " + weak.joined(separator: "; "))
        lines.append("results in \(options.output)/ (results.json, results.csv, charts)")
        return lines.joined(separator: "\n")
    }

    /// Backends whose commits were not fully durable as read back (LMDB neither `durable` nor
    /// `writeAheadLog`, SQLite not
    /// `synchronous = FULL` on its writer): their write figures would compare unequal things.
    func weakDurability() -> [String] {
        settings.sorted { $0.key < $1.key }.compactMap { backend, values in
            if let durability = values["durability"], durability != "durable", durability != "writeAheadLog" { return "\(backend) ran with durability \(durability)" }
            if let synchronous = values["synchronous (writer)"], synchronous != "FULL" { return "\(backend) ran with synchronous = \(synchronous) on its writer" }
            return nil
        }
    }

    /// Workloads some backend has no finite figure for.
    func missingFigures() -> [String] {
        results.map { "\($0.size) \($0.workload)" }.uniqued().flatMap { key in
            backends.compactMap { backend in
                guard let m = results.first(where: { "\($0.size) \($0.workload)" == key && $0.backend == backend }) else { return "\(key): no figure from \(backend)" }
                return Self.figure(m).value.isFinite ? nil : "\(key): no figure from \(backend)"
            }
        }
    }

    /// Read workloads whose backends read different amounts of content: a backend read the wrong data.
    func answerMismatches() -> [String] {
        results.filter { $0.answer != nil }.map { "\($0.size) \($0.workload)" }.uniqued().compactMap { key in
            let answers = Set(results.filter { "\($0.size) \($0.workload)" == key }.compactMap(\.answer))
            return answers.count > 1 ? key : nil
        }
    }

    // MARK: Files

    struct Document: Codable {
        var started: String
        var seconds: Double
        var turns: Int
        var quick: Bool
        var seed: UInt64
        var machine: [String: String]
        var settings: [String: [String: String]]
        var results: [Measurement]
    }

    static func machine() -> [String: String] {
        var info: [String: String] = ["cores": "\(ProcessInfo.processInfo.activeProcessorCount)",
                                      "memory": "\(ProcessInfo.processInfo.physicalMemory / 1_048_576) MiB",
                                      "os": ProcessInfo.processInfo.operatingSystemVersionString]
        if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let model = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") })?.split(separator: ":").last {
            info["cpu"] = model.trimmingCharacters(in: .whitespaces)
        }
        #if DEBUG
        info["build"] = "debug"
        #else
        info["build"] = "release"
        #endif
        return info
    }

    func write() throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: options.output, withIntermediateDirectories: true)
        let document = Document(started: ISO8601DateFormatter().string(from: started), seconds: Date().timeIntervalSince(started),
                                turns: mainSize, quick: options.quick, seed: options.seed, machine: Self.machine(),
                                settings: settings, results: results)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(document).write(to: URL(fileURLWithPath: options.output + "/results.json"))
        var csv = "size,workload,backend,p50_us,p99_us,mean_us,per_second,value,unit,operations\n"
        for m in results {
            let fields: [String] = ["\(m.size)", "\"\(m.workload)\"", "\"\(m.backend)\"", m.p50.map { "\($0)" } ?? "", m.p99.map { "\($0)" } ?? "",
                                    m.mean.map { "\($0)" } ?? "", m.perSecond.map { "\($0)" } ?? "", m.value.map { "\($0)" } ?? "", m.unit, "\(m.operations)"]
            csv += fields.joined(separator: ",") + "\n"
        }
        try csv.write(toFile: options.output + "/results.csv", atomically: true, encoding: .utf8)
        try Chart.latency(self).write(toFile: options.output + "/latency.svg", atomically: true, encoding: .utf8)
        try Chart.writers(self).write(toFile: options.output + "/writers.svg", atomically: true, encoding: .utf8)
        try Chart.growth(self).write(toFile: options.output + "/growth.svg", atomically: true, encoding: .utf8)
    }
}
