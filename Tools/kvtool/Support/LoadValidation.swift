import TimelineDocumentStore
import TimelineLMDB
import Timeline

/// What `kvtool load` requires of the store a dump leaves behind before it writes it: the same
/// checks `kvtool check` makes, so no load can leave a store that fails them or cannot be opened.
enum LoadValidation {
    /// The timeline's databases: a store holding any of them is checked as a timeline.
    static let timelineDatabases: Set<String> = ["sessions", "turns", "checkpoints", "crystals"]

    /// The problems of the store at `path`, one line each; empty when it may be loaded. A plain
    /// LMDB store (no `meta`, no timeline databases) has no records to check.
    static func problems(ofStoreAt path: String) throws -> [String] {
        let environment = try StoreFiles.openReadOnly(path)
        let names = Set(try environment.databaseNames())
        try environment.close()
        let isTimeline = !names.isDisjoint(with: timelineDatabases)
        guard names.contains("meta") || isTimeline else { return [] }
        guard names.contains("meta") else { return ["meta: the store has timeline databases but no meta database"] }
        let store: Store
        do {
            store = try Store(path: path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
        } catch {
            return ["meta: \(error)"]
        }
        defer { try? store.environment.close() }
        guard isTimeline else { return [] }
        do {
            // Totals that are not their turns' sums are no reason to refuse a restore: stores
            // written before 2026-11-30 hold them for forks whose parent was deleted, and the
            // load leaves them no worse (`kvtool repair-totals` mends them).
            return try TimelineStore(store: store).check().filter { $0.kind != "totalsMismatch" }.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }
}
