#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import TimelineLMDB
public import TimelineDocumentStore
internal import Foundation
internal import Synchronization

/// An append-only, crash-proof history of LLM conversations — sessions, turns, checkpoints and
/// crystals — in one LMDB store on disk.
///
/// ```swift
/// let timeline = try TimelineStore(path: "/var/lib/chat/timeline")
/// let session = try await timeline.createSession(NewSession(title: "Trip planning", project: "travel"))
/// try await timeline.append(NewTurn(role: .user, content: "Where should I go in May?"), to: session.id)
/// let page = try timeline.turns(of: session.id, limit: 50)
/// await timeline.close()
/// ```
///
/// It is `Sendable`: share one instance across the service. Every operation is defined once, as
/// a method of ``TimelineTransaction``; the store offers each one in a single call too:
/// - **writes are `async`** and go to one writer thread that coalesces concurrent callers into
///   shared transactions (group commit); each caller resumes once its own data is committed —
///   with the default `Environment.Durability.durable`, once it is on disk. Several writes
///   that must happen together go in one `write(_:)` closure, group-committed too.
/// - **reads are synchronous**: each runs in its own read transaction on the caller's thread. An
///   LMDB read never waits for a writer or a lock, and a page of turns takes microseconds, far
///   less than handing the work to another thread would (see `Docs/architecture.md`). Several
///   reads that must see one snapshot go in one ``read(_:)`` closure.
///
/// Another process — `kvtool dump` on a live store — sees a consistent snapshot without
/// blocking anyone.
public final class TimelineStore: Sendable {
    /// A read transaction on the timeline: every read operation.
    public typealias ReadTransaction = TimelineTransaction<ReadAccess>
    /// A write transaction on the timeline: every operation.
    public typealias WriteTransaction = TimelineTransaction<WriteAccess>

    /// The record store underneath (its environment, `meta`, and collections).
    package let store: Store
    /// The LMDB environment underneath, for maintenance: an online backup
    /// (`Environment.copy(to:compact:)`), `Environment.info()`,
    /// `Environment.effectiveDurability()`. Records are reached through transactions only.
    public var environment: Environment { store.environment }
    /// Sessions, by id; indexes `project`, `parent` and `activity`.
    package let sessions: DocumentCollection<Session>
    /// Turns, by session id ‖ sequence; index `id` (session id ‖ turn id, unique).
    package let turnRecords: DocumentCollection<Turn>
    /// The database of `turnRecords`' `id` index, looked up once (a look-up by name costs more
    /// than the get a fork's append makes with it for each ancestor); `nil` in a read-only open
    /// of a store that has not built it.
    let turnIDs: Database?
    /// Checkpoints, by session id ‖ number; indexes `id` (unique) and `created`.
    package let checkpointRecords: DocumentCollection<Checkpoint>
    /// Crystals, by session id ‖ version.
    package let crystalRecords: DocumentCollection<Crystal>
    /// The change log, by position (`Docs/changes.md`); `nil` only in a read-only open of a store
    /// written before the log existed (the first writable open creates it).
    package let changeRecords: DocumentCollection<Change>?
    /// The change log's named consumers, by name (`nil` when ``changeRecords`` is).
    package let consumerRecords: DocumentCollection<ChangeConsumer>?
    /// The time source for created/updated/activity times.
    let clock: @Sendable () -> Date
    let committer: GroupCommitter
    /// Wakes the change log's followers in this process after a commit.
    let changeSignal = ChangeSignal()
    /// The watch on the data file that wakes followers after other processes' commits: started by
    /// the first follower, stopped at close.
    private let dataFileWatch = Mutex<WatchState>(.notStarted)
    private enum WatchState { case notStarted, watching(DataFileWatch), unavailable, closed }
    /// How this instance stores large records (`init`'s `compression`); a backup it brings up to
    /// date is opened the same way, so that the records it copies are stored as this store
    /// stores them.
    let compression: ValueCompression
    /// Whether this instance opened the environment (and so closes it): not when it was given a `Store`.
    private let ownsEnvironment: Bool

    /// Opens (or creates) the timeline in the directory at `path`.
    ///
    /// - Parameters:
    ///   - path: the store's directory, created when missing.
    ///   - configuration: LMDB options; the default is durable (fsync at every commit) with a map
    ///     that starts small and grows by itself.
    ///   - migrationPolicy: what to do when the store's records are older than this code (see
    ///     `MigrationPolicy`; by default they are migrated at open, after a backup).
    ///   - clock: where times come from (tests pass a fixed clock). A write while it gives a time
    ///     outside the years 1678–2261, or NaN, is refused with
    ///     ``TimelineError/invalidValue(field:reason:)`` (field `clock`), nothing written.
    ///   - compression: how large turns, checkpoints and crystals are stored: by default plain
    ///     (`.none`); `ValueCompression.lz4` compresses them with LZ4 from 2,000 bytes where that
    ///     saves file space — ~15 % smaller files for English-like text, but reading a compressed
    ///     record costs more than reading a plain one, and the store moves to format 2, which
    ///     TimelineStore versions from before compression refuse (`Docs/guide.md`). Either way
    ///     every record, of either form, reads.
    /// - Throws: `LMDBError` from opening the files; `DocumentStoreError`
    ///   for a store written by newer code (nothing is written then) or a migration that failed.
    public convenience init(
        path: String, configuration: Environment.Configuration = .init(), migrationPolicy: MigrationPolicy = .migrateNow,
        clock: @escaping @Sendable () -> Date = { Date() }, compression: ValueCompression = .none
    ) throws {
        try self.init(store: Store(path: path, configuration: configuration, migrationPolicy: migrationPolicy), clock: clock,
                      compression: compression, ownsEnvironment: true)
    }

