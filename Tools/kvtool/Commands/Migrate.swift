import TimelineLMDB
import TimelineDocumentStore
import ArgumentParser
import Foundation
import Timeline

/// `kvtool migrate`: brings a timeline's records up to this kvtool's record versions.
struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Migrate a timeline's records to the current record versions.",
        discussion: """
            Takes a compact backup next to the store first (PATH.backup-<collection>-v<version>) \
            unless --no-backup, then rewrites old records in batches, each its own transaction, \
            so an interrupted run continues where it stopped when started again. --dry-run only \
            shows how many records of which versions would change. See Docs/migrations.md.

            Examples:
              kvtool migrate /var/lib/chat/timeline --dry-run
              kvtool migrate /var/lib/chat/timeline
            """
    )

    @OptionGroup var store: ExistingStore

    @Flag(help: "Show what would change; write nothing.")
    var dryRun = false

    @Flag(help: "Do not take a backup first.")
    var noBackup = false


    func run() throws {
        try StoreFiles.requireSoundPages(store.path)
        let timeline = try TimelineStore(path: store.path, configuration: .init(readOnly: dryRun), migrationPolicy: .lazy)
        let plan = try MigrationRunner(store: timeline.store).plan()
        for entry in plan {
            let versions = entry.recordsByVersion.sorted { $0.key < $1.key }.map { "v\($0.key): \($0.value)" }.joined(separator: ", ")
            let state = entry.inProgress ? "interrupted run to resume" : entry.needsMigration ? "needs migration" : "up to date"
            print("\(entry.collection): v\(entry.storedVersion) → v\(entry.currentVersion), \(state); records \(versions.isEmpty ? "none" : versions)")
        }
        guard !dryRun else { return }
        guard plan.contains(where: \.needsMigration) else {
            print("nothing to migrate")
            return
        }
        let bars = BarByCollection()
        let runner = MigrationRunner(store: timeline.store, backup: !noBackup) { progress in bars.update(progress) }
        let reports = try runner.run()
        bars.finish()
        for report in reports {
            let backup = report.backupPath.map { "; backup at \($0)" } ?? ""
            print("\(report.collection): v\(report.fromVersion) → v\(report.toVersion), \(report.rewritten) of \(report.walked) records rewritten in \(String(format: "%.1f", report.seconds)) s\(backup)")
        }
    }
}

/// One progress bar per collection being migrated.
private final class BarByCollection: @unchecked Sendable {
    private var current: (name: String, bar: ProgressBar)?

    func update(_ progress: MigrationProgress) {
        if current?.name != progress.collection {
            current?.bar.finish()
            current = (progress.collection, ProgressBar("migrate \(progress.collection)", total: progress.total))
        }
        current?.bar.update(progress.done)
    }

    func finish() { current?.bar.finish() }
}
