public import TimelineLMDB

/// A secondary index of a collection: a value computed from each record, kept in its own LMDB
/// database (`idx.<collection>.<name>`) and changed in the same transaction as the record.
///
/// - Non-unique index: one entry per record, key = index value ‖ primary key, empty value; records
///   with equal index values sort by primary key.
/// - Unique index: key = index value, value = primary key; a second record with the same value is
///   refused with ``DocumentStoreError/Kind/uniqueViolation(index:)``.
///
/// A record whose `key` closure returns `nil` has no entry in the index.
public struct Index<Record>: Sendable {
    /// The index's name, unique within its collection.
    public let name: String
    /// Whether two records may not share a value.
    public let unique: Bool
    let key: @Sendable (Record) -> KeyBytes?
    /// When set, every entry's key starts with the first this-many bytes of its record's primary
    /// key (an index scoped to a group of records, such as "per session"): see ``init(_:unique:scopedByPrimaryKeyPrefix:key:)``.
    public let scopePrefixLength: Int?
    /// The LMDB database holding the entries, once the index is registered with a collection.
    public internal(set) var database: Database?

    /// Declares an index.
    /// - Parameters:
    ///   - name: unique within the collection.
    ///   - unique: refuse a second record with the same value.
    ///   - key: the index value of a record, built from order-preserving parts (``KeyBytes``), or
    ///     `nil` to leave the record out.
    public init(_ name: String, unique: Bool = false, key: @escaping @Sendable (Record) -> KeyBytes?) {
        self.name = name
        self.unique = unique
        self.key = key
        self.scopePrefixLength = nil
    }

    /// Declares an index whose every entry key starts with the first `length` bytes of its
    /// record's primary key — an index within a group of records, such as the turns of one
    /// session by turn id (`session id ‖ turn id`). The collection then removes a whole group's
    /// entries as one key range, without reading its records
    /// (``DocumentCollection/deleteRange(_:in:)``); writing an entry that breaks the promise is
    /// refused with ``DocumentStoreError/Kind/encoding``, naming the index (a mistake in the
    /// declaration or the key closure, not damage: nothing was written).
    public init(_ name: String, unique: Bool = false, scopedByPrimaryKeyPrefix length: Int,
                key: @escaping @Sendable (Record) -> KeyBytes?) {
        self.name = name
        self.unique = unique
        self.key = key
        self.scopePrefixLength = length
    }

    /// The LMDB key of `record`'s entry: the index value, followed by the primary key unless unique.
    func entryKey(value: KeyBytes, primaryKey: KeyBytes) -> [UInt8] {
        indexEntryKey(unique: unique, value: value, primaryKey: primaryKey)
    }
}

/// An index entry's key: the value, then (unless the index is unique) the record's primary key.
func indexEntryKey(unique: Bool, value: KeyBytes, primaryKey: KeyBytes) -> [UInt8] {
    unique ? value.bytes : value.bytes + primaryKey.bytes
}

/// An ``Index`` as `DocumentCollection`'s write path and lookups walk it: nothing in it depends
/// on the record type, and its key function takes the record by address.
///
/// Why: `DocumentCollection`'s code is generic and is not specialized for its callers' records,
/// so every array, optional, tuple or iterator of `Index<Record>` (or `Record?`) it handled cost a
/// run-time generic-metadata look-up — about 14,500 of an append's 126,900 instructions
/// (`Docs/benchmarks.md`, "Index walks without generic metadata").
///
/// `@unchecked Sendable`: every field is immutable; ``key`` captures the index's `@Sendable` key
/// function and the record's metatype, which the compiler cannot prove sendable for a generic
/// `Record` (it is only used to read the record the caller points at).
struct IndexWriter: @unchecked Sendable {
    let name: String
    let unique: Bool
    let scopePrefixLength: Int?
    let database: Database?
    /// The index's value for the record at the address (a `Record`), or nil for none.
    let key: (UnsafeRawPointer) -> KeyBytes?

    init<Record>(_ index: Index<Record>) {
        name = index.name
        unique = index.unique
        scopePrefixLength = index.scopePrefixLength
        database = index.database
        let key = index.key
        self.key = { key($0.assumingMemoryBound(to: Record.self).pointee) }
    }

    func entryKey(value: KeyBytes, primaryKey: KeyBytes) -> [UInt8] {
        indexEntryKey(unique: unique, value: value, primaryKey: primaryKey)
    }
}
