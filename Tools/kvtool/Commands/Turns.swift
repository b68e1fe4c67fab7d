import ArgumentParser
import Foundation
import Timeline

/// `kvtool turns`: a session's history, inherited turns included.
struct Turns: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a session's turns (a fork's inherited ones included).",
        discussion: """
            Examples:
              kvtool turns /var/lib/chat/timeline E621E1F8-C36C-495A-93FC-0C247A3E6E5F --from 100 --limit 20
              kvtool turns /var/lib/chat/timeline E621E1F8-C36C-495A-93FC-0C247A3E6E5F --json
            """
    )

    @OptionGroup var store: ExistingStore

    @Argument(help: "The session id.")
    var session: String

    @Option(parsing: .unconditional, help: ArgumentHelp("The first turn sequence to show.", valueName: "sequence"))
    var from = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("At most this many turns.", valueName: "count"))
    var limit = 50

    @OptionGroup var output: OutputFormat

    func validate() throws {
        guard UUID(uuidString: session) != nil else { throw ValidationError("\(session) is not a session id (a UUID)") }
        guard limit >= 0 else { throw ValidationError("--limit must not be negative") }
        guard from >= 0 else { throw ValidationError("--from must not be negative") }
    }

    func run() throws {
        let timeline = try TimelineStore(path: store.path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
        let id = UUID(uuidString: session)!
        let page = try timeline.read { txn in try txn.turns(of: id, range: from..<Int.max, limit: limit) }
        if output.json {
            for turn in page.items { print(try JSONOutput.line(turn)) }
            return
        }
        for turn in page.items {
            let origin = turn.sessionID == id ? "" : " (from \(turn.sessionID.uuidString.prefix(8)))"
            let tools = turn.toolCalls.isEmpty ? "" : "  [tools: \(turn.toolCalls.map(\.name).joined(separator: ", "))]"
            print("#\(turn.sequence)  \(Table.time(turn.created))  \(turn.role)\(origin): \(turn.content.prefix(100))\(tools)")
        }
        if page.next != nil { print("… more: --from \((page.items.last?.sequence ?? 0) + 1)") }
    }
}
