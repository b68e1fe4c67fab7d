import Foundation

/// Plain SVG charts of a report: no dependencies, readable in a browser and embeddable in Markdown.
enum Chart {
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"]

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func legend(_ names: [String], x: Double, y: Double) -> String {
        names.enumerated().map { index, name in
            let top = y + Double(index) * 18
            return "<rect x='\(x)' y='\(top)' width='12' height='12' fill='\(colors[index % colors.count])'/>"
                + "<text x='\(x + 18)' y='\(top + 10)' font-size='12'>\(escape(name))</text>"
        }.joined()
    }

    /// A logarithmic axis over `values`: whole decades around them, and where a value falls on
    /// it, from 0 to 1.
    struct LogScale {
        let low: Double, high: Double
        init(_ values: [Double]) {
            let positive = values.filter { $0 > 0 && $0.isFinite }
            low = pow(10, floor(log10(positive.min() ?? 1)))
            high = pow(10, ceil(log10(positive.max() ?? 10)))
        }
        func position(_ value: Double) -> Double { (log10(max(value, low)) - log10(low)) / max(log10(high) - log10(low), 1) }
        var decades: [Double] { Array(sequence(first: low) { $0 * 10 }.prefix { $0 <= high }) }
    }

    /// Horizontal bars, one group per workload, on a logarithmic axis.
    static func bars(title: String, unit: String, groups: [(label: String, values: [Double])], series: [String]) -> String {
        let rowHeight = 14.0, groupGap = 12.0, left = 330.0, width = 520.0
        let scale = LogScale(groups.flatMap(\.values))
        func x(_ value: Double) -> Double { left + scale.position(value) * width }
        let groupHeight = Double(series.count) * rowHeight + groupGap
        let height = 60 + Double(groups.count) * groupHeight + Double(series.count) * 18 + 30
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='\(left + width + 120)' height='\(height)' font-family='sans-serif'>"
        svg += "<text x='10' y='22' font-size='15' font-weight='bold'>\(escape(title))</text>"
        for decade in scale.decades {
            svg += "<line x1='\(x(decade))' y1='40' x2='\(x(decade))' y2='\(40 + Double(groups.count) * groupHeight)' stroke='#ddd'/>"
            svg += "<text x='\(x(decade))' y='36' font-size='10' text-anchor='middle'>\(format(decade)) \(unit)</text>"
        }
        for (index, group) in groups.enumerated() {
            let top = 44 + Double(index) * groupHeight
            svg += "<text x='\(left - 8)' y='\(top + Double(series.count) * rowHeight / 2 + 4)' font-size='11' text-anchor='end'>\(escape(group.label))</text>"
            for (position, value) in group.values.enumerated() where value.isFinite && value > 0 {
                let y = top + Double(position) * rowHeight
                svg += "<rect x='\(left)' y='\(y)' width='\(max(1, x(value) - left))' height='\(rowHeight - 2)' fill='\(colors[position % colors.count])'/>"
                svg += "<text x='\(x(value) + 4)' y='\(y + 10)' font-size='10'>\(format(value))</text>"
            }
        }
        svg += legend(series, x: left, y: 52 + Double(groups.count) * groupHeight)
        return svg + "</svg>"
    }

