public import TimelineLMDB
internal import TimelineCBOR

/// A named LMDB database of `Record`s, each stored under its primary key as an ``Envelope``
/// around its CBOR encoding, with its secondary ``Index``es kept in step.
///
/// Get one from ``Store/collection(_:version:primaryKey:indexes:migrations:merge:compactForm:compression:)``. It is a small `Sendable`
/// value; every operation takes the transaction to work in, so one transaction can span several
/// collections. Records are decoded straight from LMDB's memory map.
///
/// (Named `DocumentCollection` rather than `Collection` so that it never shadows Swift's
/// `Collection` protocol in code that imports this module.)
public struct DocumentCollection<Record: Codable>: Sendable {
    /// The collection's (and its database's) name.
    public let name: String
    /// The record-type version this code writes.
    public let version: Int
    /// The LMDB database holding the records.
    public let database: Database
    /// The primary key of a record.
    public let primaryKey: @Sendable (Record) -> KeyBytes
    /// The secondary indexes, bound to their databases.
    public let indexes: [Index<Record>]
    /// ``indexes`` as the writes and the lookups walk them (see ``IndexWriter``); ``indexes``
    /// itself serves the public API, ``check(in:progress:)`` and rebuilding an index.
    let indexWriters: [IndexWriter]
    /// `Record` as a `CBORRecordDecodable` type, when it is one: its records are then read
    /// through the fast path. Looked up once, here, rather than on every read.
    let fastRecordType: (any CBORRecordDecodable.Type)?
    /// `Record` as a `CBORRecordEncodable` type, when it is one: its records are then written
    /// through ``CBORRecordEncodable/encode(cbor:)``. Looked up once, here.
    let fastEncodingType: (any CBORRecordEncodable.Type)?
    /// The migration steps, in the order of the versions they read (one per version, each below
    /// ``version``: ``Store/collection(_:version:primaryKey:indexes:migrations:merge:compactForm:compression:)``
    /// checks).
    let migrations: [MigrationStep]
    /// Combines a migrated record with the record already at its primary key (see
    /// ``Store/collection(_:version:primaryKey:indexes:migrations:merge:compactForm:compression:)``).
    let merge: (@Sendable (Record, Record) throws -> Record)?
    /// The compact stored form, when the collection writes it (see ``CompactForm``).
    public let compactForm: CompactForm<Record>?
    /// How large records are compressed (see ``ValueCompression``), bound to the page size;
    /// `nil` when the collection stores every record plain.
    let compression: CompressionRule?

    init(
        name: String, version: Int, database: Database, primaryKey: @escaping @Sendable (Record) -> KeyBytes,
        indexes: [Index<Record>], migrations: [MigrationStep] = [], merge: (@Sendable (Record, Record) throws -> Record)? = nil,
        compactForm: CompactForm<Record>? = nil, compression: CompressionRule? = nil
    ) {
        self.compactForm = compactForm
        self.compression = compression
        self.name = name
        self.version = version
        self.database = database
        self.primaryKey = primaryKey
        self.indexes = indexes
        self.indexWriters = indexes.map { IndexWriter($0) }
        self.migrations = migrations.sorted { $0.from < $1.from }
        self.merge = merge
        self.fastRecordType = Record.self as? any CBORRecordDecodable.Type
        self.fastEncodingType = Record.self as? any CBORRecordEncodable.Type
    }

    /// Appends `record` through `Fast.encode(cbor:)`, where `Fast` is `Record` itself (the
    /// opened ``fastEncodingType``): reinterpreted, not cast, as in ``decodeFast(_:_:)``.
    private static func encodeFast<Fast: CBORRecordEncodable>(_ fast: Fast.Type, _ record: Record, fieldIDs: Bool, appendingTo bytes: inout [UInt8]) throws {
        try CBOREncoder(fieldIDs: fieldIDs).encodeRecord(unsafeBitCast(record, to: Fast.self), appendingTo: &bytes)
    }

