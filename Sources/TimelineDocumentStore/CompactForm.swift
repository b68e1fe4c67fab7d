/// The compact stored form of a collection's records: map keys are field ids instead of names,
/// and the fields the primary key already holds are not stored at all.
///
/// `Record`'s `CodingKeys` give each stored field an id — an `intValue` of 0…23 takes one byte —
/// and a negative `intValue` to each field its primary key holds. Writing, such a field is left
/// out (`CBOREncoder.fieldIDs`); reading, ``restore`` sets it back from the key. The record's
/// `Codable` form elsewhere (JSON, say) keeps its names: encoders other than the collection's use
/// `stringValue`. A reader accepts a record in either form, so an older text-keyed record reads
/// as it is, and a migration to the compact form needs no step of its own beyond the version.
///
/// ```swift
/// let notes = try store.collection("notes", version: 2, primaryKey: { KeyBytes($0.id) },
///                                  compactForm: CompactForm { note, key in
///     var reader = KeyReader(key.bytes)
///     guard let id = reader.read(UUID.self), reader.isAtEnd else { throw BadKey() }
///     note.id = id
/// })
/// ```
public struct CompactForm<Record>: Sendable {
    /// Sets the fields the compact form leaves out from the record's primary key.
    public let restore: @Sendable (inout Record, KeyBytes) throws -> Void

    /// A compact form whose left-out fields `restore` sets back from the primary key; it throws
    /// for a key it cannot read (the record is then reported as corrupted).
    public init(restoringKeyFields restore: @escaping @Sendable (inout Record, KeyBytes) throws -> Void) {
        self.restore = restore
    }
}
