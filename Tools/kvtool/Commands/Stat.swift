import ArgumentParser
import Foundation
import TimelineLMDB
import Timeline
import TimelineDocumentStore

/// `kvtool stat`: sizes of the store and of each database in it.
struct Stat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the store's size, readers, record versions and each database's entries and pages.",
        discussion: """
            Opens the store read-only: safe on a live service's store.

            Examples:
              kvtool stat /var/lib/chat/timeline
              kvtool stat /var/lib/chat/timeline --json
              kvtool stat /var/lib/chat/timeline --space
            """
    )

    @OptionGroup var store: ExistingStore

    @OptionGroup var output: OutputFormat

    @Flag(help: "Also walk every entry and show where each database's bytes go: keys and values, leaf fill, unused overflow bytes.")
    var space = false


    /// What `--json` prints.
    struct Report: Encodable {
        struct DatabaseReport: Encodable {
            var name: String, entries: Int, depth: Int, branchPages: Int, leafPages: Int, overflowPages: Int, bytes: Int
            /// With `--space`.
            var space: Space?
        }
        /// Where a database's bytes go (`Database.SpaceUsage`).
        struct Space: Encodable {
            var keyBytes: Int, inlineValueBytes: Int, overflowValues: Int, overflowValueBytes: Int
            var leafBytesUsed: Int, leafFill: Double, overflowBytesUnused: Int
        }
        var path: String
        var mapSize: Int
        var usedBytes: Int
        var fileSize: Int
        var pageSize: Int
        var lastTransaction: Int
        var readers: Int
        var maxReaders: Int
        var storeFormat: Int?
        var recordVersions: [String: Int]
        var databases: [DatabaseReport]
        var changeLog: ChangeLog?

        /// The change log's extent and its consumers (`Docs/changes.md`).
        struct ChangeLog: Encodable {
            struct Consumer: Encodable { var name: String, position: Int, lag: Int }
            var oldestPosition: Int, currentPosition: Int, entries: Int
            var consumers: [Consumer]
        }
    }

    /// The change log of the timeline in `env`, or `nil` when it is not a timeline store.
    private static func changeLog(_ env: Environment) -> Report.ChangeLog? {
        guard let timeline = try? TimelineStore(store: Store(environment: env, migrationPolicy: .lazy)) else { return nil }
        return try? timeline.read { tx in
            let oldest = try tx.oldestPosition(), current = try tx.currentPosition()
            return Report.ChangeLog(oldestPosition: oldest, currentPosition: current, entries: current - oldest + 1,
                                    consumers: try tx.changeConsumers().map { .init(name: $0.name, position: $0.position, lag: current - $0.position) })
        }
    }

    func run() throws {
        let env = try StoreFiles.openReadOnly(store.path)
        let info = try env.info()
        let pageSize = try env.statistics().pageSize
        let names = try env.databaseNames()
        let handles = try names.map { try env.openDatabase($0, create: false) }
        let (versions, databases) = try env.read { txn in
            let versions = names.contains("meta") ? try StoreFiles.versions(handles[names.firstIndex(of: "meta")!], in: txn) : (format: nil, records: [])
            let databases = try zip(names, handles).map { name, db in
                let s = try db.statistics(in: txn)
                // A dupSort database's values are laid out differently: no space figures for it.
                let space = try space && !db.storedFlags(in: txn).contains(.dupSort) ? db.spaceUsage(in: txn) : nil
                return Report.DatabaseReport(name: name, entries: s.entries, depth: s.depth, branchPages: s.branchPages,
                                             leafPages: s.leafPages, overflowPages: s.overflowPages, bytes: s.bytes,
                                             space: space.map {
                                                 Report.Space(keyBytes: $0.keyBytes, inlineValueBytes: $0.inlineValueBytes,
                                                              overflowValues: $0.overflowValues, overflowValueBytes: $0.overflowValueBytes,
                                                              leafBytesUsed: $0.leafBytesUsed, leafFill: $0.leafFill,
                                                              overflowBytesUnused: $0.overflowBytesUnused)
                                             })
            }
            return (versions, databases)
        }
        let fileSize = ((try? FileManager.default.attributesOfItem(atPath: store.path + "/data.mdb"))?[.size] as? NSNumber)?.intValue ?? 0
        let report = Report(path: store.path, mapSize: info.mapSize, usedBytes: (info.lastPage + 1) * pageSize, fileSize: fileSize,
                            pageSize: pageSize, lastTransaction: info.lastTransactionID, readers: info.readerSlotsUsed,
                            maxReaders: info.maxReaders, storeFormat: versions.format,
                            recordVersions: Dictionary(versions.records, uniquingKeysWith: { $1 }), databases: databases,
                            changeLog: Self.changeLog(env))
        if output.json {
            print(try JSONOutput.document(report))
            return
        }
        print("store        \(store.path)")
        print("file size    \(fileSize) bytes")
        print("map size     \(info.mapSize) bytes (\(info.mapSize >> 20) MiB)")
        print("in use       \(report.usedBytes) bytes (\(info.lastPage + 1) pages of \(pageSize))")
        print("transaction  \(info.lastTransactionID)")
        print("reader slots \(info.readerSlotsUsed) used of \(info.maxReaders)")
        if let log = report.changeLog {
            let consumers = log.consumers.map { "\($0.name) at \($0.position) (lag \($0.lag))" }
            print("change log   positions \(log.oldestPosition)…\(log.currentPosition) (\(log.entries) entries)"
                  + (consumers.isEmpty ? "; no consumers" : "; consumers: " + consumers.joined(separator: ", ")))
        }
        if let format = versions.format {
            let records = versions.records.map { "\($0.0) v\($0.1)" }.joined(separator: ", ")
            print("format       \(format); records: \(records.isEmpty ? "none" : records)")
        }
        print("")
        print(pad("database", 26) + "   entries  depth  branch    leaf  overflow      bytes")
        for s in databases {
            let columns = [s.entries, s.depth, s.branchPages, s.leafPages, s.overflowPages, s.bytes]
            let widths = [10, 7, 8, 8, 10, 11]
            print(pad(s.name, 26) + zip(columns, widths).map { padLeft(String($0), $1) }.joined())
        }
        guard space else { return }
        print("")
        print(pad("database", 26) + "    key bytes  value bytes  leaf fill  overflow values  overflow unused")
        for s in databases {
            guard let u = s.space else { continue }
            let fill = s.leafPages == 0 ? "—" : String(format: "%.1f %%", u.leafFill * 100)
            print(pad(s.name, 26) + padLeft(String(u.keyBytes), 13) + padLeft(String(u.inlineValueBytes + u.overflowValueBytes), 13)
                  + padLeft(fill, 11) + padLeft(String(u.overflowValues), 17) + padLeft(String(u.overflowBytesUnused), 17))
        }
    }
}

/// `text` followed by spaces up to `width` characters.
func pad(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
}

/// Spaces up to `width` characters followed by `text`.
func padLeft(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}
