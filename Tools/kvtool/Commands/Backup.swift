import ArgumentParser
import LMDB

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

    @Argument(help: "The store directory.")
    var path: String

    @Argument(help: "The directory to write the copy into.")
    var destination: String

    @Flag(help: "Leave out free pages.")
    var compact = false

    func validate() throws {
        try StoreFiles.requireStore(path)
        if StoreFiles.holdsStore(destination) { throw ValidationError("\(destination) already holds a store; choose an empty directory") }
    }

    func run() throws {
        // A compact copy walks every tree through LMDB; a plain copy copies pages as they are.
        if compact { try StoreFiles.requireSoundPages(path) }
        try StoreFiles.openReadOnly(path).copy(to: destination, compact: compact)
        print("copied \(path) to \(destination)\(compact ? " (compacted)" : "")")
    }
}
