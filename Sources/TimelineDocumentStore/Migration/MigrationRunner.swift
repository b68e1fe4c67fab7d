internal import TimelineLMDB
internal import TimelineCBOR
#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

/// Brings collections whose stored records are older than the code up to date: safely (a compact
/// backup first), resumably (bounded batches, one transaction each, with the position kept in
/// `meta` — a crash or `SIGKILL` loses nothing and the next run continues where it stopped), and
/// loudly (a step that throws stops the run naming the record, its version and the error).
///
/// ```swift
/// let store = try Store(path: path, migrationPolicy: .lazy)       // open at once
/// let notes = try store.collection("notes", version: 3, primaryKey: …, migrations: steps)
/// let plan = try MigrationRunner(store: store).plan()              // dry run: what would change
/// try MigrationRunner(store: store, progress: { print($0) }).run() // migrate everything registered
/// ```
///
/// With ``MigrationPolicy/migrateNow(backup:)`` (the default) registering a collection runs this
/// for it. Indexes of a migrating collection are rebuilt as the records are walked.
public struct MigrationRunner: Sendable {
    /// The store whose registered collections are migrated.
    public let store: Store
    /// Take a compact copy of the store before the first write of a run (`<store>.backup-…`).
    public var backup: Bool
    /// Records per transaction; a value below 1 is taken as 1 (0 made a run loop forever on
    /// empty batches).
    public var batchSize: Int
    /// Called after every batch.
    public var progress: (@Sendable (MigrationProgress) -> Void)?

    /// A runner for `store`'s registered collections.
    public init(store: Store, backup: Bool = true, batchSize: Int = 1_000, progress: (@Sendable (MigrationProgress) -> Void)? = nil) {
        self.store = store
        self.backup = backup
        self.batchSize = max(1, batchSize)
        self.progress = progress
    }

    /// What a run would do, without writing: per registered collection, its stored and current
    /// versions and how many records are at each version.
    public func plan() throws -> [MigrationPlan] {
        try store.registeredCollections().map { entry in
            try store.read { txn in
                let stored = try Store.metaInt(store.meta, MetaKey.collectionVersion(entry.name), in: txn) ?? entry.version
                return MigrationPlan(collection: entry.name, storedVersion: stored, currentVersion: entry.version,
                                     recordsByVersion: try entry.versionCounts(txn),
                                     inProgress: try Store.migrationState(store.meta, entry.name, in: txn) != nil)
            }
        }
    }

    /// Migrates every registered collection that needs it, in registration order.
    /// - Returns: one report per collection that was migrated.
    @discardableResult
    public func run() throws -> [MigrationReport] {
        try store.registeredCollections().compactMap { entry in try run(entry) }
    }

    /// Migrates the collection `name` if it needs it.
    /// - Returns: `nil` when it was already current.
    /// - Throws: ``DocumentStoreError/Kind/notRegistered``; ``DocumentStoreError/Kind/migrationFailed(version:)``
    ///   with the record's key when a step throws (the batches before it stay committed);
    ///   `LMDBError`.
    @discardableResult
    public func run(collection name: String) throws -> MigrationReport? {
        guard let entry = store.registeredCollections().first(where: { $0.name == name }) else {
            throw DocumentStoreError(.notRegistered, collection: name)
        }
        return try run(entry)
    }

    private func run(_ entry: Store.Registered) throws -> MigrationReport? {
        let name = entry.name, target = entry.version
        let (stored, state) = try store.read { txn in
            (try Store.metaInt(store.meta, MetaKey.collectionVersion(name), in: txn), try Store.migrationState(store.meta, name, in: txn))
        }
        guard let stored, stored < target || state != nil else { return nil }
        let started = ContinuousClock.now
        var backupPath: String?
        var position: [UInt8]?
        var done = 0
        if let state, state.target == target {
            position = state.after
            done = state.done
        } else {
            if backup { backupPath = try makeBackup(of: name, version: stored) }
            try store.write { txn in
                try entry.clearIndexes(txn)
                for index in entry.indexNames { try Store.setMetaInt(store.meta, MetaKey.index(name, index), 0, in: txn) }
                try Store.setMigrationState(store.meta, name, MigrationState(target: target, after: nil, done: 0), in: txn)
            }
        }
        let total = try store.read { txn in try entry.count(txn) }
        var rewritten = 0
        let batchSize = max(1, batchSize)   // the property is settable after `init` clamped it
        while true {
            let batch = try store.write { txn in
                let batch = try entry.batch(position, batchSize, txn)
                try Store.setMigrationState(store.meta, name, MigrationState(target: target, after: batch.last ?? position, done: done + batch.walked), in: txn)
                return batch
            }
            position = batch.last ?? position
            done += batch.walked
            rewritten += batch.rewritten
            if let progress {
                let seconds = Self.seconds(since: started)
                progress(MigrationProgress(collection: name, done: min(done, max(total, done)), total: max(total, done),
                                           recordsPerSecond: seconds > 0 ? Double(done) / seconds : 0))
            }
            if batch.walked < batchSize { break }
        }
        try store.write { txn in
            try Store.setMetaInt(store.meta, MetaKey.collectionVersion(name), target, in: txn)
            for index in entry.indexNames { try Store.setMetaInt(store.meta, MetaKey.index(name, index), 1, in: txn) }
            try store.meta.delete(Array(MetaKey.migration(name).utf8), in: txn)
        }
        return MigrationReport(collection: name, fromVersion: stored, toVersion: target, walked: done, rewritten: rewritten,
                               backupPath: backupPath, seconds: Self.seconds(since: started))
    }

