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
/// The map is walked at most once, entry by entry, as far as the fields asked for require: the
/// position of every field passed on the way is remembered (in a fixed table, nothing
/// allocated), so a field already passed costs a table read, and fields read in the order they
/// are stored cost one walk in all. A field is found by its name or by its field id (the compact
/// form, ``CBOREncoder/fieldIDs``); other keys are skipped; of a field given
/// twice, the first is read. Every read is bounds-checked, so damaged bytes throw `DecodingError`s
/// when the walk or the read reaches them. The table holds a type's first 16 fields; a look-up
/// for a later one walks the map from its start. A view is valid only while its buffer is (for
/// DocumentStore, during the transaction).
public struct CBORMapView<Field: CodingKey & CaseIterable & Equatable> {
    @usableFromInline let context: DecodingContext
    @usableFromInline let fields: CBORFields<Field>
    @usableFromInline var walk: MapWalk

    /// A view of the map that `buffer` starts with.
    /// - Throws: `DecodingError` when the buffer does not start with a definite-length map.
    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, fields: CBORFields<Field>, maxDepth: Int = 256) throws {
        // Everything that can throw comes before any stored property is set: a throwing path out
        // of a partly initialized view made the initializer copy and destroy the view (about 440
        // instructions a view).
        guard buffer.count <= Int(Int32.max) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "a map of \(buffer.count) bytes is too large to view"))
        }
        let context = DecodingContext(buffer: buffer, maxDepth: maxDepth, validated: false)
        var position = 0
        let count = try context.containerCount([String: String].self, major: 5, at: &position, [])
        self.context = context
        self.fields = fields
        walk = MapWalk(start: position, count: count)
    }

    /// A reader standing at `field`'s value, or `nil` when the map has no such key.
    @inlinable
    public mutating func value(_ field: Field) throws -> CBORItemReader? {
        guard let index = fields.cases.firstIndex(of: field),
              let offset = try context.find(fields.names, index, walk: &walk)
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

/// How far a ``CBORMapView`` has walked its map, and where each field passed on the way is.
@usableFromInline
struct MapWalk {
    /// Where the map's first key starts, and how many entries it has.
    let start: Int, count: Int
    /// How many entries have been walked; where the last one's value starts (or, before any,
    /// where the first key starts).
    var walked = 0, position: Int
    /// The field expected next: stored fields come in declaration order.
    var expected = 0
    /// The offset of each field's value by the field's position in `Field.allCases`, for the
    /// fields passed so far; -1 for the others.
    var offsets = FieldOffsets()

    @usableFromInline
    init(start: Int, count: Int) {
        self.start = start
        self.count = count
        position = start
    }
}

/// Sixteen `Int32`s, -1 to begin with, read and written by a position the caller has checked is
/// below ``capacity``. A `SIMD16<Int32>` did the same, but its subscript by a position known only
/// at run time cost more (a view of four fields: 272 k → 258 k instructions per page of 100).
@usableFromInline
struct FieldOffsets {
    static let capacity = 16
    private var storage: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32,
                          Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32)
        = (-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)

    @usableFromInline
    init() {}

    subscript(position: Int) -> Int32 {
        // A `mutating get`: reading through `&storage` reads in place, where `of: storage` copied
        // all sixteen first.
        @inline(__always) mutating get { withUnsafeMutableBytes(of: &storage) { $0.load(fromByteOffset: position &* 4, as: Int32.self) } }
        @inline(__always) set { withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue, toByteOffset: position &* 4, as: Int32.self) } }
    }
}

