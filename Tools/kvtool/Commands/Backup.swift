import ArgumentParser
import TimelineLMDB

/// `kvtool backup`: a consistent copy of a live store.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a store, consistently, while it is in use.",
        discussion: """
            Writes a copy of the store into DEST (created if missing; it must not already hold a
            store) from one snapshot, without stopping readers or writers (mdb_env_copy2). With
            --compact, free pages are left out: smaller, a little slower to make.

            Example:
              kvtool backup /var/lib/chat/timeline /backups/timeline-2026-11-22 --compact
            """
    )

    @OptionGroup var store: ExistingStore

    @Argument(help: "The directory to write the copy into.")
    var destination: String

    @Flag(help: "Leave out free pages.")
    var compact = false

    func validate() throws {
        if StoreFiles.holdsStore(destination) { throw ValidationError("\(destination) already holds a store; choose an empty directory") }
    }

    func run() throws {
        // A compact copy walks every tree through LMDB; a plain copy copies pages as they are.
        if compact { try StoreFiles.requireSoundPages(store.path) }
        try StoreFiles.openReadOnly(store.path).copy(to: destination, compact: compact)
        print("copied \(store.path) to \(destination)\(compact ? " (compacted)" : "")")
    }
}