    /// Decodes `item` through `Fast.init(cbor:)`, where `Fast` is `Record` itself (the opened
    /// ``fastRecordType``). The result is reinterpreted, not cast: a dynamic cast back from an
    /// existential cost a good part of a small record's whole decode.
    private static func decodeFast<Fast: CBORRecordDecodable>(_ fast: Fast.Type, _ item: UnsafeRawBufferPointer) throws -> Record {
        unsafeBitCast(try CBORDecoder().decodeRecord(Fast.self, from: item), to: Record.self)
    }

    // MARK: Reading

    /// The record stored under `key`, or `nil`.
    /// - Throws: ``DocumentStoreError`` (`.corrupted`, `.recordVersionTooNew`) for a stored value
    ///   that is not a readable record.
    /// - Complexity: O(log n) plus decoding.
    public func get(_ key: KeyBytes, in txn: borrowing Transaction<some TransactionAccess>) throws -> Record? {
        guard let value = try database.get(key.bytes, in: txn) else { return nil }
        return try decode(value, key: key)
    }

    /// Whether a record is stored under `key`.
    public func contains(_ key: KeyBytes, in txn: borrowing Transaction<some TransactionAccess>) throws -> Bool {
        try database.get(key.bytes, in: txn) != nil
    }

    /// The number of records.
    /// - Complexity: O(1).
    public func count(in txn: borrowing Transaction<some TransactionAccess>) throws -> Int {
        try database.count(in: txn)
    }

    /// The records whose keys lie in `range`, in key order (or reverse), at most `limit` of them,
    /// starting after `cursor` — keyset pagination: O(log n + limit) at any depth.
    ///
    /// ```swift
    /// var page = try turns.scan(.prefix(KeyBytes(sessionID).bytes), limit: 100, in: txn)
    /// while let next = page.next { page = try turns.scan(.prefix(…), limit: 100, after: next, in: txn) }
    /// ```
    /// - Returns: the records and, when more remain, the cursor to continue from.
    /// - Throws: ``DocumentStoreError/Kind/invalidPageCursor`` for a cursor of another scan;
    ///   `LMDBError` `.invalidArgument` for a negative `limit`.
    public func scan(
        _ range: KeyRange = .all, reverse: Bool = false, limit: Int = .max,
        after cursor: PageCursor? = nil, in txn: borrowing Transaction<some TransactionAccess>
    ) throws -> Page<Record> {
        try walk(database, range, reverse: reverse, limit: limit, after: cursor, in: txn) { key, value, _ in
            try decode(value, key: KeyBytes(raw: Array(key)))
        }
    }

    /// The first record in key order, or `nil` when empty.
    public func first(in txn: borrowing Transaction<some TransactionAccess>) throws -> Record? {
        try scan(limit: 1, in: txn).items.first
    }

    /// The last record in key order, or `nil` when empty.
    public func last(in txn: borrowing Transaction<some TransactionAccess>) throws -> Record? {
        try scan(reverse: true, limit: 1, in: txn).items.first
    }

    // MARK: Writing

    /// Stores `record` under its primary key, replacing any record there, and moves its index
    /// entries. Unique indexes are checked before anything is written. A stored record that can
    /// no longer be read is replaced too (its index entries are then found by scanning).
    /// - Throws: ``DocumentStoreError/Kind/uniqueViolation(index:)`` (nothing written),
    ///   ``DocumentStoreError/Kind/encoding``, `LMDBError`.
    /// - Complexity: O(log n) per index plus encoding.
    public func put(_ record: Record, in txn: borrowing WriteTransaction) throws {
        let key = primaryKey(record)
        var old: Record?
        if !indexWriters.isEmpty {
            do {
                old = try get(key, in: txn)
            } catch is DocumentStoreError {
                // The stored record cannot be read (damaged, or its migration fails): find its
                // index entries by scanning, so that it can still be overwritten.
                try purgeIndexEntries(of: key, in: txn)
            }
        }
        try write(record, key: key, replacing: old, in: txn)
    }

    /// Replaces `old` — the record stored under the key, as just read in this same transaction —
    /// with `record`, moving index entries from `old`'s values to `record`'s. Saves ``put(_:in:)``
    /// reading and decoding the stored record a second time.
    /// - Throws: ``DocumentStoreError/Kind/keyChanged`` when the two records' primary keys
    ///   differ (nothing written); as ``put(_:in:)`` otherwise.
    public func replace(_ old: Record, with record: Record, in txn: borrowing WriteTransaction) throws {
        let key = primaryKey(record)
        guard primaryKey(old) == key else { throw DocumentStoreError(.keyChanged, collection: name, key: key) }
        try withUnsafePointer(to: old) { try write(record, key: key, replacingAt: $0, in: txn) }
    }

