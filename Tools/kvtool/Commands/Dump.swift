import ArgumentParser
import Foundation
import KVToolCore
import TimelineLMDB

/// `kvtool dump`: every entry of a store (or of some databases) as JSON Lines, from one snapshot.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a store's entries as JSON Lines, from one consistent snapshot.",
        discussion: """
            The first line describes the dump (store format, record versions, databases); then \
            one line per entry in database and key order: the database, the key (its parts for \
            TimelineStore databases, text in meta, else hex) and the value (a record as \
            {"v": version, "record": …} in CBOR's JSON form, meta values as {"cbor": …}, anything \
            else as base64); the last line counts the entries. `kvtool load` reads it back to \
            the same bytes. Safe on a live store: it reads one snapshot and blocks no writer. \
            Entries that cannot be what their database holds (a key off its layout, a record \
            that is not an envelope: page damage) are named on standard error, and the dump \
            then exits 1.

            Examples:
              kvtool dump /var/lib/chat/timeline > timeline.jsonl
              kvtool dump /var/lib/chat/timeline --db sessions --db turns --output part.jsonl
            """
    )

    @OptionGroup var store: ExistingStore

    @Option(name: .customLong("db"), help: ArgumentHelp("Dump only this database (repeatable); all of them by default.", valueName: "name"))
    var databases: [String] = []

    @Option(help: ArgumentHelp("Write to this file (created with mode 0600) instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Overwrite the --output file if it exists.")
    var force = false


    func run() throws {
        try StoreFiles.requireSoundPages(store.path)
        let env = try StoreFiles.openReadOnly(store.path)
        let all = try env.databaseNames().sorted()
        for name in databases where !all.contains(name) {
            throw usageMistake("\(store.path) has no database \"\(name)\" (it has: \(all.joined(separator: ", ")))", command: "dump")
        }
        let names = databases.isEmpty ? all : all.filter(databases.contains)
        let handles = try names.map { try env.openDatabase($0, create: false) }
        let meta = all.contains("meta") ? try env.openDatabase("meta", create: false) : nil
        let out = try OutputStream(path: output, replace: force, store: store.path)
        var damaged = 0
        let entries = try env.read { txn in
            let versions = try meta.map { try StoreFiles.versions($0, in: txn) } ?? (format: nil, records: [])
            try out.write(line: DumpFormat.line(DumpFormat.Header(storeFormat: versions.format, recordVersions: versions.records, databases: names)))
            let total = try handles.reduce(0) { $0 + (try $1.count(in: txn)) }
            let bar = ProgressBar("dump", total: total)
            defer { bar.finish() }
            var written = 0
            for (name, db) in zip(names, handles) {
                try db.withCursor(in: txn) { cursor in
                    var walk = cursor.entries()
                    while let entry = try walk.next() {
                        let key = Array(entry.key), value = Array(entry.value)
                        if let why = DumpFormat.damage(database: name, key: key, value: value) {
                            damaged += 1
                            if damaged <= 100 { printError("damaged entry in \(name) at key \(key.isEmpty ? "(empty)" : DumpFormat.hex(key)): \(why)") }
                        }
                        try out.write(line: DumpFormat.line(database: name, key: key, value: value))
                        written += 1
                        if output != nil && written % 1_000 == 0 { bar.update(written) }
                    }
                }
            }
            return written
        }
        try out.write(line: DumpFormat.endLine(entries: entries))
        try out.flush()
        if damaged > 0 {
            printError("\(damaged) damaged entr\(damaged == 1 ? "y" : "ies") (listed above\(damaged > 100 ? ", the first 100" : "")): the dump holds them as they are; run `kvtool check` and restore from a backup")
            throw ExitCode(1)
        }
    }
}
