/// A record's CBOR map read in place: nothing is decoded up front; each field is found and
/// decoded when asked for, straight from the buffer (for a stored record, LMDB's memory map).
///
/// Use it when a read needs a few fields of a record rather than all of them — summing token
/// counts over a session, checking a role before loading a text. Building a record's Swift value
/// (its `String`s, its dictionaries) costs more than finding it in the database; a view pays only
/// for what it reads.
///
/// ```swift
/// var view = try CBORMapView(bytes, fields: Note.fields)
/// let id = try view.decode(.id, as: Int64.self)          // nil when the map has no "id"
/// if var tags = try view.value(.tags) { try tags.readArray { … } }
/// ```
///
/// A look-up walks the map's keys from where the previous one stopped, wrapping around at the
/// end: fields read in the order they are stored cost one walk over the map in all. Nothing is
/// allocated; every read is bounds-checked, so damaged bytes throw `DecodingError`s. A view is
/// valid only while its buffer is (for DocumentStore, during the transaction).
public struct CBORMapView<Field: CodingKey & CaseIterable & Equatable> {
    @usableFromInline let context: DecodingContext
    @usableFromInline let fields: CBORFields<Field>
    @usableFromInline var scan: MapScan

    /// A view of the map that `buffer` starts with.
    /// - Throws: `DecodingError` when the buffer does not start with a definite-length map.
    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, fields: CBORFields<Field>, maxDepth: Int = 256) throws {
        context = DecodingContext(buffer: buffer, maxDepth: maxDepth, validated: false)
        self.fields = fields
        var position = 0
        let count = try context.containerCount([String: String].self, major: 5, at: &position, [])
        scan = MapScan(start: position, count: count)
    }

    /// A reader standing at `field`'s value, or `nil` when the map has no such key.
    @inlinable
    public mutating func value(_ field: Field) throws -> CBORItemReader? {
        guard let index = fields.cases.firstIndex(of: field),
              let offset = try context.find(fields.names, index, scan: &scan)
        else { return nil }
        return CBORItemReader(context: context, offset: offset)
    }

    /// `field`'s value as a `T`, or `nil` when the map has no such key or its value is `null`.
    /// - Throws: `DecodingError` when the value is not a `T`.
    @inlinable
    public mutating func decode<T: Decodable>(_ field: Field, as type: T.Type) throws -> T? {
        guard var reader = try value(field), !reader.decodeNil() else { return nil }
        return try reader.decode(T.self)
    }

    /// `field`'s value as a `T`, for a field the record cannot lack.
    /// - Throws: `DecodingError` when the map has no such key, its value is `null`, or it is not a `T`.
    @inlinable
    public mutating func require<T: Decodable>(_ field: Field, as type: T.Type) throws -> T {
        guard let value = try decode(field, as: T.self) else {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: [field], debugDescription: "the record has no \"\(field.stringValue)\""))
        }
        return value
    }

    /// Whether the map has a key for `field`.
    @inlinable
    public mutating func contains(_ field: Field) throws -> Bool { try value(field) != nil }
}

/// Where a ``CBORMapView`` stands in its map: the map's extent, and the last entry found.
@usableFromInline
struct MapScan {
    /// Where the map's first key starts, and how many entries it has.
    let start: Int, count: Int
    /// The offset of the last entry found's value (or of the first key, before any), and that
    /// entry's number (or -1).
    var offset: Int, entry = -1

    @usableFromInline
    init(start: Int, count: Int) {
        self.start = start
        self.count = count
        offset = start
    }
}

extension DecodingContext {
    /// The offset of the value of the entry named `names[index]`, looking from the entry after
    /// `scan`'s last one to the end of the map, then from its start; `nil` when there is none.
    @usableFromInline
    func find(_ names: FieldNames, _ index: Int, scan: inout MapScan) throws -> Int? {
        var position = scan.offset
        if scan.entry >= 0 { position = try quickEnd(ofItemAt: position) ?? end(ofItemAt: position, codingPath: []) }
        for entry in scan.entry + 1..<scan.count {
            if let offset = try find(names, index, at: &position) {
                (scan.offset, scan.entry) = (offset, entry)
                return offset
            }
        }
        position = scan.start
        for entry in 0..<max(0, scan.entry + 1) {
            if let offset = try find(names, index, at: &position) {
                (scan.offset, scan.entry) = (offset, entry)
                return offset
            }
        }
        return nil
    }

    /// Whether the entry at `position` is named `names[index]`: if so its value's offset, if not
    /// `nil` with `position` moved to the next entry.
    @inline(__always)
    private func find(_ names: FieldNames, _ index: Int, at position: inout Int) throws -> Int? {
        // Keys of up to 23 bytes have a one-byte head: compare lengths before anything else.
        if position < buffer.count, case let initial = buffer[position], initial >= 0x60, initial < 0x78,
           case let length = Int(initial & 0x1F), length < buffer.count - position {
            let key = position + 1
            position = key + length
            if names.length(index) == length, names.equals(index, UnsafeRawBufferPointer(rebasing: buffer[key..<position])) { return position }
        } else if let key = try textKey(at: &position), names.equals(index, key) {
            return position
        }
        position = try quickEnd(ofItemAt: position) ?? end(ofItemAt: position, codingPath: [])
        return nil
    }
}
