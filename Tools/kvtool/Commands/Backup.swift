import ArgumentParser
import Timeline
import TimelineLMDB

/// `kvtool backup`: a consistent copy of a live store.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a store, consistently, while it is in use.",
        discussion: """
            Writes a copy of the store into DEST (created if missing; it must not already hold a \
            store) from one snapshot, without stopping readers or writers (mdb_env_copy2). With \
            --compact, free pages are left out: smaller, a little slower to make. With --repack, \
            every database is rewritten in key order so that its pages come out nearly full (as \
            SQLite's VACUUM INTO does): smaller still, slower to make.

            With --update, DEST holds an earlier backup of this store instead, and it is brought up \
            to date from the store's change log: only the changes since it was made are applied, \
            in one transaction on DEST (Docs/changes.md). It is refused — and DEST left as it was — \
            when DEST is not a backup of this store, the store was migrated or loaded into since, \
            or the log no longer holds those changes; make a full backup then.

            Examples:
              kvtool backup /var/lib/chat/timeline /backups/timeline-2026-11-22 --compact
              kvtool backup /var/lib/chat/timeline /srv/timeline-repacked --repack
              kvtool backup /var/lib/chat/timeline /backups/timeline-latest --update
            """
    )

    @OptionGroup var store: ExistingStore

    @Argument(help: "The directory to write the copy into.")
    var destination: String

    @Flag(help: "Leave out free pages.")
    var compact = false

    @Flag(help: "Rewrite every database in key order, its pages nearly full.")
    var repack = false

    @Flag(help: "Bring the earlier backup in DEST up to date from the change log instead of copying everything.")
    var update = false

    func validate() throws {
        if compact && repack { throw ValidationError("--compact and --repack are two ways of copying; choose one") }
        if update {
            if repack { throw ValidationError("--repack applies to a full copy, not to --update") }
            if compact { throw ValidationError("--compact applies to a full copy, not to --update") }
            if !StoreFiles.holdsStore(destination) { throw ValidationError("\(destination) holds no store to update; make a full backup first") }
        } else if StoreFiles.holdsStore(destination) {
            throw ValidationError("\(destination) already holds a store; choose an empty directory, or pass --update to bring that backup up to date")
        }
    }

    func run() throws {
        if update {
            let timeline = try TimelineStore(path: store.path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
            let result = try timeline.updateBackup(at: destination)
            print("updated \(destination) from change \(result.previousPosition) to \(result.position): \(result.changesApplied) changes, \(result.recordsWritten) records written, \(result.recordsRemoved) removed")
            return
        }
        // A compact or repacked copy walks every tree through LMDB; a plain copy copies pages as they are.
        if compact || repack { try StoreFiles.requireSoundPages(store.path) }
        if repack {
            try StoreFiles.openReadOnly(store.path).copyRepacked(to: destination)
        } else {
            try StoreFiles.openReadOnly(store.path).copy(to: destination, compact: compact)
        }
        print("copied \(store.path) to \(destination)\(compact ? " (compacted)" : repack ? " (repacked)" : "")")
    }
}
