/// An error from the record layer, with the collection, the key (printable) and the cause.
///
/// Name its ``Code`` in a `catch` clause, or test ``kind`` for the associated values:
/// ```swift
/// do { try notes.insert(note, in: txn) }
/// catch DocumentStoreError.Code.duplicateKey { … }
/// catch let error as DocumentStoreError where error.kind == .uniqueViolation(index: "email") { … }
/// ```
///
/// `@unchecked Sendable`: every field is immutable; the underlying error is kept only to be read.
public struct DocumentStoreError: Error, CustomStringConvertible, @unchecked Sendable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// `insert` found a record with the same primary key.
        case duplicateKey
        /// A unique index already holds the value, for another record.
        case uniqueViolation(index: String)
        /// A stored value is not a record envelope, or its CBOR does not decode as the type.
        case corrupted
        /// A stored record was written by newer code (its version is above the collection's).
        case recordVersionTooNew(stored: Int, supported: Int)
        /// The store's format is newer than this code understands.
        case formatTooNew(stored: Int, supported: Int)
        /// A record could not be encoded.
        case encoding
        /// An index entry points at a record that does not exist.
        case danglingIndexEntry(index: String)
        /// A page cursor that this scan did not produce.
        case invalidPageCursor
        /// `replace` was given two records with different primary keys.
        case keyChanged
        /// The collection's records are at an older version and the store's policy is
        /// ``MigrationPolicy/failIfNeeded``.
        case migrationNeeded(stored: Int, current: Int)
        /// A migration step threw for the record (its stored version given); the run stopped
        /// there, everything before it stays committed.
        case migrationFailed(version: Int)
        /// A migration gave a record a primary key that another record already has.
        case migrationKeyCollision
        /// Read lazily, the record is one its pending migration removes.
        case removedByMigration
        /// ``MigrationRunner`` was asked for a collection that was not registered with the store.
        case notRegistered
        /// The LMDB environment holds data but is not a DocumentStore store (no `meta` database
        /// with a format version): it belongs to another program, and nothing was written to it.
        case foreignStore
        /// An index name the collection does not declare (a programming error, not damage).
        case unknownIndex(String)
    }

    /// What went wrong.
    public let kind: Kind
    /// The collection involved.
    public let collection: String
    /// The record's key in hex, when one is involved.
    public let key: String?
    /// The error underneath (a `DecodingError`, `EncodingError`, `LMDBError`…), if any.
    public let underlying: (any Error)?

    /// Creates an error.
    public init(_ kind: Kind, collection: String, key: KeyBytes? = nil, underlying: (any Error)? = nil) {
        self.kind = kind
        self.collection = collection
        self.key = key?.description
        self.underlying = underlying
    }

    /// A readable sentence: what, where, why, and what to do.
    public var description: String {
        let place = "collection \"\(collection)\"" + (key.map { ", key \($0)" } ?? "")
        let what: String = switch kind {
        case .duplicateKey: "a record with this key already exists (use put to replace it)"
        case .uniqueViolation(let index): "unique index \"\(index)\" already holds this value for another record; nothing was written"
        case .corrupted: "the stored value is damaged or not a record of this type: run `kvtool check` and restore from a backup"
        case .recordVersionTooNew(let stored, let supported):
            "the record was written with version \(stored) but this code reads up to version \(supported): upgrade the code"
        case .formatTooNew(let stored, let supported):
            "the store's format version is \(stored) but this code reads up to \(supported): upgrade the code"
        case .encoding: "the record could not be encoded"
        case .danglingIndexEntry(let index): "index \"\(index)\" points at a record that does not exist: run `kvtool check`"
        case .invalidPageCursor: "the page cursor does not belong to this scan"
        case .keyChanged: "replace needs the old and new record to share a primary key; nothing was written"
        case .migrationNeeded(let stored, let current):
            "the records are at version \(stored) and this code is at version \(current): open the store with a migration policy that migrates, or run `kvtool migrate`"
        case .migrationFailed(let version):
            "the migration step from version \(version) failed for this record; records before it are migrated and committed: fix the step and run the migration again to continue"
        case .migrationKeyCollision: "a migrated record's primary key is already taken by another record; nothing of this batch was written"
        case .removedByMigration: "the pending migration removes this record; run the migration"
        case .notRegistered: "no collection of this name is registered with the store: register it (store.collection(...)) before migrating"
        case .foreignStore:
            "this LMDB environment holds data but is not a TimelineStore/DocumentStore store (no meta database with a format version); nothing was written: point at the right directory, or an empty one for a new store"
        case .unknownIndex(let index): "the collection declares no index named \"\(index)\"; check the name against its declaration"
        }
        return "\(place): \(what)" + (underlying.map { " (\($0))" } ?? "")
    }
}