    /// Opens the timeline's collections in a store that is already open (migrating them as the
    /// store's policy says); `compression` as in ``init(path:configuration:migrationPolicy:clock:compression:)``.
    public convenience init(store: Store, clock: @escaping @Sendable () -> Date = { Date() }, compression: ValueCompression = .none) throws {
        try self.init(store: store, clock: clock, compression: compression, ownsEnvironment: false)
    }

    private init(store: Store, clock: @escaping @Sendable () -> Date, compression: ValueCompression, ownsEnvironment: Bool) throws {
        self.store = store
        self.compression = compression
        self.ownsEnvironment = ownsEnvironment
        self.clock = { clock().storable }
        sessions = try store.collection(
            "sessions", version: Session.recordVersion, primaryKey: { KeyBytes($0.id) },
            indexes: [
                Index("project") { session in session.project.map { KeyBytes($0, session.archived, Descending(session.lastActivity)) } },
                Index("parent") { session in session.parentID.map { KeyBytes($0, session.archived, Descending(session.lastActivity)) } },
                Index("activity") { session in KeyBytes(session.archived, Descending(session.lastActivity)) },
            ],
            migrations: Session.migrations,
            compactForm: CompactForm { session, key in
                var reader = KeyReader(key.bytes)
                guard let id = reader.read(UUID.self), reader.isAtEnd else { throw Self.unreadableKey(key) }
                Session.restoreKeyFields(&session, id: id)
            }
        )
        // `id` is per session (session id ‖ turn id), so that a session's entries sit together:
        // an append touches the page its session's entries are on, a delete removes a contiguous run.
        turnRecords = try store.collection("turns", version: Turn.recordVersion, primaryKey: { KeyBytes($0.sessionID, $0.sequence.keyPart) },
                                           indexes: [Index("id", unique: true, scopedByPrimaryKeyPrefix: 16) { KeyBytes($0.sessionID, $0.id) }],
                                           migrations: Turn.migrations,
                                           compactForm: CompactForm { turn, key in
                                               guard let (session, sequence) = Self.sessionAndNumber(key.bytes) else { throw Self.unreadableKey(key) }
                                               Turn.restoreKeyFields(&turn, sessionID: session, sequence: sequence)
                                           },
                                           compression: compression)
        turnIDs = try turnRecords.index("id").database
        checkpointRecords = try store.collection(
            "checkpoints", version: Checkpoint.recordVersion, primaryKey: { KeyBytes($0.sessionID, $0.number.keyPart) },
            indexes: [
                Index("id", unique: true) { KeyBytes($0.id) },
                Index("created") { KeyBytes($0.created) },
            ],
            migrations: Checkpoint.migrations, compression: compression
        )
        crystalRecords = try store.collection("crystals", version: Crystal.recordVersion, primaryKey: { KeyBytes($0.sessionID, $0.version.keyPart) },
                                              migrations: Crystal.migrations, compression: compression)
        do {
            changeRecords = try store.collection("changes", version: Change.recordVersion, primaryKey: { KeyBytes($0.position.keyPart) },
                                                 migrations: Change.migrations)
        } catch LMDBError.Code.notFound where store.environment.configuration.readOnly {
            changeRecords = nil
        }
        do {
            consumerRecords = try store.collection("consumers", version: ChangeConsumer.recordVersion, primaryKey: { KeyBytes($0.name) })
        } catch LMDBError.Code.notFound where store.environment.configuration.readOnly {
            consumerRecords = nil
        }
        let signal = changeSignal
        committer = GroupCommitter(store: store, committed: { signal.signal() })
    }

    /// The layout of each database's keys, as the collections above write them (`Docs/format.md`):
    /// what `kvtool dump`, `load` and `get` decode keys with. `kvtool check`/`dump` report any
    /// stored key that does not follow its layout, so this table cannot drift from the code unseen.
    package static let keyLayouts: [String: KeyLayout] = [
        "sessions": KeyLayout(.uuid),
        "turns": KeyLayout(.uuid, .u64), "checkpoints": KeyLayout(.uuid, .u64), "crystals": KeyLayout(.uuid, .u64),
        "idx.sessions.project": KeyLayout(.string, .bool, .descendingDate, .uuid),
        "idx.sessions.parent": KeyLayout(.uuid, .bool, .descendingDate, .uuid),
        "idx.sessions.activity": KeyLayout(.bool, .descendingDate, .uuid),
        "idx.turns.id": KeyLayout(.uuid, .uuid),
        "idx.checkpoints.id": KeyLayout(.uuid),
        "idx.checkpoints.created": KeyLayout(.date, .uuid, .u64),
        "changes": KeyLayout(.u64),
        "consumers": KeyLayout(.string),
    ]

