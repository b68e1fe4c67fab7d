public import TimelineCBOR

/// One step of a collection's record history: how a record stored at version `from` becomes a
/// record of version `from + 1`.
///
/// Steps work on the generic `CBORValue` — so the Swift type of the old version need not
/// exist any more — or on typed values when it does:
///
/// ```swift
/// let steps: [MigrationStep] = [
///     .update(from: 1) { note in                       // rename a field
///         note["body"] = note["text"]
///         note["text"] = nil
///     },
///     .typed(from: 2, NoteV2.self) { old in            // derive a field with the old type
///         NoteV3(id: old.id, body: old.body, words: old.body.split(separator: " ").count)
///     },
/// ]
/// let notes = try store.collection("notes", version: 3, primaryKey: { KeyBytes($0.id) }, migrations: steps)
/// ```
///
/// A version without a step is taken to need no change (the new type reads the old form); if it
/// cannot, decoding says so loudly. After the last step the result is decoded as the collection's
/// record type and encoded again, so a migrated record is byte for byte what the current code
/// writes, its primary key is recomputed (a changed key moves the record) and its index entries
/// are rebuilt.
public struct MigrationStep: Sendable {
    /// The record version this step reads.
    public let from: Int
    /// Turns one old record into the records that replace it (none: removed; several: split).
    let apply: @Sendable (CBORValue) throws -> [CBORValue]

    /// A step from `from` to `from + 1` that returns the records replacing `record`: an empty
    /// array removes it, several split it (each must have its own primary key).
    public static func split(from: Int, _ body: @escaping @Sendable (CBORValue) throws -> [CBORValue]) -> MigrationStep {
        MigrationStep(from: from, apply: body)
    }

    /// A step from `from` to `from + 1` that edits the record in place: rename, add, remove or
    /// change fields (see `CBORValue.subscript(_:)`).
    public static func update(from: Int, _ body: @escaping @Sendable (inout CBORValue) throws -> Void) -> MigrationStep {
        MigrationStep(from: from) { record in
            var record = record
            try body(&record)
            return [record]
        }
    }

    /// A step from `from` to `from + 1` through Swift types: the record is decoded as `Old`,
    /// `body` returns its replacement, which is encoded.
    public static func typed<Old: Decodable & SendableMetatype, New: Encodable & SendableMetatype>(
        from: Int, _ old: Old.Type, _ body: @escaping @Sendable (Old) throws -> New
    ) -> MigrationStep {
        MigrationStep(from: from) { record in
            let value = try CBORDecoder().decode(Old.self, from: record.encoded())
            return [try CBORValue(decoding: CBOREncoder().encode(try body(value)))]
        }
    }
}

/// What a store does at open when a collection's records are older than the code.
public enum MigrationPolicy: Sendable, Hashable {
    /// Migrate while registering the collection (after a compact backup unless `backup` is
    /// `false`), in batches that survive a crash; registration returns when it is done.
    case migrateNow(backup: Bool)
    /// Refuse to register the collection: ``DocumentStoreError/Kind/migrationNeeded(stored:current:)``.
    case failIfNeeded
    /// Register at once; old records are upgraded in memory as they are read, and a
    /// ``MigrationRunner`` (e.g. in a background task) rewrites them. Index scans of a collection
    /// whose migration is under way see only the records the runner has reached.
    case lazy

    /// Migrate at open, with a backup first.
    public static let migrateNow = MigrationPolicy.migrateNow(backup: true)
}