extension DecodingContext {
    /// The offset of the value of the entry named `names[index]`, or `nil` when there is none:
    /// from the table when the walk has passed it, else walking on until it is found or the map
    /// ends. A value is skipped only when the walk goes past it, so a field is found even when
    /// the value of the field itself is damaged (its read then throws).
    @usableFromInline
    func find(_ names: FieldNames, _ index: Int, walk: inout MapWalk) throws -> Int? {
        guard index < FieldOffsets.capacity else { return try findPastTable(names, index, from: walk.start, entries: walk.count) }
        if walk.offsets[index] >= 0 { return Int(walk.offsets[index]) }
        var position = walk.position, walked = walk.walked, expected = walk.expected
        defer { (walk.position, walk.walked, walk.expected) = (position, walked, expected) }
        while walked < walk.count {
            if walked > 0 { position = try skipValue(at: position) }
            // The key: a one-byte field id (the compact form) first, then the expected field's
            // name, checked in place, or any other (a look-up).
            let field: Int?
            if let base = buffer.baseAddress, position < buffer.count, case let initial = base.load(fromByteOffset: position, as: UInt8.self), initial < 24 {
                position += 1
                field = names.field(id: Int(initial))
            } else if let base = buffer.baseAddress, position < buffer.count, case let initial = base.load(fromByteOffset: position, as: UInt8.self),
               initial &>> 5 == 3, case let length = Int(initial & 0x1F), length < 24, length < buffer.count - position {
                let key = UnsafeRawBufferPointer(start: base + position + 1, count: length)
                position += 1 + length
                field = expected < names.count && names.equals(expected, key) ? expected : names.match(key, expected: expected)
            } else if let id = fieldIDKey(at: &position) {
                field = names.field(id: id)
            } else {
                field = try textKey(at: &position).flatMap { names.match($0, expected: expected) }
            }
            walked += 1
            if let field, field < FieldOffsets.capacity, walk.offsets[field] < 0 {
                walk.offsets[field] = Int32(position)
                expected = field + 1
                if field == index { return position }
            }
        }
        return nil
    }

    /// Whether one of the first `entries` entries of the map whose first key is at `start` is
    /// field `index` of `names` (by name or by id). Off the common path: only a field out of order
    /// makes a record reader ask.
    @usableFromInline @inline(never)
    func mapEntries(from start: Int, before entries: Int, include index: Int, of names: FieldNames) throws -> Bool {
        var position = start
        for entry in 0..<entries {
            if entry > 0 { position = try end(ofItemAt: position, codingPath: []) }
            let field = if let id = fieldIDKey(at: &position) { names.field(id: id) } else { try textKey(at: &position).flatMap { names.match($0, expected: index) } }
            if field == index { return true }
        }
        return false
    }

    /// The offset of the value of the first entry named `names[index]`, walking the whole map.
    private func findPastTable(_ names: FieldNames, _ index: Int, from start: Int, entries: Int) throws -> Int? {
        var position = start
        for entry in 0..<entries {
            if entry > 0 { position = try skipValue(at: position) }
            let field = if let id = fieldIDKey(at: &position) { names.field(id: id) } else { try textKey(at: &position).flatMap { names.match($0, expected: index) } }
            if field == index { return position }
        }
        return nil
    }

    /// The end of the item at `position`. The common values of a record — a number, a simple
    /// value, a string, a tagged number or string, an empty array or map — are measured straight
    /// from their head; anything else goes through the checked general path.
    @inline(__always)
    private func skipValue(at position: Int) throws -> Int {
        var probe = position
        if probe < buffer.count, buffer[probe] == 0xC1 || buffer[probe] == 0xD8 { probe += buffer[probe] == 0xC1 ? 1 : 2 }  // tag 1, or a one-byte tag number
        if probe < buffer.count {
            let initial = buffer[probe], major = initial &>> 5, info = Int(initial & 0x1F)
            let argumentSize = info < 24 ? 0 : info < 28 ? 1 << (info - 24) : -1
            if argumentSize >= 0, argumentSize < buffer.count - probe, major != 6 {
                let headEnd = probe + 1 + argumentSize
                switch major {
                case 0, 1:
                    return headEnd
                case 7 where !(info == 24 && buffer[probe + 1] < 32):
                    return headEnd
                case 2, 3:
                    var length = info
                    if argumentSize > 0 {
                        length = 0
                        for byte in 0..<argumentSize { length = length << 8 | Int(buffer[probe + 1 + byte]) }
                    }
                    if length >= 0, length <= buffer.count - headEnd { return headEnd + length }
                case 4 where info == 0, 5 where info == 0:   // (a `where` binds to one pattern only)
                    return headEnd
                default:
                    break
                }
            }
        }
        return try end(ofItemAt: position, codingPath: [])
    }
}
