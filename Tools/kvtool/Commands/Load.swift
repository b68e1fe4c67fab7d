import ArgumentParser
import Foundation
import LMDB

/// `kvtool load`: writes a dump into a store — all of it or nothing.
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a dump made by `kvtool dump` into a store, in one transaction.",
        discussion: """
            Reads the whole dump and checks every line first — the header, each database, key
            and value, the key order, the end line — and stops at the first problem, naming the
            line, without touching the store. Then writes every entry in one transaction. The
            store is created if missing; databases it already has that the dump also holds must
            be empty unless --replace is given, which empties them first. Databases not in the
            dump are left alone.

            Examples:
              kvtool load /var/lib/chat/restored --input timeline.jsonl
              kvtool dump old | kvtool load new --replace
            """
    )

    @Argument(help: "The store directory (created if missing).")
    var path: String

    @Option(help: "Read the dump from this file instead of standard input.")
    var input: String?

    @Flag(help: "Empty the dumped databases before loading (otherwise they must be empty).")
    var replace = false

    func run() throws {
        let data: Data
        if let input {
            guard let contents = FileManager.default.contents(atPath: input) else { throw ValidationError("cannot read \(input)") }
            data = contents
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        let (header, entries) = try parse(data)

        let env = try Environment(path: path)
        let handles = try Dictionary(uniqueKeysWithValues: header.databases.map { ($0, try env.openDatabase($0)) })
        if !replace {
            let busy = try env.read { txn in try header.databases.filter { try handles[$0]!.count(in: txn) > 0 } }
            if !busy.isEmpty {
                throw ValidationError("\(path) already holds entries in \(busy.joined(separator: ", ")); load into an empty store, or pass --replace to empty those databases first")
            }
        }
        let bar = ProgressBar("load", total: entries.count)
        defer { bar.finish() }
        try env.write { txn in
            if replace { for name in header.databases { try handles[name]!.clear(in: txn) } }
            for (number, entry) in entries.enumerated() {
                try handles[entry.database]!.put(entry.value, for: entry.key, in: txn)
                if number % 1_000 == 0 { bar.update(number) }
            }
        }
        printError("loaded \(entries.count) entries into \(header.databases.count) databases of \(path)")
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
