extension Environment {
    /// How commits reach the disk. Every level keeps the store consistent after a crash of the
    /// process; they differ in what an operating-system crash or power cut can take away.
    ///
    /// See LMDB's `mdb_env_open` documentation for `MDB_NOMETASYNC` and `MDB_NOSYNC`.
    public enum Durability: Sendable, Hashable {
        /// Every commit is flushed (`fsync`) before it returns. An acknowledged write survives a
        /// power cut. The default.
        case durable
        /// Data pages are flushed at commit, the meta page only at the next commit or
        /// ``Environment/sync(force:)`` (`MDB_NOMETASYNC`). A power cut can lose the last
        /// transaction but never corrupts the store.
        case noMetaSync
        /// Nothing is flushed at commit (`MDB_NOSYNC`); the operating system writes pages back
        /// when it likes. A power cut can lose every transaction since the last
        /// ``Environment/sync(force:)`` — and, on file systems that reorder writes, damage the
        /// store. For tests and bulk loads that are redone from scratch after a failure.
        case noSync
        /// Every commit is appended to a write-ahead log (`data.wal`, beside `data.mdb`) that is
        /// synced once before the commit returns; LMDB itself commits without syncing, and a
        /// checkpoint syncs `data.mdb` from time to time, on a thread of its own while commits go
        /// on (see ``Configuration/checkpointCommits``). An acknowledged write survives a power
        /// cut, as with ``durable``, and a lone commit takes a third to half the time (one
        /// sequential sync instead of LMDB's two scattered ones). Opening after a power cut rolls `data.mdb`
        /// back to the last checkpoint and replays the log.
        ///
        /// One process at a time writes a store this way: it holds a lock on `data.wal`, and a
        /// read-write open elsewhere throws ``LMDBError/Code/busy``. Other processes may read.
        /// See `Docs/architecture.md`, "The write-ahead log".
        case writeAheadLog
    }

    /// Options for opening an ``Environment``. The defaults suit a service's store.
    public struct Configuration: Sendable, Hashable {
        /// The map size to start with, in bytes. The map grows by itself when a write needs more
        /// room (see `Docs/architecture.md`), so this only has to be a sensible first size. An
        /// existing store opens with the larger of this and the size it was last given.
        /// Default 16 MiB.
        public var mapSize: Int = 16 << 20

        /// The largest the map may grow to, in bytes; a write that needs more fails with
        /// ``LMDBError/Code/mapFull``. The map also starts at no more than this (a larger
        /// ``mapSize`` is lowered to it), and grows to exactly this when the next step would pass
        /// it. At least 1. Default 1 TiB: address space, not disk, since the data file grows only
        /// as pages are written.
        public var maxMapSize: Int = 1 << 40

        /// How many named databases the environment can hold (`mdb_env_set_maxdbs`): 0 to
        /// ``Environment/maxDatabasesLimit``. Default 64.
        public var maxDatabases: Int = 64

        /// How many read transactions can be open at once across all processes
        /// (`mdb_env_set_maxreaders`): 1 to ``Environment/maxReadersLimit``. Default 126, LMDB's own.
        public var maxReaders: Int = 126

        /// The permission bits (0o000…0o777) of the files LMDB creates. Default `0o600`: owner only. The
        /// directory, when this call creates it, gets the same bits plus execute where read is set.
        public var fileMode: UInt32 = 0o600

        /// When commits are flushed to disk. Default ``Durability/durable``.
        public var durability: Durability = .durable

        /// With ``Durability/writeAheadLog``: after how many commits a checkpoint begins (also
        /// after 16 MiB of records, or 1,024 pages of growth of `data.mdb`). It runs on the log's
        /// own thread while commits go on; commits made meanwhile count towards the next one.
        /// Fewer keep `data.mdb` and recovery smaller at the cost of more syncs. Default 64; at
        /// least 1.
        public var checkpointCommits: Int = 64

        /// Open without the right to write (`MDB_RDONLY`): `write` throws
        /// ``LMDBError/Code/readOnly``, missing databases are not created, and a missing directory
        /// is an error.
        public var readOnly: Bool = false

        /// A configuration with every default.
        public init() {}

        /// A configuration with the given values; the rest keep their defaults.
        public init(
            mapSize: Int = 16 << 20,
            maxMapSize: Int = 1 << 40,
            maxDatabases: Int = 64,
            maxReaders: Int = 126,
            fileMode: UInt32 = 0o600,
            durability: Durability = .durable,
            readOnly: Bool = false
        ) {
            self.mapSize = mapSize
            self.maxMapSize = maxMapSize
            self.maxDatabases = maxDatabases
            self.maxReaders = maxReaders
            self.fileMode = fileMode
            self.durability = durability
            self.readOnly = readOnly
        }
    }
}
