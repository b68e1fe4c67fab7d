import ArgumentParser
import Foundation
import Timeline

/// `kvtool check`: reads a whole timeline and reports every inconsistency.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a timeline: records decode, indexes match, turns are gapless, forks have parents.",
        discussion: """
            Reads everything from one snapshot (read-only; safe on a live store). First every \
            page of the data file is checked for structural damage, without LMDB; a store with \
            damaged pages is reported page by page and its records are not read. Then every record \
            must decode; every index entry must point at a record with that value and every \
            record must have its entries; each session's turns must run without gaps; a fork's \
            parent must exist; turns, checkpoints and crystals must belong to existing sessions. \
            Exits 0 when clean, 1 with one line per problem (or a JSON array with --json).

            Examples:
              kvtool check /var/lib/chat/timeline
              kvtool check /var/lib/chat/timeline --json | jq '.[].kind'
            """
    )

    @OptionGroup var store: ExistingStore

    @OptionGroup var output: OutputFormat


    func run() throws {
        // Pages first, without LMDB: records are read through LMDB, which faults on a damaged page.
        let pages = try StoreFiles.pageProblems(store.path).map {
            TimelineProblem(kind: "damagedPage", location: "data.mdb page \($0.page)", detail: "\($0.database): \($0.detail)")
        }
        if !pages.isEmpty {
            if output.json {
                print(try JSONOutput.document(pages))
            } else {
                for problem in pages { print(problem) }
                print("\(pages.count) damaged page\(pages.count == 1 ? "" : "s") found; records were not read. Restore from a backup.")
            }
            throw ExitCode(1)
        }
        let timeline = try TimelineStore(path: store.path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
        let statistics = try timeline.statistics()
        let bar = ProgressBar("check", total: statistics.sessions + statistics.turns + statistics.checkpoints + statistics.crystals)
        var offset = (name: "", base: 0, last: 0)
        let problems = try timeline.check { name, done in
            if name != offset.name { offset = (name, offset.base + offset.last, 0) }
            offset.last = done
            bar.update(offset.base + done)
        }
        bar.finish()
        if output.json {
            print(try JSONOutput.document(problems))
        } else if problems.isEmpty {
            print("\(store.path): consistent (\(statistics.sessions) sessions, \(statistics.turns) turns, \(statistics.checkpoints) checkpoints, \(statistics.crystals) crystals)")
        } else {
            for problem in problems { print(problem) }
            print("\(problems.count) problem\(problems.count == 1 ? "" : "s") found")
        }
        if !problems.isEmpty { throw ExitCode(1) }
    }
}
