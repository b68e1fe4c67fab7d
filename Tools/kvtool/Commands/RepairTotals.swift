import ArgumentParser
import Foundation
import Timeline

/// `kvtool repair-totals`: sets each session's token and cost totals to its own turns' sums.
struct RepairTotals: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair-totals",
        abstract: "Set each session's token and cost totals to the sums of its own turns.",
        discussion: """
            Mends what `kvtool check` reports as totalsMismatch: in a store written \
            before 2026-11-30, a fork whose parent was deleted, or a session imported \
            from an export of a fork with its inherited turns, kept only its earlier \
            totals. Reads every turn once and rewrites the sessions whose totals differ, \
            in one transaction, each change logged as sessionUpdated (backups brought \
            up to date from the change log follow); prints their ids. A session with a \
            turn that does not read is left as it is: `kvtool check` names the turn.

            Example:
              kvtool repair-totals /var/lib/chat/timeline
            """
    )

    @OptionGroup var store: ExistingStore

    func run() throws {
        try StoreFiles.requireSoundPages(store.path)
        let timeline = try TimelineStore(path: store.path, migrationPolicy: .lazy)
        let repaired = try timeline.write { tx in try tx.repairTotals() }
        for id in repaired { print(id.uuidString) }
        print("\(repaired.count) session\(repaired.count == 1 ? "" : "s") repaired")
    }
}