    /// Starts the data-file watch if it is not running; returns whether other processes' commits
    /// wake this store's followers (`false`: they must poll).
    func watchOtherProcesses() -> Bool {
        let signal = changeSignal
        return dataFileWatch.withLock { state in
            switch state {
            case .watching: return true
            case .unavailable, .closed: return false
            case .notStarted:
                guard let watch = DataFileWatch.start(path: store.environment.path, onChange: { signal.signal() }) else {
                    state = .unavailable
                    return false
                }
                state = .watching(watch)
                return true
            }
        }
    }

    /// Stops the data-file watch for good.
    private func stopWatching() {
        let previous = dataFileWatch.withLock { state in
            defer { state = .closed }
            return state
        }
        switch previous {
        case .watching(let watch): watch.stop()
        case .notStarted, .unavailable, .closed: break
        }
    }

    deinit {
        stopWatching()
        committer.stop()
        if ownsEnvironment { try? store.environment.close() }
    }

    /// Finishes the writes already queued, then closes the store: later calls throw
    /// ``TimelineError/closed`` (async writes) or `LMDBError.Code.closed`. Opening the
    /// same path again afterwards is safe. (A `TimelineStore` made from a `Store` leaves that
    /// store's environment open for its owner.) Dropping the last reference does the same.
    public func close() async {
        let committer = self.committer
        if committer.mayWaitToStop {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // `stop` blocks until the writer thread drained its queue: not on a cooperative thread.
                Thread.detachNewThread {
                    committer.stop()
                    continuation.resume()
                }
            }
        } else {
            committer.stop()   // no writer thread was started: returns at once
        }
        stopWatching()
        if ownsEnvironment { try? store.environment.close() }
        // Followers read the log once more and end with `.closed`, rather than at their next
        // poll (an hour later, with an hour's poll interval).
        changeSignal.signal()
    }

    // MARK: Transactions

    /// Runs `body` in a read transaction: one consistent snapshot, on the calling thread. Readers
    /// never wait for writers. The transaction and every value borrowed from it are valid only
    /// during the call.
    ///
    /// ```swift
    /// let (session, latest) = try timeline.read { tx in
    ///     (try tx.session(id), try tx.turns(of: id, reverse: true, limit: 20))
    /// }
    /// ```
    /// - Throws: what `body` throws; `LMDBError` when the snapshot cannot begin.
    public func read<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        try store.read { txn in try body(TimelineTransaction(self, txn)) }
    }

    /// Runs `body` in a write transaction through the group-committing writer thread, batched with
    /// other callers' writes: returns once the transaction holding it is committed (on disk, with
    /// the default durability). Either all of `body`'s writes happen or none: when it throws,
    /// only its own writes are rolled back and the error is rethrown.
    ///
    /// ```swift
    /// let fork = try await timeline.write { tx in
    ///     let fork = try tx.fork(session: id, at: 10)
    ///     try tx.append(NewTurn(role: .user, content: "Try again, shorter"), to: fork.id)
    ///     return fork
    /// }
    /// ```
    /// The calling task suspends while it waits; no cooperative thread blocks on LMDB's writer
    /// lock. `body` runs on the writer thread and **may run more than once** (when the map grows, or
    /// when another caller's work in the same group-committed batch threw):
    /// keep its side effects inside the transaction. Cancelling the calling task does not withdraw
    /// the work: it runs and commits, and the call returns its result as usual.
    /// - Throws: what `body` throws; ``TimelineError/closed`` after ``close()``;
    ///   `LMDBError` when the commit fails (then nothing of the batch was written).
    @discardableResult
    public func write<R: Sendable>(_ body: @escaping @Sendable (borrowing WriteTransaction) throws -> R) async throws -> R {
        try await committer.submit { txn in try body(TimelineTransaction(self, txn)) }
    }

    /// Runs `body` in a write transaction on the calling thread, for code that is not `async`
    /// (scripts, tools, tests). It commits when `body` returns and rolls back when it throws.
    ///
    /// It blocks while another writer (the writer thread of `write(_:)`, another
    /// process) holds LMDB's writer lock, so async code should use the `async` form instead.
    /// `body` may run again after the map grew: keep it free of side effects outside the
    /// transaction.
    @discardableResult
    public func write<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        defer { changeSignal.signal() }
        return try store.write { txn in try body(TimelineTransaction(self, txn)) }
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
        let counts = try store.read { txn in
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
}
