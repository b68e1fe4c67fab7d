/// The keys of the `meta` database, in one place (`Docs/format.md` lists what each holds).
package enum MetaKey {
    /// The store format version.
    package static let format = "format"

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
