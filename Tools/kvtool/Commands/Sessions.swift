import ArgumentParser
import Foundation
import Timeline

/// `kvtool sessions`: the most recently active sessions.
struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List sessions, most recently active first.",
        discussion: """
            Examples:
              kvtool sessions /var/lib/chat/timeline --project billing --limit 20
              kvtool sessions /var/lib/chat/timeline --archived --json
            """
    )

    @OptionGroup var store: ExistingStore

    @Option(help: ArgumentHelp("Only sessions of this project.", valueName: "project"))
    var project: String?

    @Flag(help: "List archived sessions instead.")
    var archived = false

    @Option(parsing: .unconditional, help: ArgumentHelp("At most this many sessions.", valueName: "count"))
    var limit = 50

    @OptionGroup var output: OutputFormat

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must not be negative") }
    }

    func run() throws {
        let timeline = try TimelineStore(path: store.path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
        let page = try timeline.read { txn in
            try txn.listSessions(filter: SessionFilter(project: project, archived: archived), limit: limit)
        }
        if output.json {
            for session in page.items { print(try JSONOutput.line(session)) }
            return
        }
        print(Table.row(["SESSION", "LAST ACTIVITY", "TURNS", "PROJECT", "TITLE"], widths: [36, 16, 6, 12]))
        for session in page.items {
            let fork = session.parentID.map { "  (fork of \($0.uuidString.prefix(8)) at \(session.branchPoint ?? 0))" } ?? ""
            print(Table.row([session.id.uuidString, Table.time(session.lastActivity), String(session.turnCount),
                             session.project ?? "-", session.title + fork], widths: [36, 16, 6, 12]))
        }
        if page.next != nil { print("… more: raise --limit") }
    }
}

/// Plain-text tables for people.
enum Table {
    /// `columns` padded to `widths` (the last column is not padded), two spaces apart.
    static func row(_ columns: [String], widths: [Int]) -> String {
        zip(columns, widths + [0]).map { text, width in text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }

    /// `2026-11-22 01:05` in UTC; `(bad date)` for a NaN or far-out one (a damaged record).
    static func time(_ date: Date) -> String {
        guard let text = Timestamp.format(date) else { return "(bad date)" }
        return String(text.replacingOccurrences(of: "T", with: " ").prefix(16))
    }
}