    /// Stores `record`, which must be new.
    /// - Throws: ``DocumentStoreError/Kind/duplicateKey`` when its key is taken (nothing written);
    ///   as ``put(_:in:)`` otherwise.
    public func insert(_ record: Record, in txn: borrowing WriteTransaction) throws {
        let key = primaryKey(record)
        guard indexWriters.isEmpty else {
            // Index entries go in before the record: look first, so a taken key leaves nothing.
            if try contains(key, in: txn) { throw DocumentStoreError(.duplicateKey, collection: name, key: key) }
            return try write(record, key: key, replacingAt: nil, in: txn)
        }
        // Without indexes one B-tree descent does both: LMDB refuses a taken key and writes nothing.
        do {
            try database.put(try encode(record, key: key), for: key.bytes, flags: .noOverwrite, in: txn)
        } catch LMDBError.Code.keyExists {
            throw DocumentStoreError(.duplicateKey, collection: name, key: key)
        }
    }

    /// Removes the record under `key` and its index entries. Returns whether there was one.
    ///
    /// A record that can no longer be decoded (damaged, or written by newer code) is removed too:
    /// its index entries are then found by scanning each index for its key, so that a damaged
    /// record can always be deleted.
    /// - Complexity: O(log n) per index; O(index size) per index for an undecodable record.
    @discardableResult
    public func delete(_ key: KeyBytes, in txn: borrowing WriteTransaction) throws -> Bool {
        if indexWriters.isEmpty { return try database.delete(key.bytes, in: txn) }
        let old: Record?
        do {
            old = try get(key, in: txn)
        } catch is DocumentStoreError {
            try purgeIndexEntries(of: key, in: txn)
            return try database.delete(key.bytes, in: txn)
        }
        guard let old else { return false }
        try withUnsafePointer(to: old) { old in
            for index in indexWriters {
                if let value = index.key(old), let db = index.database {
                    try db.delete(index.entryKey(value: value, primaryKey: key), in: txn)
                }
            }
        }
        return try database.delete(key.bytes, in: txn)
    }

    /// Removes every record whose primary key lies in `range`, with its index entries, so the
    /// indexes stay right. Returns how many were removed.
    ///
    /// Each record is read to find its index entries, as ``delete(_:in:)`` does — except when
    /// `range` is a prefix exactly as long as every index's scope
    /// (``Index/init(_:unique:scopedByPrimaryKeyPrefix:key:)``): then the records and their
    /// entries are two key ranges, removed without decoding anything. Measured on a 1,000-turn
    /// session: 4.0 ms reading every turn, 1.3 ms by ranges (`Docs/benchmarks.md`).
    /// - Complexity: O(k · log n) per index, for k records; O(log n + k) by ranges.
    @discardableResult
    public func deleteRange(_ range: KeyRange, in txn: borrowing WriteTransaction) throws -> Int {
        if case .included(let low) = range.lower, range == .prefix(low), !indexWriters.isEmpty,
           indexWriters.allSatisfy({ $0.scopePrefixLength == low.count }) {
            for index in indexWriters { if let db = index.database { try Self.deleteAll(in: db, prefix: low, txn) } }
            return try Self.deleteAll(in: database, prefix: low, txn)
        }
        var keys: [KeyBytes] = []
        try database.forEachEntry(range, in: txn) { entry in keys.append(KeyBytes(raw: Array(entry.key))) }
        for key in keys { try delete(key, in: txn) }
        return keys.count
    }

    /// Deletes every entry of `db` whose key starts with `prefix`, with one cursor walk; returns how many.
    @discardableResult
    private static func deleteAll(in db: Database, prefix: [UInt8], _ txn: borrowing WriteTransaction) throws -> Int {
        var deleted = 0
        try db.withCursor(in: txn) { cursor in
            var entry = try cursor.seek(prefix)
            while let current = entry, current.key.starts(with: prefix) {
                try cursor.delete()
                deleted += 1
                entry = try cursor.next()  // after a delete, LMDB's NEXT lands on the entry that followed
            }
        }
        return deleted
    }

