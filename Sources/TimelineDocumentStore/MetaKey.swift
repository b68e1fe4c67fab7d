/// The keys of the `meta` database, in one place (`Docs/format.md` lists what each holds).
package enum MetaKey {
    /// The store format version.
    package static let format = "format"

    /// The store's identity: 16 random bytes written at its first writable open and copied with
    /// it by a backup, so that a backup update can tell a backup of this store from another's.
    package static let storeID = "store.id"

    /// When records were last written around the change log — by `kvtool load` onto an existing
    /// store — in microseconds since 1970: a backup copied before that can no longer be brought
    /// up to date from the log.
    package static let rawEdit = "store.raw-edit"

    /// The record version every record of `collection` is at.
    package static func collectionVersion(_ collection: String) -> String { "collection.\(collection).version" }

    /// Whether `collection`'s index `index` is built (1) or being rebuilt by a migration (0).
    package static func index(_ collection: String, _ index: String) -> String { "index.\(collection).\(index)" }

    /// The state of a migration of `collection` under way.
    package static func migration(_ collection: String) -> String { "migration.\(collection)" }

    /// The collection whose record version `key` holds, or `nil` for any other key.
    package static func collection(ofVersionKey key: String) -> String? {
        let prefix = "collection.", suffix = ".version"
        guard key.hasPrefix(prefix), key.hasSuffix(suffix), key.count > prefix.count + suffix.count else { return nil }
        return String(key.dropFirst(prefix.count).dropLast(suffix.count))
    }
}