    /// Lines over labelled x positions, on a logarithmic y axis. With `groups` > 1, the series are
    /// `groups` runs of the same backends: a run shares a dash pattern, a backend its colour.
    static func lines(title: String, unit: String, xLabels: [String], series: [(name: String, values: [Double])], groups: Int = 1) -> String {
        let left = 80.0, top = 40.0, width = 520.0, height = 300.0
        let scale = LogScale(series.flatMap(\.values))
        func x(_ index: Int) -> Double { left + (xLabels.count == 1 ? width / 2 : Double(index) / Double(xLabels.count - 1) * width) }
        func y(_ value: Double) -> Double { top + height - scale.position(value) * height }
        let perGroup = max(1, series.count / max(groups, 1))
        let dashes = ["", "6,3", "2,3", "8,3,2,3"]
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='\(left + width + 460)' height='\(max(top + height + 60, top + Double(series.count) * 18 + 20))' font-family='sans-serif'>"
        svg += "<text x='10' y='22' font-size='15' font-weight='bold'>\(escape(title))</text>"
        for decade in scale.decades {
            svg += "<line x1='\(left)' y1='\(y(decade))' x2='\(left + width)' y2='\(y(decade))' stroke='#ddd'/>"
            svg += "<text x='\(left - 6)' y='\(y(decade) + 4)' font-size='10' text-anchor='end'>\(format(decade)) \(unit)</text>"
        }
        for (index, label) in xLabels.enumerated() {
            svg += "<text x='\(x(index))' y='\(top + height + 18)' font-size='11' text-anchor='middle'>\(escape(label))</text>"
        }
        for (position, line) in series.enumerated() {
            let points = line.values.enumerated().filter { $0.element.isFinite && $0.element > 0 }.map { "\(x($0.offset)),\(y($0.element))" }
            let color = colors[(position % perGroup) % colors.count], dash = dashes[(position / perGroup) % dashes.count]
            svg += "<polyline fill='none' stroke='\(color)' stroke-width='2' stroke-dasharray='\(dash)' points='\(points.joined(separator: " "))'/>"
            for point in points { svg += "<circle cx='\(point.split(separator: ",")[0])' cy='\(point.split(separator: ",")[1])' r='3' fill='\(color)'/>" }
        }
        for (position, line) in series.enumerated() {
            let y = top + Double(position) * 18, color = colors[(position % perGroup) % colors.count]
            svg += "<line x1='\(left + width + 20)' y1='\(y + 6)' x2='\(left + width + 44)' y2='\(y + 6)' stroke='\(color)' stroke-width='2' stroke-dasharray='\(dashes[(position / perGroup) % dashes.count])'/>"
            svg += "<text x='\(left + width + 50)' y='\(y + 10)' font-size='12'>\(escape(line.name))</text>"
        }
        return svg + "</svg>"
    }

    static func format(_ value: Double) -> String {
        value >= 1_000_000 ? "\(Int(value / 1_000_000))M" : value >= 1_000 ? "\(Int(value / 1_000))k" : value >= 1 ? "\(Int(value))" : String(format: "%.2g", value)
    }

    /// p50 latency of every per-operation workload, per backend.
    static func latency(_ report: Report) -> String {
        let timed = report.workloads.filter { workload in report.backends.contains { report.measurement(workload, $0)?.p50 != nil && report.measurement(workload, $0)?.perSecond == nil } }
        return bars(title: "p50 latency per operation, \(report.mainSize) turns (lower is better)", unit: "µs",
                    groups: timed.map { workload in (workload, report.backends.map { report.measurement(workload, $0)?.p50 ?? .nan }) },
                    series: report.backends)
    }

    /// Durable appends per second against the number of concurrent writers.
    static func writers(_ report: Report) -> String {
        let counts = [1, 4, 16, 64]
        return lines(title: "durable appends per second by concurrent writers (higher is better)", unit: "/s",
                     xLabels: counts.map { "\($0) writers" },
                     series: report.backends.map { backend in
                         (backend, counts.map { report.measurement("concurrent durable appends, \($0) writers", backend)?.perSecond ?? .nan })
                     })
    }

    /// p50 of the growth workloads against the timeline's size.
    static func growth(_ report: Report) -> String {
        let sizes = report.options.growth
        var series: [(name: String, values: [Double])] = []
        for workload in [Workloads.append, Workloads.latest, Workloads.listTwenty] {
            for backend in report.backends {
                series.append(("\(workload) — \(backend)", sizes.map { report.measurement(workload, backend, size: $0)?.p50 ?? .nan }))
            }
        }
        return lines(title: "p50 latency against the timeline's size (flat is good)", unit: "µs", xLabels: sizes.map { "\($0) turns" },
                     series: series, groups: 3)
    }
}