    /// Removes every index entry that points at `key`, by scanning the indexes.
    private func purgeIndexEntries(of key: KeyBytes, in txn: borrowing WriteTransaction) throws {
        for index in indexWriters {
            guard let db = index.database else { continue }
            var stale: [[UInt8]] = []
            try db.forEachEntry(in: txn) { entry in
                if entry.value.elementsEqual(key.bytes) { stale.append(Array(entry.key)) }
            }
            for entry in stale { try db.delete(entry, in: txn) }
        }
    }

    func write(_ record: Record, key: KeyBytes, replacing old: Record?, in txn: borrowing WriteTransaction) throws {
        guard let old else { return try write(record, key: key, replacingAt: nil, in: txn) }
        try withUnsafePointer(to: old) { try write(record, key: key, replacingAt: $0, in: txn) }
    }

    /// ``write(_:key:replacing:in:)`` with the replaced record, if any, passed by address: the
    /// append path's inserts and replaces then make no `Record?` (see ``IndexWriter``).
    func write(_ record: Record, key: KeyBytes, replacingAt old: UnsafeRawPointer?, in txn: borrowing WriteTransaction) throws {
        if !indexWriters.isEmpty {
            try withUnsafePointer(to: record) { try moveIndexEntries(from: old, to: $0, key: key, in: txn) }
        }
        try database.put(try encode(record, key: key), for: key.bytes, in: txn)
    }

    /// Moves `key`'s index entries from the values of the record at `old` to those of the record
    /// at `record` (adds them, when `old` is nil). Every unique index is checked before anything
    /// is written. The records are passed by address (see ``IndexWriter``).
    func moveIndexEntries(from old: UnsafeRawPointer?, to record: UnsafeRawPointer, key: KeyBytes, in txn: borrowing WriteTransaction) throws {
        var changes: [(database: Database, remove: [UInt8]?, add: [UInt8]?)] = []
        for index in indexWriters {
            let oldValue = old.flatMap(index.key), newValue = index.key(record)
            if oldValue == newValue { continue }
            let remove = oldValue.map { index.entryKey(value: $0, primaryKey: key) }
            let add = newValue.map { index.entryKey(value: $0, primaryKey: key) }
            if let length = index.scopePrefixLength, let add, !add.starts(with: key.bytes.prefix(length)) || key.bytes.count < length {
                throw DocumentStoreError(.encoding, collection: name, key: key, underlying: IndexScopeBroken(index: index.name, length: length))
            }
            guard let db = index.database else { continue }
            if index.unique, let add, let holder = try db.get(add, in: txn), !holder.elementsEqual(key.bytes) {
                throw DocumentStoreError(.uniqueViolation(index: index.name), collection: name, key: key)
            }
            changes.append((db, remove, add))
        }
        for change in changes {
            if let remove = change.remove { try change.database.delete(remove, in: txn) }
            if let add = change.add { try change.database.put(key.bytes, for: add, in: txn) }
        }
    }

    // MARK: Indexes

    /// The index named `name`.
    /// - Throws: ``DocumentStoreError/Kind/unknownIndex(_:)`` when the collection declares none by that name.
    public func index(_ name: String) throws -> Index<Record> {
        guard let index = indexes.first(where: { $0.name == name }) else {
            throw DocumentStoreError(.unknownIndex(name), collection: self.name)
        }
        return index
    }

    /// The index named `name`, as lookups use it (see ``IndexWriter``).
    func indexWriter(_ name: String) throws -> IndexWriter {
        for index in indexWriters where index.name == name { return index }
        throw DocumentStoreError(.unknownIndex(name), collection: self.name)
    }

