#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
public import TimelineLMDB
internal import TimelineCBOR
internal import Synchronization

/// A store of typed records: an LMDB `Environment` plus the collections and indexes
/// registered in it, and a `meta` database holding the format version and each collection's
/// record version.
///
/// ```swift
/// let store = try Store(path: "/var/lib/app/store")
/// let notes = try store.collection("notes", primaryKey: { (note: Note) in KeyBytes(note.id) },
///                                  indexes: [Index("byAuthor") { KeyBytes($0.author, $0.created) }])
/// try store.write { txn in try notes.put(note, in: txn) }            // record and index together
/// let page = try store.read { txn in try notes.scan(limit: 50, in: txn) }
/// ```
///
/// `read` and `write` are the environment's: one transaction may span any number of collections,
/// atomically.
public final class Store: Sendable {
    /// The newest store format this code reads: 2, a store whose records may be stored
    /// compressed (see ``ValueCompression``). A new store starts at 1, which older code reads
    /// too; registering a collection that compresses raises it to 2.
    public static let formatVersion = 2
    /// The format a new store is written with (records all plain).
    static let plainFormatVersion = 1

    /// The LMDB environment underneath.
    public let environment: Environment
    /// What registering a collection whose records are older than the code does.
    public let migrationPolicy: MigrationPolicy
    let meta: Database
    /// The `meta` database (format version, collection and index versions, migration state):
    /// what a backup update compares to know two stores hold records of the same shapes.
    package var metaDatabase: Database { meta }
    /// The collections registered so far, in order, for ``MigrationRunner``.
    private let registry = Mutex<[Registered]>([])

    /// Opens (or creates) a store in the directory at `path`.
    /// - Parameters:
    ///   - path: the store's directory, created when missing.
    ///   - configuration: LMDB options (durability, map size, read-only…).
    ///   - migrationPolicy: what to do with collections whose records are older than the
    ///     code (see ``MigrationPolicy``); by default they are migrated when registered, after a backup.
    /// - Throws: `LMDBError` from opening;
    ///   ``DocumentStoreError/Kind/formatTooNew(stored:supported:)`` for a store written by newer code;
    ///   ``DocumentStoreError/Kind/foreignStore`` for an LMDB environment of another program
    ///   (nothing is written to it).
    public convenience init(
        path: String, configuration: Environment.Configuration = .init(), migrationPolicy: MigrationPolicy = .migrateNow
    ) throws {
        try self.init(environment: Environment(path: path, configuration: configuration), migrationPolicy: migrationPolicy)
    }

    /// Uses an environment that is already open.
    public init(environment: Environment, migrationPolicy: MigrationPolicy = .migrateNow) throws {
        self.environment = environment
        self.migrationPolicy = migrationPolicy
        try Store.refuseForeign(environment)
        meta = try environment.openDatabase("meta")
        let stored = try environment.read { txn in try Store.metaInt(meta, MetaKey.format, in: txn) }
        if let stored, stored > Store.formatVersion {
            throw DocumentStoreError(.formatTooNew(stored: stored, supported: Store.formatVersion), collection: "meta")
        }
        if !environment.configuration.readOnly {
            let hasID = try environment.read { txn in try meta.contains(Array(MetaKey.storeID.utf8), in: txn) }
            if stored == nil || !hasID {
                try environment.write { txn in
                    if stored == nil { try Store.setMetaInt(meta, MetaKey.format, Store.plainFormatVersion, in: txn) }
                    if !hasID { try meta.put(KeyBytes(UUID()).bytes, for: Array(MetaKey.storeID.utf8), in: txn) }
                }
            }
        }
    }

    /// Refuses an environment that holds data but no store: one whose main database has entries
    /// but no `meta` database, or whose `meta` has entries but no `format`. Reads only, so a
    /// foreign environment is never written to (an empty one becomes a new store).
    private static func refuseForeign(_ environment: Environment) throws {
        let main = try environment.openDatabase(nil)
        let names = try environment.databaseNames()
        let mainEntries = try environment.read { txn in try main.count(in: txn) }
        if mainEntries == 0 { return }
        guard names.contains("meta") else { throw DocumentStoreError(.foreignStore, collection: "meta") }
        let meta = try environment.openDatabase("meta", create: false)
        let (entries, format) = try environment.read { txn in (try meta.count(in: txn), try meta.get(Array(MetaKey.format.utf8), in: txn) != nil) }
        if entries > 0 && !format { throw DocumentStoreError(.foreignStore, collection: "meta") }
    }

