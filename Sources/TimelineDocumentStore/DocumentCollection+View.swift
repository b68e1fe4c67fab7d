public import TimelineCBOR
public import TimelineLMDB

extension DocumentCollection {
    /// Reads the record under `key` in place: `body` gets a `CBORMapView` of it, whose
    /// fields are decoded only when asked for, straight from LMDB's memory map. Returns `body`'s
    /// result, or `nil` when there is no such record.
    ///
    /// For reads that need a few fields rather than the whole record — see `Docs/benchmarks.md`
    /// for what that saves. A record of an older version is upgraded first (as ``get(_:in:)``
    /// does), so the view always shows the current layout.
    ///
    /// ```swift
    /// let tokens = try turns.withView(key, fields: Turn.fields, in: txn) { turn in
    ///     try turn.decode(.inputTokens, as: Int.self) ?? 0
    /// }
    /// ```
    /// - Parameters:
    ///   - key: the record's primary key.
    ///   - fields: the record's field names (usually its `CodingKeys`).
    ///   - txn: the transaction to read in; the view is valid only inside `body`.
    ///   - body: reads fields from the view; its result is returned.
    /// - Throws: ``DocumentStoreError`` (`.corrupted` for a damaged value or a field that does not
    ///   decode, `.recordVersionTooNew`, the migration errors); what `body` throws otherwise.
    @inlinable
    public func withView<Field, Result>(
        _ key: KeyBytes, fields: CBORFields<Field>, in txn: borrowing Transaction<some TransactionAccess>,
        _ body: (inout CBORMapView<Field>) throws -> Result
    ) throws -> Result? {
        // Inlinable down to the LMDB get, so that the caller specializes it; and no closure
        // around the view on the common path. Unspecialized, every call looked up the run-time
        // metadata of `CBORMapView<Field>` and of this collection type; inside a closure, the view
        // was copied twice through its value witnesses.
        let value = try key.bytes.withUnsafeBufferPointer { try database.get(UnsafeRawBufferPointer($0), in: txn) }
        guard let value else { return nil }
        guard let item = currentItem(value) else {
            // Compressed, damaged, written by newer code, or older and to be upgraded: the general path.
            var result: Result?
            try withItem(value, key: key) { item in
                var view = try CBORMapView(item, fields: fields)
                result = try body(&view)
            }
            return result
        }
        do {
            var view = try CBORMapView(item, fields: fields)
            return try body(&view)
        } catch let error as DecodingError {
            throw corrupted(key, error)
        }
    }

    /// Calls `body` with a view (see ``withView(_:fields:in:_:)``) of each record whose key lies
    /// in `range`, in key order or reverse, until it returns `false`.
    ///
    /// ```swift
    /// var total = 0
    /// try turns.forEachView(.prefix(KeyBytes(sessionID).bytes), fields: Turn.fields, in: txn) { turn in
    ///     total += try turn.decode(.inputTokens, as: Int.self) ?? 0
    ///     return true
    /// }
    /// ```
    @inlinable
    public func forEachView<Field>(
        _ range: KeyRange = .all, reverse: Bool = false, fields: CBORFields<Field>, in txn: borrowing Transaction<some TransactionAccess>,
        _ body: (inout CBORMapView<Field>) throws -> Bool
    ) throws {
        try forEachRecordItem(range, reverse: reverse, in: txn) { item in
            var view = try CBORMapView(item, fields: fields)
            return try body(&view)
        }
    }

    /// The CBOR item inside a stored value that is a well-formed plain envelope of the current
    /// record version; `nil` for anything else — a compressed one included (see
    /// ``withItem(_:key:_:)``).
    @inlinable
    func currentItem(_ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        // The common case in place — marker, format 1, the version in one byte (0–23) — where a
        // call to `Envelope.open` and its head reader cost ~60 instructions a record.
        if value.count >= 4, version < 24, let base = value.baseAddress, base.load(as: UInt8.self) == Envelope.marker,
           base.load(fromByteOffset: 1, as: UInt8.self) == Envelope.formatVersion, base.load(fromByteOffset: 2, as: UInt8.self) == UInt8(version) {
            return UnsafeRawBufferPointer(rebasing: value[3...])
        }
        guard let (storedVersion, item) = Envelope.open(value), storedVersion == version else { return nil }
        return item
    }

    /// A view's `DecodingError` (a damaged map, a field of the wrong type) as the error it is.
    @usableFromInline
    func corrupted(_ key: KeyBytes, _ error: DecodingError) -> DocumentStoreError {
        DocumentStoreError(.corrupted, collection: name, key: key, underlying: error)
    }

    /// Calls `body` with the CBOR item of the record under `key` (its encoded primary key, as
    /// bytes: no `KeyBytes` is made unless an error names it) — upgraded first when the record is
    /// of an older version — and returns its result; `nil` when there is no such record.
    @inlinable
    package func withRecordItem<Result>(
        rawKey key: UnsafeRawBufferPointer, in txn: borrowing Transaction<some TransactionAccess>, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result? {
        guard let value = try database.get(key, in: txn) else { return nil }
        var result: Result?
        try withItem(value, key: KeyBytes(raw: Array(key))) { result = try body($0) }
        return result
    }

    /// Calls `body` with the CBOR item of each record in `range` until it returns `false` —
    /// upgraded first when a record is of an older version.
    @inlinable
    package func forEachRecordItem(
        _ range: KeyRange, reverse: Bool, in txn: borrowing Transaction<some TransactionAccess>, _ body: (UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try forEachRecordEntry(range, reverse: reverse, in: txn) { _, item in try body(item) }
    }

    /// Calls `body` with the primary key (as stored) and the CBOR item of each record in `range`
    /// until it returns `false` — upgraded first when a record is of an older version.
    @inlinable
    package func forEachRecordEntry(
        _ range: KeyRange, reverse: Bool, in txn: borrowing Transaction<some TransactionAccess>,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try database.withCursor(in: txn) { cursor in
            var entries = cursor.entries(in: range, reverse: reverse)
            var more = true
            while more, let entry = try entries.next() {
                // A plain record of the current version goes straight to `body` (as in `withView`):
                // through `withItem`'s closures it cost ~110 instructions a record more.
                guard let item = currentItem(entry.value) else {
                    try withItem(entry.value, key: KeyBytes(raw: Array(entry.key))) { more = try body(entry.key, $0) }
                    continue
                }
                do {
                    more = try body(entry.key, item)
                } catch let error as DecodingError {
                    throw corrupted(KeyBytes(raw: Array(entry.key)), error)
                }
            }
        }
    }

    /// Calls `body` with the CBOR item inside the stored `value` — upgraded first when the record
    /// is of an older version. A `DecodingError` from `body` (a damaged map, a field of the wrong
    /// type) becomes ``DocumentStoreError/Kind/corrupted`` naming the record.
    @usableFromInline
    func withItem(_ value: UnsafeRawBufferPointer, key: @autoclosure () -> KeyBytes, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try withStored(value, key: key()) { record in
            do {
                switch record {
                case .current(let item): try body(item)
                case .upgraded(let upgraded): try upgraded.encoded().withUnsafeBytes(body)
                }
            } catch let error as DecodingError {
                throw corrupted(key(), error)
            }
        }
    }
}
