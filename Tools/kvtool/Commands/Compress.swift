import ArgumentParser
import Foundation
import Timeline

/// `kvtool compress`: stores a timeline's large records compressed (or plain again).
struct Compress: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store a timeline's large turns, checkpoints and crystals compressed with LZ4, or plain again.",
        discussion: """
            Compresses the records a service that opens the store with \
            `compression: .lz4` would store compressed: from 2,000 bytes \
            (--minimum-size), where LZ4 saves at least an eighth of their room in the \
            file. With --none, stores every compressed record plain again. Only the \
            stored form changes: contents, keys, indexes and the change log stay as \
            they are. Works in batches (--batch-size), each its own transaction: a \
            service may write meanwhile, and an interrupted run goes on when started \
            again. The file keeps its size; `kvtool backup STORE DEST --compact` makes \
            a smaller copy. Compressing raises the store to format 2 (it stays there \
            after --none), which TimelineStore versions without compression refuse to \
            open. See Docs/format.md, "Compressed values".

            Examples:
              kvtool compress /var/lib/chat/timeline
              kvtool compress /var/lib/chat/timeline --none
            """
    )

    @OptionGroup var store: ExistingStore

    @Flag(help: "Store every compressed record plain again.")
    var none = false

    @Option(parsing: .unconditional, help: "Compress records of at least this many bytes (at least 16).")
    var minimumSize = 2_000

    @Option(parsing: .unconditional, help: "Records per write transaction (at least 1).")
    var batchSize = 500

    func validate() throws {
        guard minimumSize >= 16 else { throw ValidationError("--minimum-size must be at least 16") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if none && minimumSize != 2_000 { throw ValidationError("--minimum-size goes with compressing, not with --none") }
    }

    func run() throws {
        try StoreFiles.requireSoundPages(store.path)
        let compression: ValueCompression = none ? .none : .lz4(minimumSize: minimumSize)
        // `.lazy`: records of older versions keep their version (a migration is `kvtool migrate`'s).
        let timeline = try TimelineStore(path: store.path, migrationPolicy: .lazy, compression: compression)
        let rewritten = try timeline.storeInCurrentForm(batchSize: batchSize)
        print("\(rewritten) record\(rewritten == 1 ? "" : "s") \(none ? "stored plain again" : "compressed"); the file keeps its size (kvtool backup --compact makes a smaller copy)")
    }
}