    /// The records whose value in index `name` lies in `range` (of encoded index values), in
    /// index order or reverse, with keyset pagination.
    ///
    /// For records with exactly one value use ``scan(index:matching:reverse:limit:after:in:)``.
    /// - Throws: ``DocumentStoreError/Kind/danglingIndexEntry(index:)`` when an entry points at a
    ///   missing record; what ``scan(_:reverse:limit:after:in:)`` throws.
    public func scan(
        index name: String, _ range: KeyRange, reverse: Bool = false, limit: Int = .max,
        after cursor: PageCursor? = nil, in txn: borrowing Transaction<some TransactionAccess>
    ) throws -> Page<Record> {
        let index = try indexWriter(name)
        guard let indexDB = index.database else { return Page(items: [], next: nil) }
        return try walk(indexDB, range, reverse: reverse, limit: limit, after: cursor, in: txn) { entryKey, primary, txn in
            guard let value = try database.get(primary, in: txn) else {
                throw DocumentStoreError(.danglingIndexEntry(index: name), collection: self.name, key: KeyBytes(raw: Array(primary)))
            }
            return try decode(value, key: KeyBytes(raw: Array(primary)))
        }
    }

    /// The records whose value in index `name` is exactly `value`.
    public func scan(
        index name: String, matching value: KeyBytes, reverse: Bool = false, limit: Int = .max,
        after cursor: PageCursor? = nil, in txn: borrowing Transaction<some TransactionAccess>
    ) throws -> Page<Record> {
        let range: KeyRange = try indexWriter(name).unique ? .closed(value.bytes, value.bytes) : .prefix(value.bytes)
        return try scan(index: name, range, reverse: reverse, limit: limit, after: cursor, in: txn)
    }

    /// The primary keys of the records whose value in index `name` lies in `range`, without
    /// reading the records.
    public func primaryKeys(
        index name: String, _ range: KeyRange, reverse: Bool = false, limit: Int = .max,
        after cursor: PageCursor? = nil, in txn: borrowing Transaction<some TransactionAccess>
    ) throws -> Page<KeyBytes> {
        guard let indexDB = try indexWriter(name).database else { return Page(items: [], next: nil) }
        return try walk(indexDB, range, reverse: reverse, limit: limit, after: cursor, in: txn) { _, primary, _ in
            KeyBytes(raw: Array(primary))
        }
    }

    /// Rebuilds `index` from every record (used when an index is added to an existing collection).
    func rebuild(_ index: Index<Record>, in txn: borrowing WriteTransaction) throws {
        guard let indexDB = index.database else { return }
        try indexDB.clear(in: txn)
        var page = try scan(limit: 1_000, in: txn)
        while true {
            for record in page.items {
                let key = primaryKey(record)
                guard let value = index.key(record) else { continue }
                let entry = index.entryKey(value: value, primaryKey: key)
                if index.unique, let holder = try indexDB.get(entry, in: txn), !holder.elementsEqual(key.bytes) {
                    throw DocumentStoreError(.uniqueViolation(index: index.name), collection: name, key: key)
                }
                try indexDB.put(key.bytes, for: entry, in: txn)
            }
            guard let next = page.next else { break }
            page = try scan(limit: 1_000, after: next, in: txn)
        }
    }

    // MARK: Encoding

    /// The envelope and CBOR encoding of `record`: the value stored for it (compressed when the
    /// collection's ``compression`` says so).
    func encode(_ record: Record, key: KeyBytes) throws -> [UInt8] {
        var bytes = Envelope.header(recordVersion: version)
        do {
            if let fastEncodingType {
                try Self.encodeFast(fastEncodingType, record, fieldIDs: compactForm != nil, appendingTo: &bytes)
            } else {
                try CBOREncoder(fieldIDs: compactForm != nil).encode(record, appendingTo: &bytes)
            }
        } catch {
            throw DocumentStoreError(.encoding, collection: name, key: key, underlying: error)
        }
        return compression?.stored(bytes, keyLength: key.bytes.count) ?? bytes
    }

    /// Decodes a stored value, straight from the memory map. `key` (the record's key, for
    /// errors) is evaluated only when something fails: building it from LMDB's buffer costs an
    /// allocation, and passing a Swift array down by pointer a closure that needs this collection
    /// type's run-time metadata — a few hundred instructions on every read either way.
    func decode(_ value: UnsafeRawBufferPointer, key: @autoclosure () -> KeyBytes) throws -> Record {
        try withStored(value, key: key()) { stored in
            switch stored {
            case .current(let item):
                do {
                    return try decode(item: item, key: key())
                } catch {
                    throw DocumentStoreError(.corrupted, collection: name, key: key(), underlying: error)
                }
            case .upgraded(let value):
                return try decode(upgraded: value, key: key())
            }
        }
    }