extension DocumentStoreError {
    /// The name of a ``Kind`` without its associated values, for `catch` clauses:
    /// `catch DocumentStoreError.Code.corrupted { … }` (an enum case pattern cannot match an
    /// `any Error`; this struct's `~=` can, as `LMDBError.Code` does for LMDB).
    public struct Code: RawRepresentable, Hashable, Sendable {
        /// The kind's case name.
        public let rawValue: String
        /// A code from a case name.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// ``Kind/duplicateKey``.
        public static let duplicateKey = Code(rawValue: "duplicateKey")
        /// ``Kind/uniqueViolation(index:)``.
        public static let uniqueViolation = Code(rawValue: "uniqueViolation")
        /// ``Kind/corrupted``.
        public static let corrupted = Code(rawValue: "corrupted")
        /// ``Kind/recordVersionTooNew(stored:supported:)``.
        public static let recordVersionTooNew = Code(rawValue: "recordVersionTooNew")
        /// ``Kind/formatTooNew(stored:supported:)``.
        public static let formatTooNew = Code(rawValue: "formatTooNew")
        /// ``Kind/encoding``.
        public static let encoding = Code(rawValue: "encoding")
        /// ``Kind/danglingIndexEntry(index:)``.
        public static let danglingIndexEntry = Code(rawValue: "danglingIndexEntry")
        /// ``Kind/invalidPageCursor``.
        public static let invalidPageCursor = Code(rawValue: "invalidPageCursor")
        /// ``Kind/keyChanged``.
        public static let keyChanged = Code(rawValue: "keyChanged")
        /// ``Kind/migrationNeeded(stored:current:)``.
        public static let migrationNeeded = Code(rawValue: "migrationNeeded")
        /// ``Kind/migrationFailed(version:)``.
        public static let migrationFailed = Code(rawValue: "migrationFailed")
        /// ``Kind/migrationKeyCollision``.
        public static let migrationKeyCollision = Code(rawValue: "migrationKeyCollision")
        /// ``Kind/removedByMigration``.
        public static let removedByMigration = Code(rawValue: "removedByMigration")
        /// ``Kind/notRegistered``.
        public static let notRegistered = Code(rawValue: "notRegistered")
        /// ``Kind/foreignStore``.
        public static let foreignStore = Code(rawValue: "foreignStore")
        /// ``Kind/unknownIndex(_:)``.
        public static let unknownIndex = Code(rawValue: "unknownIndex")

    }

    /// ``kind`` without its associated values.
    public var code: Code {
        switch kind {
        case .duplicateKey: .duplicateKey
        case .uniqueViolation: .uniqueViolation
        case .corrupted: .corrupted
        case .recordVersionTooNew: .recordVersionTooNew
        case .formatTooNew: .formatTooNew
        case .encoding: .encoding
        case .danglingIndexEntry: .danglingIndexEntry
        case .invalidPageCursor: .invalidPageCursor
        case .keyChanged: .keyChanged
        case .migrationNeeded: .migrationNeeded
        case .migrationFailed: .migrationFailed
        case .migrationKeyCollision: .migrationKeyCollision
        case .removedByMigration: .removedByMigration
        case .notRegistered: .notRegistered
        case .foreignStore: .foreignStore
        case .unknownIndex: .unknownIndex
        }
    }
}

/// Whether `error` is a ``DocumentStoreError`` with this code: lets a `catch` clause name a code,
/// `catch DocumentStoreError.Code.corrupted { … }`.
public func ~= (code: DocumentStoreError.Code, error: any Error) -> Bool {
    (error as? DocumentStoreError)?.code == code
}
