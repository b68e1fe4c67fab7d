import TimelineDocumentStore
import ArgumentParser
import TimelineCBOR
import Foundation
import TimelineLMDB

/// Checks on a store directory before opening it, and the ways kvtool opens one.
enum StoreFiles {
    /// Whether `path` is a directory with a `data.mdb` in it.
    static func holdsStore(_ path: String) -> Bool {
        FileProbe.exists(path + "/data.mdb")
    }

    /// A `ValidationError` unless `path` holds a store, saying why not: missing, not a
    /// directory, permission denied, a loop of links.
    static func requireStore(_ path: String) throws {
        if let problem = FileProbe.problem(reaching: path + "/data.mdb") {
            let missing = FileProbe.problem(reaching: path)
            var info = stat()
            if problem == ENOTDIR, missing == nil, stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
                let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
                let hint = holdsStore(parent) ? " — here, \(parent)" : ""
                throw ValidationError("\(path) is a file, not a store: a store is the directory that holds data.mdb\(hint)")
            }
            throw ValidationError(problem == ENOENT && missing == nil ? "\(path) does not hold a store (no data.mdb in it)"
                                  : FileProbe.describe(missing ?? problem, path: missing != nil ? path : path + "/data.mdb"))
        }
    }

    /// The structural faults of the store's pages (``LMDB/Environment/verifyPages(limit:)``),
    /// found without reading through LMDB: empty when LMDB may walk the store safely.
    static func pageProblems(_ path: String) throws -> [PageProblem] {
        let environment = try openReadOnly(path)
        defer { try? environment.close() }
        return try environment.verifyPages()
    }

    /// Refuses a store with damaged pages, naming them, before anything walks it through LMDB
    /// (which would fault on them).
    static func requireSoundPages(_ path: String) throws {
        let problems = try pageProblems(path)
        guard problems.isEmpty else {
            let shown = problems.prefix(20).map { "  \($0)" }.joined(separator: "\n")
            throw Refusal("\(path)/data.mdb has damaged pages; nothing was read or written through them:\n\(shown)\(problems.count > 20 ? "\n  …" : "")\nRun `kvtool check \(path)` for the full report, and restore from a backup.")
        }
    }

    /// Opens the store read-only: safe next to a live service, which it never blocks.
    static func openReadOnly(_ path: String) throws -> Environment {
        try Environment(path: path, configuration: .init(readOnly: true))
    }

    /// The store format version and each collection's record version, from `meta`.
    static func versions(_ meta: Database, in txn: borrowing Transaction<some TransactionAccess>) throws -> (format: Int?, records: [(String, Int)]) {
        var format: Int?
        var records: [(String, Int)] = []
        try meta.forEachEntry(in: txn) { entry in
            let name = String(decoding: entry.key, as: UTF8.self)
            guard let number = (try? CBORValue(decoding: entry.value))?.int64Value else { return }
            if name == MetaKey.format { format = Int(number) }
            if let collection = MetaKey.collection(ofVersionKey: name) {
                records.append((collection, Int(number)))
            }
        }
        return (format, records)
    }
}
