import Foundation
import TimelineLMDB

/// Where the bytes of the LMDB-based stores of the main fixture go, database by database:
/// bytes per turn, how full the leaf pages are, and what the overflow pages leave empty
/// (`Database.spaceUsage`). Read from the kept stores, read-only; written to `space.json`.
enum SpaceBench {
    struct Figure: Codable {
        var backend: String, database: String, entries: Int, pages: Int, bytesPerTurn: Double
        var keyAndValueBytesPerTurn: Double, leafFill: Double, overflowValues: Int, overflowUnusedBytesPerTurn: Double
    }

    static func run(_ options: TimelineBench.Options) throws -> [String] {
        let fixture = Fixture(turns: options.growth.last ?? options.turns, seed: options.seed)
        let turns = Double(fixture.turnCount)
        var figures: [Figure] = [], lines: [String] = []
        for (name, slug) in [("TimelineStore", "timelinestore"), ("raw LMDB (limit)", "raw-lmdb")] where options.only?.contains(slug) ?? true {
            let env = try Environment(path: TimelineBench.keptStore(slug: slug, fixture: fixture, options: options),
                                      configuration: .init(readOnly: true))
            var total = 0
            for database in try env.databaseNames() {
                let db = try env.openDatabase(database, create: false)
                let usage = try env.read { txn in try db.spaceUsage(in: txn) }
                let s = usage.statistics
                let pages = s.branchPages + s.leafPages + s.overflowPages
                total += pages * s.pageSize
                let figure = Figure(backend: name, database: database, entries: s.entries, pages: pages,
                                    bytesPerTurn: Double(pages * s.pageSize) / turns,
                                    keyAndValueBytesPerTurn: Double(usage.keyBytes + usage.inlineValueBytes + usage.overflowValueBytes) / turns,
                                    leafFill: usage.leafFill, overflowValues: usage.overflowValues,
                                    overflowUnusedBytesPerTurn: Double(usage.overflowBytesUnused) / turns)
                figures.append(figure)
                guard figure.bytesPerTurn >= 1 else { continue }   // the small databases: meta, checkpoints…
                lines.append("\(name) — \(database): " + String(format: "%.0f B/turn in pages (keys and values %.0f B/turn), leaf fill %.1f %%, %d overflow values leaving %.0f B/turn unused",
                                    figure.bytesPerTurn, figure.keyAndValueBytesPerTurn, figure.leafFill * 100,
                                    figure.overflowValues, figure.overflowUnusedBytesPerTurn))
            }
            lines.append("\(name) — all databases: " + String(format: "%.0f B/turn in pages", Double(total) / turns))
        }
        try JSONEncoder().encode(figures).write(to: URL(fileURLWithPath: options.output + "/space.json"))
        return lines
    }
}
