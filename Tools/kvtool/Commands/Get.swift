import Timeline
import ArgumentParser
import Foundation
import TimelineCBOR
import TimelineDocumentStore
import KVToolCore
import TimelineLMDB

/// `kvtool get`: one entry, shown as `kvtool dump` shows it.
struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one entry of a database.",
        discussion: """
            KEY is written as its parts separated by "/" for TimelineStore databases (a session \
            id; a session id and a sequence for turns, checkpoints and crystals), as text in meta, \
            or as hex with --hex. The value is printed as one JSON line, as `kvtool dump` prints it \
            (sessions and turns are stored with field ids for names: Docs/format.md); with --names, \
            a session or turn is printed as the library reads it, by field name, the key's fields \
            included. Exits 1 when there is no such entry.

            Examples:
              kvtool get /var/lib/chat/timeline sessions E621E1F8-C36C-495A-93FC-0C247A3E6E5F
              kvtool get /var/lib/chat/timeline turns E621E1F8-C36C-495A-93FC-0C247A3E6E5F/12
              kvtool get /var/lib/chat/timeline turns E621E1F8-C36C-495A-93FC-0C247A3E6E5F/12 --names
              kvtool get /var/lib/chat/timeline meta format
            """
    )

    @OptionGroup var store: ExistingStore

    @Argument(help: "The database (a collection such as sessions or turns, an index, or meta).")
    var database: String

    @Argument(help: "The key.")
    var key: String

    @Flag(help: "KEY is hex.")
    var hex = false

    @Flag(help: "For sessions and turns: the record by field name, as `sessions --json` and `turns --json` print it.")
    var names = false

    func validate() throws {
        _ = try keyBytes()
        if names, database != "sessions", database != "turns" { throw ValidationError("--names reads sessions and turns only") }
    }

    func run() throws {
        let env = try StoreFiles.openReadOnly(store.path)
        guard try env.databaseNames().contains(database) else { throw usageMistake("\(store.path) has no database \"\(database)\"", command: "get") }
        let bytes = try keyBytes()
        if names {
            try env.close()
            try printByName(KeyBytes(raw: bytes))
            return
        }
        let db = try env.openDatabase(database, create: false)
        guard let value = try env.read({ txn in try db.get(bytes, in: txn).map { Array($0) } }) else {
            printError("no entry \(key) in \(database)")
            throw ExitCode(1)
        }
        print(DumpFormat.show(value: value, in: database).jsonText())
    }

    /// The session or turn stored under `key`, decoded as the library reads it (upgraded in
    /// memory if older), as one JSON line.
    private func printByName(_ key: KeyBytes) throws {
        let timeline = try TimelineStore(path: store.path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
        let line: String? = try timeline.store.read { txn in
            if database == "sessions" { return try timeline.sessions.get(key, in: txn).map(JSONOutput.line) }
            return try timeline.turnRecords.get(key, in: txn).map(JSONOutput.line)
        }
        guard let line else {
            printError("no entry \(self.key) in \(database)")
            throw ExitCode(1)
        }
        print(line)
    }

    /// KEY as bytes, by the database's layout.
    private func keyBytes() throws -> [UInt8] {
        if hex {
            guard let bytes = KeyBytes(hex: key)?.bytes, !bytes.isEmpty else { throw ValidationError("\(key) is not hex") }
            return bytes
        }
        if database == "meta" { return Array(key.utf8) }
        guard let layout = TimelineStore.keyLayouts[database] else {
            throw ValidationError("\"\(database)\" has no known key layout: give the key in hex with --hex")
        }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == layout.parts.count else {
            throw ValidationError("a key of \"\(database)\" has \(layout.parts.count) parts \(layout.description), separated by /")
        }
        let values = try zip(layout.parts, parts).map { part, text -> CBORValue in
            switch part {
            case .uuid, .string: return .text(text)
            case .u64:
                guard let number = UInt64(text) else { throw ValidationError("\"\(text)\" is not a non-negative integer") }
                return .unsigned(number)
            case .bool:
                guard let flag = Bool(text) else { throw ValidationError("\"\(text)\" is not true or false") }
                return .bool(flag)
            case .date, .descendingDate:
                guard let number = Int64(text) else { throw ValidationError("\"\(text)\" is not an integer of nanoseconds") }
                return CBORValue(number)
            }
        }
        do {
            return try layout.encode(.array(values))
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
