import ArgumentParser
import Foundation
import KVToolCore
import TimelineCBOR
import TimelineDocumentStore
import TimelineLMDB

#if canImport(Glibc)
import Glibc
#endif

/// `kvtool load`: writes a dump into a store — all of it or nothing.
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a dump made by `kvtool dump` into a store, in one transaction.",
        discussion: """
            Reads the whole dump and checks every line first — the header, each database, key \
            and value, the key order, the end line — and stops at the first problem, naming the \
            line, without touching the store. Then loads it into a scratch copy of the store and \
            runs `kvtool check` on the result: store format and record versions this kvtool \
            reads, records that decode, index entries that match, turns without gaps. Only a \
            clean result is written into the store, in one transaction. The store is created if \
            missing; databases it already has that the dump also holds must be empty unless \
            --replace is given, which empties them first. Databases not in the dump are left \
            alone. A refused load leaves the store byte for byte as it was (or absent).

            Examples:
              kvtool load /var/lib/chat/restored --input timeline.jsonl
              kvtool dump old | kvtool load new --replace
            """
    )

    @Argument(help: "The store directory (created if missing).")
    var path: String

    @Option(help: ArgumentHelp("Read the dump from this file instead of standard input.", valueName: "file"))
    var input: String?

    @Flag(help: "Empty the dumped databases before loading (otherwise they must be empty).")
    var replace = false

    func run() throws {
        let data: Data
        if let input {
            data = try FileProbe.contents(of: input)
        } else {
            data = try FileProbe.standardInput()
        }
        let (header, entries) = try parse(data)
        let limit = Environment.Configuration().maxDatabases
        guard header.databases.count <= limit else {
            throw LoadError(line: 1, "the header lists \(header.databases.count) databases; a store holds at most \(limit)")
        }

        // Nothing below writes to the target until the loaded store has passed `check` in a
        // scratch copy next to it: a refused load leaves the target as it was (or absent).
        let existed = StoreFiles.holdsStore(path)
        let scratch = URL(fileURLWithPath: path).deletingLastPathComponent()
            .appendingPathComponent(".\(URL(fileURLWithPath: path).lastPathComponent).kvtool-load-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        if existed {
            try StoreFiles.requireSoundPages(path)
            let target = try StoreFiles.openReadOnly(path)
            if !replace {
                let present = Set(try target.databaseNames())
                let handles = try header.databases.filter(present.contains).map { ($0, try target.openDatabase($0, create: false)) }
                let busy = try target.read { txn in try handles.filter { try $0.1.count(in: txn) > 0 }.map(\.0) }
                if !busy.isEmpty {
                    throw Refusal("\(path) already holds entries in \(busy.joined(separator: ", ")); load into an empty store, or pass --replace to empty those databases first")
                }
            }
            try target.copy(to: scratch)
            try target.close()
        }
        let trial = try Environment(path: scratch)
        try write(entries, of: header, into: trial, progress: nil)
        try trial.close()
        let problems = try LoadValidation.problems(ofStoreAt: scratch)
        if !problems.isEmpty {
            let shown = problems.prefix(10).map { "  \($0)" }.joined(separator: "\n")
            throw Refusal("the dump would leave a store that fails `kvtool check`; nothing was written. \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n\(shown)\(problems.count > 10 ? "\n  …" : "")")
        }

        // A new store: the checked scratch store becomes it, in one rename (atomic: a load killed
        // before it leaves no store, after it the whole one). Onto an existing store, or a
        // directory holding other files, the load is written in one transaction instead.
        if !existed && rename(scratch, path) == 0 {
            let parent = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY)
            if parent >= 0 { fsync(parent); close(parent) }
            printError("loaded \(entries.count) entries into \(header.databases.count) databases of \(path)")
            return
        }
        let directoryExisted = FileProbe.exists(path)
        do {
            let env = try Environment(path: path)
            let bar = ProgressBar("load", total: entries.count)
            defer { bar.finish() }
            try write(entries, of: header, into: env, progress: bar, ontoStore: existed)
            try env.close()
        } catch {
            if !existed {
                // Remove what this load created: the store's files, and the directory if it made it.
                for file in ["data.mdb", "lock.mdb"] { try? FileManager.default.removeItem(atPath: path + "/" + file) }
                if !directoryExisted { try? FileManager.default.removeItem(atPath: path) }
            }
            throw error
        }
        printError("loaded \(entries.count) entries into \(header.databases.count) databases of \(path)")
    }

    /// Writes the dump into `env` in one transaction — creating its databases inside it, so a
    /// failure leaves not even an empty database behind — emptying them first with `--replace`.
    private func write(_ entries: [(database: String, key: [UInt8], value: [UInt8])], of header: DumpFormat.Header,
                       into env: Environment, progress: ProgressBar?, ontoStore: Bool = false) throws {
        try env.write { txn in
            var handles: [String: Database] = [:]
            for name in header.databases {
                let database = try txn.openDatabase(name)
                if replace { try database.clear(in: txn) }
                handles[name] = database
            }
            for (number, entry) in entries.enumerated() {
                // `parse` accepted only entries of the header's databases.
                guard let database = handles[entry.database] else { continue }
                try database.put(entry.value, for: entry.key, in: txn)
                if number % 1_000 == 0 { progress?.update(number) }
            }
            // Onto a store, records written around its change log: its backups must not be
            // brought up to date from the log as if nothing had happened (`Docs/changes.md`).
            // A dump that holds `meta` replaced it whole, identity included: nothing to mark.
            guard ontoStore, handles["meta"] == nil else { return }
            var meta: Database?
            do { meta = try txn.openDatabase("meta", create: false) } catch LMDBError.Code.notFound {}
            if let meta {
                let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
                try meta.put(CBORValue(now).encoded(), for: Array(MetaKey.rawEdit.utf8), in: txn)
            }
        }
    }

    /// Every line checked: the header, the entries (in order, each database's keys increasing),
    /// and the end line with the right count.
    private func parse(_ data: Data) throws -> (DumpFormat.Header, [(database: String, key: [UInt8], value: [UInt8])]) {
        let bytes = [UInt8](data)
        guard !bytes.isEmpty else { throw LoadError(line: 1, "the input is empty") }
        guard bytes.last == 0x0A else {
            throw LoadError(line: bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count, "the input ends in the middle of a line: it is truncated")
        }
        let lines = bytes.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
        var header: DumpFormat.Header?
        var entries: [(database: String, key: [UInt8], value: [UInt8])] = []
        var lastKey: [String: [UInt8]] = [:]
        var ended = false
        let bar = ProgressBar("check", total: lines.count)
        defer { bar.finish() }
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            if number % 1_000 == 0 { bar.update(number) }
            guard let text = String(validating: raw, as: UTF8.self) else { throw LoadError(line: number, "not UTF-8") }
            if ended { throw LoadError(line: number, "a line after the end line") }
            let line: DumpFormat.Line
            do {
                line = try DumpFormat.parse(text, databases: header?.databases ?? [])
            } catch {
                throw LoadError(line: number, header == nil ? "the first line must be the dump's header (\(error))" : "\(error)")
            }
            switch line {
            case .header(let parsed):
                guard header == nil, number == 1 else { throw LoadError(line: number, "a second header") }
                guard Set(parsed.databases).count == parsed.databases.count else { throw LoadError(line: number, "a database is listed twice") }
                header = parsed
            case .entry(let database, let key, let value):
                if let previous = lastKey[database] {
                    if previous == key { throw LoadError(line: number, "duplicate key \(DumpFormat.hex(key)) in \"\(database)\"") }
                    if !previous.lexicographicallyPrecedes(key) {
                        throw LoadError(line: number, "keys of \"\(database)\" out of order (\(DumpFormat.hex(key)) after \(DumpFormat.hex(previous)))")
                    }
                }
                lastKey[database] = key
                entries.append((database, key, value))
            case .end(let count):
                guard header != nil else { throw LoadError(line: number, "the first line must be the dump's header") }
                guard count == entries.count else { throw LoadError(line: number, "the end line counts \(count) entries but the dump holds \(entries.count)") }
                ended = true
            }
        }
        guard let header else { throw LoadError(line: 1, "the first line must be the dump's header") }
        guard ended else { throw LoadError(line: lines.count, "no end line: the dump is truncated") }
        return (header, entries)
    }
}

/// A problem in the dump being loaded, with its line number.
struct LoadError: Error, CustomStringConvertible {
    let line: Int
    let problem: String
    init(line: Int, _ problem: String) {
        self.line = line
        self.problem = problem
    }
    var description: String { "line \(line): \(problem); nothing was written" }
}