    /// Decodes the CBOR item of a current record and, in the compact form, sets the fields its
    /// key holds. Errors are the decoder's (or the restoring closure's), not wrapped.
    func decode(item: UnsafeRawBufferPointer, key: @autoclosure () -> KeyBytes) throws -> Record {
        var record = if let fastRecordType { try Self.decodeFast(fastRecordType, item) } else { try CBORDecoder().decode(Record.self, from: item) }
        if let compactForm { try compactForm.restore(&record, key()) }
        return record
    }

    /// What a stored value holds: the CBOR item of a current record, or — for a record not
    /// migrated yet (the lazy policy, or a read during a run) — the record upgraded in memory.
    enum StoredRecord {
        case current(UnsafeRawBufferPointer)
        case upgraded(CBORValue)
    }

    /// Opens the envelope of a stored value — expanding a compressed one first — upgrades an
    /// older record, and calls `body` with what it holds (valid only inside `body`).
    /// - Throws: ``DocumentStoreError`` — `.corrupted` (not an envelope, or a compressed one that
    ///   does not expand), `.recordVersionTooNew`, `.removedByMigration`, the migration errors;
    ///   what `body` throws.
    func withStored<Result>(
        _ value: UnsafeRawBufferPointer, key: @autoclosure () -> KeyBytes, _ body: (StoredRecord) throws -> Result
    ) throws -> Result {
        if Envelope.isCompressed(value) {
            guard let plain = Envelope.expand(value) else { throw DocumentStoreError(.corrupted, collection: name, key: key()) }
            return try plain.withUnsafeBytes { try withStored($0, key: key(), body) }
        }
        guard let (storedVersion, item) = Envelope.open(value) else {
            throw DocumentStoreError(.corrupted, collection: name, key: key())
        }
        if storedVersion == version { return try body(.current(item)) }
        if storedVersion > version {
            throw DocumentStoreError(.recordVersionTooNew(stored: storedVersion, supported: version), collection: name, key: key())
        }
        guard let first = try upgrade(item, from: storedVersion, key: key()).first else {
            throw DocumentStoreError(.removedByMigration, collection: name, key: key())
        }
        return try body(.upgraded(first))
    }

    /// Walks `db` over `range` after `cursor`, turning each entry into an item, up to `limit`.
    private func walk<Item, Access>(
        _ db: Database, _ range: KeyRange, reverse: Bool, limit: Int, after cursor: PageCursor?,
        in txn: borrowing Transaction<Access>,
        _ item: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, borrowing Transaction<Access>) throws -> Item
    ) throws -> Page<Item> {
        guard limit >= 0 else {
            throw LMDBError(.invalidArgument, operation: "scan collection \"\(name)\"", detail: "limit \(limit) is negative")
        }
        var fingerprint = PageCursor.Fingerprint()
        fingerprint.addPiece(name)
        fingerprint.addPiece(db.name ?? "")
        fingerprint.add(range.lower)
        fingerprint.add(range.upper)
        fingerprint.add(byte: reverse ? 1 : 0)
        let listing = fingerprint.value
        if let cursor, cursor.listing != listing {
            throw DocumentStoreError(.invalidPageCursor, collection: name, key: KeyBytes(raw: cursor.key))
        }
        let effective = range.continuing(after: cursor, reverse: reverse)
        var items: [Item] = []
        var lastKey: [UInt8]?
        var more = false
        try db.withCursor(in: txn) { walker in
            var entries = walker.entries(in: effective, reverse: reverse)
            while let entry = try entries.next() {
                if items.count >= limit {
                    more = true
                    break
                }
                items.append(try item(entry.key, entry.value, txn))
                lastKey = Array(entry.key)
            }
        }
        return Page(items: items, next: more ? lastKey.map { PageCursor(key: $0, listing: listing) } : nil)
    }
}

/// An index declared scoped by the first `length` bytes of the primary key produced an entry that
/// does not start with them: the declaration and the index's key closure disagree.
struct IndexScopeBroken: Error, CustomStringConvertible {
    let index: String
    let length: Int
    var description: String {
        "index \"\(index)\" is declared scoped by the first \(length) bytes of the primary key, but an entry does not start with them; fix the index's key"
    }
}