    /// Runs `body` in a read transaction (see `Environment.read(_:)`).
    public func read<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        try environment.read(body)
    }

    /// Runs `body` in a write transaction that commits on return and aborts on throw (see
    /// `Environment.write(_:)`; the closure may run again after the map grows).
    @discardableResult
    public func write<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        try environment.write(body)
    }

    /// Registers a collection: opens its database and its indexes' databases, records its version
    /// in `meta`, back-fills any index that is new to an existing collection (or declared again
    /// after a registration that left it out, whose writes did not keep its entries), and — when its
    /// records are older than `version` — migrates them, refuses, or reads them lazily, as the
    /// store's ``migrationPolicy`` says.
    ///
    /// - Parameters:
    ///   - name: the database name; indexes live in `idx.<name>.<index>`.
    ///   - version: the record-type version this code writes (stored in every envelope).
    ///   - primaryKey: the key of a record; must be stable for the record's life.
    ///   - indexes: secondary indexes, maintained in the same transaction as every write.
    ///   - migrations: how records of older versions become current ones (see ``MigrationStep``).
    ///   - merge: how a migration merges records: when a migrated record's primary key is
    ///     already taken, `merge(stored, migrated)` gives the one record kept there. Without it,
    ///     such a collision stops the migration (``DocumentStoreError/Kind/migrationKeyCollision``).
    ///   - compactForm: store records in the compact form — field ids for names, the key's fields
    ///     left out (see ``CompactForm``). Records written before keep reading as they are.
    ///   - compression: whether large records are stored compressed (see ``ValueCompression``;
    ///     by default none is). Registering a collection that compresses in a writable store
    ///     raises the store's format to 2.
    /// - Throws: ``DocumentStoreError/Kind/recordVersionTooNew(stored:supported:)`` when the store
    ///   holds records of a newer version (nothing is written);
    ///   ``DocumentStoreError/Kind/migrationNeeded(stored:current:)`` under ``MigrationPolicy/failIfNeeded``;
    ///   what ``MigrationRunner/run(collection:)`` throws under ``MigrationPolicy/migrateNow(backup:)``;
    ///   `LMDBError` — `.invalidArgument` for a name that would share another's
    ///   database: `meta`, one starting with `idx.`, an empty one or one with a NUL; an index name
    ///   that is empty or holds a NUL; two indexes of one name; an index scoped by a negative
    ///   number of bytes; a `version` outside 0…2³²−1; a
    ///   migration step from a version outside 0…`version`−1, or two steps from one version.
    public func collection<Record: Codable & SendableMetatype>(
        _ name: String,
        version: Int = 1,
        primaryKey: @escaping @Sendable (Record) -> KeyBytes,
        indexes: [Index<Record>] = [],
        migrations: [MigrationStep] = [],
        merge: (@Sendable (Record, Record) throws -> Record)? = nil,
        compactForm: CompactForm<Record>? = nil,
        compression: ValueCompression = .none
    ) throws -> DocumentCollection<Record> {
        try Store.checkNames(collection: name, indexes: indexes.map(\.name))
        // An envelope holds a version of up to four bytes (`Docs/format.md`): one outside could
        // be written but never read back.
        guard version >= 0, version <= Int(UInt32.max) else {
            throw LMDBError(.invalidArgument, operation: "open collection \"\(name)\"",
                            detail: "record version \(version) is outside 0…\(UInt32.max), which an envelope holds")
        }
        for index in indexes where (index.scopePrefixLength ?? 0) < 0 {
            throw LMDBError(.invalidArgument, operation: "open collection \"\(name)\"",
                            detail: "index \"\(index.name)\" is scoped by the first \(index.scopePrefixLength ?? 0) bytes of the primary key; a length is not negative")
        }
        // A step the runner would never apply, or one that hides another, is a mistake in the
        // declaration, not something to find out from records that were not migrated.
        var stepVersions = Set<Int>()
        for step in migrations {
            guard step.from >= 0, step.from < version else {
                throw LMDBError(.invalidArgument, operation: "open collection \"\(name)\"",
                                detail: "a migration step from version \(step.from) would never run: steps go from 0…\(version - 1) to the next version, up to the collection's version \(version)")
            }
            guard stepVersions.insert(step.from).inserted else {
                throw LMDBError(.invalidArgument, operation: "open collection \"\(name)\"",
                                detail: "two migration steps are from version \(step.from); give each version one step")
            }
        }
        let readOnly = environment.configuration.readOnly
        let database = try environment.openDatabase(name, create: !readOnly)
        let rule = try compression.minimumSize == nil ? nil
            : CompressionRule(compression, pageSize: read { txn in try database.statistics(in: txn).pageSize })
        var bound: [Index<Record>] = []
        for var index in indexes {
            do {
                index.database = try environment.openDatabase("idx.\(name).\(index.name)", create: !readOnly)
            } catch LMDBError.Code.notFound where readOnly {
                // An index this code declares but the store has not built yet (the first writable
                // open builds it): read-only, scans of it find nothing.
                index.database = nil
            }
            bound.append(index)
        }
        let collection = DocumentCollection(name: name, version: version, database: database, primaryKey: primaryKey,
                                            indexes: bound, migrations: migrations, merge: merge, compactForm: compactForm,
                                            compression: rule)
        let (storedVersion, state) = try read { txn in
            (try Store.metaInt(meta, MetaKey.collectionVersion(name), in: txn), try Store.migrationState(meta, name, in: txn))
        }
        if let storedVersion, storedVersion > version {
            throw DocumentStoreError(.recordVersionTooNew(stored: storedVersion, supported: version), collection: name)
        }
        register(collection)
        if readOnly { return collection }
        // Indexes an earlier registration declared and this one does not: from now on writes may
        // leave their entries behind, so their markers go — declared again, such an index is
        // back-filled rather than read stale. Its entries stay until then: a process that still
        // declares it (an older version of the code) keeps reading them meanwhile.
        let dropped = try read { txn in try undeclaredIndexes(of: name, declared: indexes.map(\.name), in: txn) }
        try write { txn in
            for index in dropped { _ = try meta.delete(Array(MetaKey.index(name, index).utf8), in: txn) }
            if storedVersion == nil { try Store.setMetaInt(meta, MetaKey.collectionVersion(name), version, in: txn) }
            if rule != nil, try Store.metaInt(meta, MetaKey.format, in: txn) ?? 0 < Store.formatVersion {
                try Store.setMetaInt(meta, MetaKey.format, Store.formatVersion, in: txn)
            }
            for index in bound where try Store.metaInt(meta, MetaKey.index(name, index.name), in: txn) == nil {
                try collection.rebuild(index, in: txn)
                try Store.setMetaInt(meta, MetaKey.index(name, index.name), 1, in: txn)
            }
        }
        if let storedVersion, storedVersion < version || state != nil {
            switch migrationPolicy {
            case .failIfNeeded:
                throw DocumentStoreError(.migrationNeeded(stored: storedVersion, current: version), collection: name)
            case .migrateNow(let backup):
                try MigrationRunner(store: self, backup: backup).run(collection: name)
            case .lazy:
                break
            }
        }
        return collection
    }

    /// Refuses names whose databases would be another's: the store's own `meta`, a name in the
    /// `idx.` space of index databases (`idx.<collection>.<index>`), an empty name, a NUL
    /// character, or two indexes of one name. (Dots in names stay allowed, as stores may have
    /// them: collection `a` with index `b.c` and collection `a.b` with index `c` would share
    /// `idx.a.b.c`, which `Docs/format.md` tells users to avoid.)
    static func checkNames(collection name: String, indexes: [String]) throws {
        func refuse(_ detail: String) -> LMDBError { LMDBError(.invalidArgument, operation: "open collection \"\(name)\"", detail: detail) }
        if name == "meta" || name.hasPrefix("idx.") {
            throw refuse("\"meta\" and names starting with \"idx.\" are the store's own databases; choose another name")
        }
        if name.isEmpty || name.utf8.contains(0) { throw refuse("a collection's name is at least one byte, without NUL characters") }
        var seen = Set<String>()
        for index in indexes {
            if index.isEmpty || index.utf8.contains(0) {
                throw refuse("index name \"\(index)\": an index's name is at least one byte, without NUL characters")
            }
            if !seen.insert(index).inserted { throw refuse("two indexes are named \"\(index)\"") }
        }
    }

    /// The store format recorded in `meta`: 1 while every record is plain, 2 once a collection
    /// that compresses was registered (see ``ValueCompression``); `nil` for an empty read-only store.
    public func storedFormat() throws -> Int? {
        try read { txn in try Store.metaInt(meta, MetaKey.format, in: txn) }
    }

    /// The record version stored for `collection` in `meta`, if any.
    public func storedVersion(of collection: String) throws -> Int? {
        try read { txn in try Store.metaInt(meta, MetaKey.collectionVersion(collection), in: txn) }
    }

    // MARK: Registry

    /// A registered collection, with its type erased, as ``MigrationRunner`` sees it.
    struct Registered: Sendable {
        let name: String
        let version: Int
        let indexNames: [String]
        let count: @Sendable (borrowing ReadTransaction) throws -> Int
        let versionCounts: @Sendable (borrowing ReadTransaction) throws -> [Int: Int]
        let clearIndexes: @Sendable (borrowing WriteTransaction) throws -> Void
        let batch: @Sendable ([UInt8]?, Int, borrowing WriteTransaction) throws -> (walked: Int, rewritten: Int, last: [UInt8]?)
    }

    private func register<Record: SendableMetatype>(_ collection: DocumentCollection<Record>) {
        let entry = Registered(
            name: collection.name, version: collection.version, indexNames: collection.indexes.map(\.name),
            count: { txn in try collection.count(in: txn) },
            versionCounts: { txn in try collection.versionCounts(in: txn) },
            clearIndexes: { txn in try collection.clearIndexes(in: txn) },
            batch: { after, limit, txn in try collection.migrateBatch(after: after, limit: limit, in: txn) }
        )
        registry.withLock { entries in
            entries.removeAll { $0.name == entry.name }
            entries.append(entry)
        }
    }

    /// The registered collections, in registration order.
    func registeredCollections() -> [Registered] {
        registry.withLock { $0 }
    }

    // MARK: meta

    /// The indexes of collection `name` that `meta` marks as built (or being rebuilt) but
    /// `declared` lacks. A marker `index.<name>.<rest>` whose `rest` has dots may be another
    /// collection's — `index.a.b.c` is collection `a.b`'s index `c` when a collection `a.b` is
    /// recorded in `meta` — and is then left alone.
    private func undeclaredIndexes(of name: String, declared: [String], in txn: borrowing ReadTransaction) throws -> [String] {
        let markerPrefix = "index.\(name).", collectionPrefix = "collection.\(name)."
        var undeclared: [String] = [], nested = Set<String>()
        try meta.withCursor(in: txn) { cursor in
            var markers = cursor.entries(in: .prefix(Array(markerPrefix.utf8)))
            while let (key, _) = try markers.next() {
                let index = String(decoding: key.dropFirst(markerPrefix.utf8.count), as: UTF8.self)
                if !declared.contains(index) { undeclared.append(index) }
            }
            var collections = cursor.entries(in: .prefix(Array(collectionPrefix.utf8)))
            while let (key, _) = try collections.next() {
                if let other = MetaKey.collection(ofVersionKey: String(decoding: key, as: UTF8.self)), other != name { nested.insert(other) }
            }
        }
        return undeclared.filter { index in
            !nested.contains { other in MetaKey.index(name, index).hasPrefix("index.\(other).") }
        }
    }

    static func metaInt(_ meta: Database, _ name: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> Int? {
        guard let value = try meta.get(Array(name.utf8), in: txn) else { return nil }
        guard let number = (try? CBORValue(decoding: value))?.int64Value else {
            throw DocumentStoreError(.corrupted, collection: "meta", key: KeyBytes(raw: Array(name.utf8)))
        }
        return Int(number)
    }

    static func setMetaInt(_ meta: Database, _ name: String, _ value: Int, in txn: borrowing WriteTransaction) throws {
        try meta.put(CBORValue(Int64(value)).encoded(), for: Array(name.utf8), in: txn)
    }
}
