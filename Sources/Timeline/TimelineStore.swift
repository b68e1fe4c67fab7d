public import FoundationEssentials
public import LMDB
public import DocumentStore
internal import Foundation

/// An append-only, crash-proof history of LLM conversations — sessions, turns, checkpoints and
/// crystals — in one LMDB store on disk.
///
/// ```swift
/// let timeline = try TimelineStore(path: "/var/lib/chat/timeline")
/// let session = try await timeline.createSession(NewSession(title: "Trip planning", project: "travel"))
/// try await timeline.append([NewTurn(role: .user, content: "Where should I go in May?")], to: session.id)
/// let page = try await timeline.turns(of: session.id, limit: 50)
/// await timeline.close()
/// ```
///
/// It is `Sendable`: share one instance across the service. Two ways in:
/// - **async methods** (`append`, `createSession`, `fork`, …) for the common calls. Writes go to
///   one writer thread that coalesces concurrent callers into shared transactions (group
///   commit); each caller resumes once its own data is committed — with the default
///   ``LMDB/Environment/Durability/durable``, once it is on disk.
/// - **synchronous `read { }` / `write { }` closures** with the `…(in: txn)` variants of every
///   operation, for multi-step work in one transaction. A `write` closure holds LMDB's writer lock:
///   keep it short, and never call it from code that must not block.
///
/// Readers never wait for writers (LMDB's MVCC), and another process — `kvtool dump` on a live
/// store — sees a consistent snapshot without blocking anyone.
public final class TimelineStore: Sendable {
    /// The record store underneath (its environment, `meta`, and collections).
    public let store: Store
    /// Sessions, by id; indexes `project`, `parent` and `activity`.
    public let sessions: DocumentCollection<Session>
    /// Turns, by session id ‖ sequence.
    public let turnRecords: DocumentCollection<Turn>
    /// Checkpoints, by session id ‖ number; indexes `id` (unique) and `created`.
    public let checkpointRecords: DocumentCollection<Checkpoint>
    /// Crystals, by session id ‖ version.
    public let crystalRecords: DocumentCollection<Crystal>
    /// The time source for created/updated/activity times.
    let clock: @Sendable () -> Date
    let committer: GroupCommitter
    /// Whether this instance opened the environment (and so closes it): not when it was given a `Store`.
    private let ownsEnvironment: Bool

    /// Opens (or creates) the timeline in the directory at `path`.
    ///
    /// - Parameters:
    ///   - configuration: LMDB options; the default is durable (fsync at every commit) with a map
    ///     that starts small and grows by itself.
    ///   - migrationPolicy: what to do when the store's records are older than this code (see
    ///     ``DocumentStore/MigrationPolicy``; by default they are migrated at open, after a backup).
    ///   - clock: where times come from (tests pass a fixed clock).
    /// - Throws: ``LMDB/LMDBError`` from opening the files; ``DocumentStore/DocumentStoreError``
    ///   for a store written by newer code (nothing is written then) or a migration that failed.
    public convenience init(
        path: String, configuration: Environment.Configuration = .init(), migrationPolicy: MigrationPolicy = .migrateNow,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        try self.init(store: Store(path: path, configuration: configuration, migrationPolicy: migrationPolicy), clock: clock, ownsEnvironment: true)
    }

    /// Opens the timeline's collections in a store that is already open (migrating them as the
    /// store's policy says).
    public convenience init(store: Store, clock: @escaping @Sendable () -> Date = { Date() }) throws {
        try self.init(store: store, clock: clock, ownsEnvironment: false)
    }

