public import TimelineLMDB

/// Something wrong in a collection, found by ``DocumentCollection/check(in:progress:)``.
public struct CollectionProblem: Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Sendable, Hashable {
        /// The stored value does not decode as a record (damaged, or of another type).
        case undecodable(String)
        /// An index entry that no record accounts for (its record is missing or has another value).
        case danglingIndexEntry(index: String, entry: String)
        /// A record without the index entry its value calls for.
        case missingIndexEntry(index: String, entry: String)
        /// A record stored under another key than its fields give (`expected`, in hex): e.g. a
        /// turn whose sequence disagrees with its position.
        case keyMismatch(expected: String)
    }

    /// The collection.
    public var collection: String
    /// The record's key, in hex.
    public var key: String
    /// What is wrong.
    public var kind: Kind

    /// One line: where and what.
    public var description: String { "\(collection) \(key): \(detail)" }

    /// What is wrong, without where.
    public var detail: String {
        switch kind {
        case .undecodable(let why): "record does not decode: \(why)"
        case .danglingIndexEntry(let index, let entry): "index \(index) has entry \(entry) that no record accounts for"
        case .missingIndexEntry(let index, let entry): "index \(index) lacks the record's entry \(entry)"
        case .keyMismatch(let expected): "the record's fields give the key \(expected), not the one it is stored under"
        }
    }
}

extension DocumentCollection {
    /// Reads every record and every index entry and reports what does not fit: records that do
    /// not decode, records stored under another key than their fields give, index entries
    /// without their record (or pointing at a record whose value has changed), records without
    /// their index entries. Writes nothing.
    /// - Parameters:
    ///   - txn: the snapshot to read.
    ///   - progress: called with the number of records read so far, every 1,000.
    /// - Complexity: O(n log n) for n records and index entries.
    public func check(in txn: borrowing Transaction<some TransactionAccess>, progress: ((Int) -> Void)? = nil) throws -> [CollectionProblem] {
        var problems: [CollectionProblem] = []
        // Per index: how many entries the records call for, and whether each of them was found
        // in place. Both right and the index no larger, it holds exactly those entries (a unique
        // index's entries called for twice cannot both be found in place): one look-up a
        // record, where keeping every expected entry in a dictionary took ~100 bytes of memory
        // and a byte-by-byte hash for each.
        var called = Array(repeating: 0, count: indexes.count)
        var allInPlace = Array(repeating: true, count: indexes.count)
        var read = 0
        try forEachDecodedRecord(in: txn, problems: &problems, progress: { read += 1; if read % 1_000 == 0 { progress?(read) } }) { key, record in
            for (position, index) in indexes.enumerated() {
                guard let value = index.key(record) else { continue }
                called[position] += 1
                guard allInPlace[position], let db = index.database else { continue }
                let found = try db.get(index.entryKey(value: value, primaryKey: key), in: txn)
                if found.map({ !$0.elementsEqual(key.bytes) }) ?? true { allInPlace[position] = false }
            }
        }
        for (position, index) in indexes.enumerated() {
            guard let db = index.database else { continue }
            if allInPlace[position], try db.count(in: txn) == called[position] { continue }
            try problems.append(contentsOf: indexProblems(index, db, in: txn))
        }
        return problems
    }

    /// Calls `body` with each record that decodes and its key; records that do not, or that are
    /// stored under another key than their fields give, go to `problems`.
    private func forEachDecodedRecord(
        in txn: borrowing Transaction<some TransactionAccess>, problems: inout [CollectionProblem], progress: () -> Void,
        _ body: (KeyBytes, Record) throws -> Void
    ) throws {
        try database.forEachEntry(in: txn) { entry in
            progress()
            let key = KeyBytes(raw: Array(entry.key))
            let record: Record
            do {
                record = try decode(entry.value, key: key)
            } catch let error as DocumentStoreError {
                problems.append(CollectionProblem(collection: name, key: key.shown, kind: .undecodable(error.underlying.map { "\($0)" } ?? "\(error.kind)")))
                return
            }
            let primary = primaryKey(record)
            if primary != key {
                problems.append(CollectionProblem(collection: name, key: key.shown, kind: .keyMismatch(expected: primary.shown)))
            }
            try body(key, record)
        }
    }

    /// What is wrong with `index`, entry by entry: every entry the records call for, kept with
    /// its record's key, against every entry the index holds. Only for an index the quick pass of
    /// ``check(in:progress:)`` found wrong.
    private func indexProblems(_ index: Index<Record>, _ db: Database, in txn: borrowing Transaction<some TransactionAccess>) throws -> [CollectionProblem] {
        var problems: [CollectionProblem] = []
        var wanted: [[UInt8]: [UInt8]] = [:]
        var reported: [CollectionProblem] = []   // by the quick pass already
        try forEachDecodedRecord(in: txn, problems: &reported, progress: {}) { key, record in
            if let value = index.key(record) { wanted[index.entryKey(value: value, primaryKey: key)] = key.bytes }
        }
        try db.forEachEntry(in: txn) { entry in
            let entryKey = Array(entry.key)
            if let primary = wanted.removeValue(forKey: entryKey), entry.value.elementsEqual(primary) { return }
            problems.append(CollectionProblem(collection: name, key: KeyBytes(raw: Array(entry.value)).shown,
                                              kind: .danglingIndexEntry(index: index.name, entry: KeyBytes(raw: entryKey).shown)))
        }
        for (entryKey, primary) in wanted.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            problems.append(CollectionProblem(collection: name, key: KeyBytes(raw: primary).shown,
                                              kind: .missingIndexEntry(index: index.name, entry: KeyBytes(raw: entryKey).shown)))
        }
        return problems
    }
}

extension KeyBytes {
    /// The key in hex for a problem report, or `(empty key)`: an empty key (only damage makes
    /// one) would otherwise leave the report's location blank.
    var shown: String { bytes.isEmpty ? "(empty key)" : description }
}
