import ArgumentParser
import Foundation
import Timeline

/// `kvtool changes`: the store's change log, or a live view of it.
struct Changes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the change log: every committed change, in order (Docs/changes.md).",
        discussion: """
            One line per change: its position, time, kind and session, and what else it names \
            (turn sequences, a parent, a checkpoint, a crystal version). With --follow, keep \
            printing changes as they commit — also those another process writes, seen at once \
            on Linux (a watch on the data file), else within 20 ms — until interrupted. The \
            store is opened read-only.

            Examples:
              kvtool changes /var/lib/chat/timeline --after 1200 --limit 50
              kvtool changes /var/lib/chat/timeline --follow --json
            """
    )

    @OptionGroup var store: ExistingStore

    @Option(parsing: .unconditional, help: ArgumentHelp("Start after this position (0: from the beginning).", valueName: "position"))
    var after = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("At most this many changes (without --follow).", valueName: "count"))
    var limit = 100

    @Flag(help: "Keep printing changes as they commit, until interrupted.")
    var follow = false

    @OptionGroup var output: OutputFormat

    func validate() throws {
        guard after >= 0 else { throw ValidationError("--after must not be negative") }
        guard limit >= 0 else { throw ValidationError("--limit must not be negative") }
    }

    func run() async throws {
        let timeline = try TimelineStore(path: store.path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
        if follow {
            for try await change in timeline.followChanges(after: after) {
                try show(change)
                checkStandardOutput()   // each line as it comes, also into a pipe; stop on a write error
            }
            return
        }
        let page = try timeline.changes(after: after, limit: limit)
        for change in page { try show(change) }
        // Not with --json, whose every line is a change (as sessions and turns do).
        if !output.json, page.count == limit, let last = page.last?.position { print("… more: --after \(last)") }
    }

    private func show(_ change: Change) throws {
        if output.json {
            print(try JSONOutput.line(change))
            return
        }
        var details: [String] = []
        if let sequences = change.sequences { details.append("turns \(sequences.lowerBound)..<\(sequences.upperBound)") }
        if let parent = change.parent { details.append("parent \(parent.uuidString.prefix(8))") }
        if let checkpoint = change.checkpoint { details.append("checkpoint \(checkpoint.uuidString.prefix(8))") }
        if let number = change.number { details.append(change.kind == .crystalSaved ? "version \(number)" : "number \(number)") }
        print("#\(change.position)  \(Table.time(change.time))  \(change.kind.rawValue)  \(change.session.uuidString)"
              + (details.isEmpty ? "" : "  " + details.joined(separator: ", ")))
    }
}