    private init(store: Store, clock: @escaping @Sendable () -> Date, ownsEnvironment: Bool) throws {
        self.store = store
        self.ownsEnvironment = ownsEnvironment
        self.clock = { clock().storable }
        sessions = try store.collection(
            "sessions", version: Session.recordVersion, primaryKey: { KeyBytes($0.id) },
            indexes: [
                Index("project") { session in session.project.map { KeyBytes($0, session.archived, Descending(session.lastActivity)) } },
                Index("parent") { session in session.parentID.map { KeyBytes($0, session.archived, Descending(session.lastActivity)) } },
                Index("activity") { session in KeyBytes(session.archived, Descending(session.lastActivity)) },
            ],
            migrations: Session.migrations
        )
        turnRecords = try store.collection("turns", version: Turn.recordVersion, primaryKey: { KeyBytes($0.sessionID, $0.sequence) },
                                           migrations: Turn.migrations)
        checkpointRecords = try store.collection(
            "checkpoints", version: Checkpoint.recordVersion, primaryKey: { KeyBytes($0.sessionID, $0.number) },
            indexes: [
                Index("id", unique: true) { KeyBytes($0.id) },
                Index("created") { KeyBytes($0.created) },
            ],
            migrations: Checkpoint.migrations
        )
        crystalRecords = try store.collection("crystals", version: Crystal.recordVersion, primaryKey: { KeyBytes($0.sessionID, $0.version) },
                                              migrations: Crystal.migrations)
        committer = GroupCommitter(store: store)
    }

    deinit {
        committer.stop()
        if ownsEnvironment { try? store.environment.close() }
    }

    /// Finishes the writes already queued, then closes the store: later calls throw
    /// ``TimelineError/Kind/closed`` (async writes) or ``LMDB/LMDBError/Code/closed``. Opening the
    /// same path again afterwards is safe. (A `TimelineStore` made from a `Store` leaves that
    /// store's environment open for its owner.) Dropping the last reference does the same.
    public func close() async {
        let committer = self.committer
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // `stop` blocks until the writer thread drained its queue: not on a cooperative thread.
            Thread.detachNewThread {
                committer.stop()
                continuation.resume()
            }
        }
        if ownsEnvironment { try? store.environment.close() }
    }

    /// Runs `body` in a read transaction: a consistent snapshot. Use the `…(in: txn)` methods inside.
    /// The transaction and every value borrowed from it are valid only during the call.
    public func read<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        try store.read(body)
    }

    /// Runs `body` in a write transaction that commits when it returns and rolls back when it
    /// throws. Blocks while another writer (the async writer thread, another process) holds
    /// LMDB's writer lock. The closure may run again after the map grew: keep it free of side
    /// effects outside the transaction.
    @discardableResult
    public func write<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        try store.write(body)
    }

    /// Runs `work` on the writer thread, batched with other callers' work; returns once committed.
    func submit<T: Sendable>(_ work: @escaping @Sendable (borrowing WriteTransaction) throws -> T) async throws -> T {
        try await committer.submit(work)
    }

    // MARK: Statistics

    /// Record counts and space used.
    public struct Statistics: Sendable, Hashable, Codable {
        /// Sessions stored.
        public var sessions: Int
        /// Turns stored (each stored once, however many forks inherit it).
        public var turns: Int
        /// Checkpoints stored.
        public var checkpoints: Int
        /// Crystals stored, every version counted.
        public var crystals: Int
        /// Bytes of the map in use (pages up to the last one written).
        public var usedBytes: Int
        /// The map's current size in bytes (it grows by itself).
        public var mapSize: Int
        /// The size of `data.mdb` on disk.
        public var fileSize: Int
    }

    /// Counts per record kind and the space used, from one snapshot.
    public func statistics() throws -> Statistics {
        let counts = try read { txn in
            (try sessions.count(in: txn), try turnRecords.count(in: txn), try checkpointRecords.count(in: txn), try crystalRecords.count(in: txn))
        }
        let environment = store.environment
        let info = try environment.info()
        let pageSize = try environment.statistics().pageSize
        let attributes = try? FileManager.default.attributesOfItem(atPath: environment.path + "/data.mdb")
        let fileSize = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        return Statistics(
            sessions: counts.0, turns: counts.1, checkpoints: counts.2, crystals: counts.3,
            usedBytes: (info.lastPage + 1) * pageSize, mapSize: info.mapSize, fileSize: fileSize
        )
    }

    // MARK: Helpers shared by the operations

    /// The session `id`, or ``TimelineError/Kind/sessionNotFound(_:)``.
    func existingSession(_ id: UUID, in txn: borrowing Transaction<some TransactionAccess>) throws -> Session {
        guard let session = try sessions.get(KeyBytes(id), in: txn) else { throw TimelineError(.sessionNotFound(id)) }
        return session
    }

    /// Refuses a negative page size.
    func checkLimit(_ limit: Int) throws {
        if limit < 0 { throw TimelineError(.invalidRange("limit \(limit) is negative")) }
    }
}
