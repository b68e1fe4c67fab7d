/// An error from the record layer, with the collection, the key (printable) and the cause.
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
    }

    /// What went wrong.
    public let kind: Kind
    /// The collection involved.
    public let collection: String
    /// The record's key in hex, when one is involved.
    public let key: String?
    /// The error underneath (a `DecodingError`, `EncodingError`, ``LMDB/LMDBError``…), if any.
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
        }
        return "\(place): \(what)" + (underlying.map { " (\($0))" } ?? "")
    }
}