/// One page of a scan: its items and, when more remain, where the next page starts.
public struct Page<Item> {
    /// The items, in scan order.
    public var items: [Item]
    /// The cursor to pass as `after:` for the next page; `nil` on the last page.
    public var next: PageCursor?

    /// A page of `items`, continuing after `next` when that is not `nil`.
    public init(items: [Item], next: PageCursor?) {
        self.items = items
        self.next = next
    }
}

extension Page: Sendable where Item: Sendable {}

/// An opaque position in a listing (the last key returned), for keyset pagination, bound to the
/// listing that produced it. Its ``token`` is a string safe to hand to clients and take back.
///
/// A cursor continues only the listing it came from — the same collection, index, range and
/// direction (for a timeline listing: the same session, filter and order). Handed to another
/// listing, it is refused with ``DocumentStoreError/Kind/invalidPageCursor`` (or the timeline's
/// `invalidPageCursor`) rather than silently starting somewhere else. The page size may change
/// from page to page.
public struct PageCursor: Hashable, Sendable {
    /// The last key of the previous page.
    public let key: [UInt8]
    /// A fingerprint of the listing that produced the cursor (see ``listing(_:)``).
    public let listing: UInt64

    /// A cursor after `key` in the listing whose fingerprint is `listing`.
    public init(key: [UInt8], listing: UInt64) {
        self.key = key
        self.listing = listing
    }

    /// The fingerprint of a listing described by `description` (FNV-1a over its key bytes):
    /// equal descriptions, equal fingerprints.
    public static func listing(_ description: KeyBytes) -> UInt64 {
        var fingerprint = Fingerprint()
        fingerprint.add(description.bytes)
        return fingerprint.value
    }

    /// FNV-1a, 64 bits, fed piece by piece without building the description. Fed through
    /// concrete types only: through a generic `some Sequence<UInt8>`, which the callers in other
    /// modules did not specialize, each byte went through the iterator's witness calls — 17,500
    /// instructions for a turn listing's ~50 bytes, half of what a page of one turn cost.
    package struct Fingerprint {
        package private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

        package init() {}

        package mutating func add(_ bytes: UnsafeRawBufferPointer) {
            for byte in bytes { add(byte: byte) }
        }

        package mutating func add(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { add($0) }
        }

        package mutating func add(byte: UInt8) {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }

        /// A length first (as a `UInt32` key: 4 bytes, big-endian), so that two pieces cannot run
        /// into each other.
        package mutating func addPiece(_ bytes: [UInt8]) {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: bytes.count).bigEndian) { add($0) }
            add(bytes)
        }

        /// A piece of text, as its UTF-8.
        package mutating func addPiece(_ text: String) { addPiece(Array(text.utf8)) }

        package mutating func add(_ bound: KeyRange.Bound) {
            switch bound {
            case .unbounded: add(byte: 0)
            case .included(let key): add(byte: 1); addPiece(key)
            case .excluded(let key): add(byte: 2); addPiece(key)
            }
        }
    }

    /// The cursor as a hex string: the 8-byte listing fingerprint, then the key.
    public var token: String { KeyBytes(listing, KeyBytes(raw: key)).description }

    /// A cursor from its ``token``; `nil` when the string is not one.
    public init?(token: String) {
        guard let bytes = KeyBytes(hex: token)?.bytes, bytes.count >= 8 else { return nil }
        self.listing = bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        self.key = Array(bytes.dropFirst(8))
    }
}

extension KeyRange {
    /// The part of this range after `cursor` in the scan's direction.
    func continuing(after cursor: PageCursor?, reverse: Bool) -> KeyRange {
        guard let cursor else { return self }
        var range = self
        if reverse {
            if let upper = upper.key, upper.lexicographicallyPrecedes(cursor.key) { return range }
            range.upper = .excluded(cursor.key)
        } else {
            if let lower = lower.key, cursor.key.lexicographicallyPrecedes(lower) { return range }
            range.lower = .excluded(cursor.key)
        }
        return range
    }
}