    /// A compact copy of the whole store next to it, named after the collection and its version.
    /// Next to it whatever the path's spelling: a store opened as `dir/store/` put its backup
    /// inside itself, as `dir/store/.backup-…`, and a `/` in a collection's name made a
    /// directory of its own.
    private func makeBackup(of collection: String, version: Int) throws -> String {
        var storePath = store.environment.path
        while storePath.count > 1 && storePath.hasSuffix("/") { storePath.removeLast() }
        let base = "\(storePath).backup-\(String(collection.map { $0 == "/" ? "_" : $0 }))-v\(version)"
        var path = base
        var attempt = 1
        while FileManager.default.fileExists(atPath: path + "/data.mdb") {
            attempt += 1
            path = "\(base)-\(attempt)"
        }
        try store.environment.copy(to: path, compact: true)
        return path
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// What a run would change in one collection (see ``MigrationRunner/plan()``).
public struct MigrationPlan: Sendable, Hashable {
    /// The collection.
    public var collection: String
    /// The version `meta` records for its records.
    public var storedVersion: Int
    /// The version the code writes.
    public var currentVersion: Int
    /// How many records are stored at each version.
    public var recordsByVersion: [Int: Int]
    /// Whether an interrupted run is waiting to be resumed.
    public var inProgress: Bool

    /// How many records a run would rewrite.
    public var recordsToMigrate: Int { recordsByVersion.filter { $0.key < currentVersion }.values.reduce(0, +) }
    /// Whether a run has anything to do.
    public var needsMigration: Bool { storedVersion < currentVersion || inProgress }
}

/// Where a run stands, after each batch.
public struct MigrationProgress: Sendable, Hashable {
    /// The collection being migrated.
    public var collection: String
    /// Records walked so far (this run and any interrupted one before it).
    public var done: Int
    /// Records in the collection.
    public var total: Int
    /// Records walked per second in this run.
    public var recordsPerSecond: Double
}

/// What a run did to one collection.
public struct MigrationReport: Sendable, Hashable {
    /// The collection.
    public var collection: String
    /// The version its records were at.
    public var fromVersion: Int
    /// The version they are at now.
    public var toVersion: Int
    /// Records walked.
    public var walked: Int
    /// Records rewritten by this run.
    public var rewritten: Int
    /// The backup taken before the first write, if one was.
    public var backupPath: String?
    /// How long the run took.
    public var seconds: Double
}

/// A run's position, kept in `meta` under `migration.<collection>` as a CBOR map
/// `{"target": version, "after": last key walked or null, "done": records walked}`.
struct MigrationState: Hashable {
    var target: Int
    var after: [UInt8]?
    var done: Int
}

extension Store {
    static func migrationState(_ meta: Database, _ collection: String, in txn: borrowing Transaction<some TransactionAccess>) throws -> MigrationState? {
        guard let value = try meta.get(Array(MetaKey.migration(collection).utf8), in: txn) else { return nil }
        guard let state = try? CBORValue(decoding: value), let target = state["target"]?.int64Value, let done = state["done"]?.int64Value else {
            throw DocumentStoreError(.corrupted, collection: "meta", key: KeyBytes(raw: Array(MetaKey.migration(collection).utf8)))
        }
        var after: [UInt8]?
        if case .bytes(let bytes) = state["after"] { after = bytes }
        return MigrationState(target: Int(target), after: after, done: Int(done))
    }

    static func setMigrationState(_ meta: Database, _ collection: String, _ state: MigrationState, in txn: borrowing WriteTransaction) throws {
        let value = CBORValue.map([
            .init(.text("target"), CBORValue(Int64(state.target))),
            .init(.text("after"), state.after.map { .bytes($0) } ?? .null),
            .init(.text("done"), CBORValue(Int64(state.done))),
        ])
        try meta.put(value.encoded(), for: Array(MetaKey.migration(collection).utf8), in: txn)
    }
}
