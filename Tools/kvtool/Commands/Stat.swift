import ArgumentParser
import LMDB

/// `kvtool stat`: sizes of the store and of each database in it.
struct Stat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the store's map size, pages, readers and each database's entries.",
        discussion: """
            Opens the store read-only: safe on a live service's store.

            Example:
              kvtool stat /tmp/demo.timeline
            """
    )

    @Argument(help: "The store directory.")
    var path: String

    func validate() throws {
        if !StoreFiles.holdsStore(path) { throw ValidationError("\(path) does not hold a store (no data.mdb)") }
    }

    func run() throws {
        let env = try Environment(path: path, configuration: .init(readOnly: true))
        let info = try env.info()
        let stat = try env.statistics()
        print("store        \(path)")
        print("map size     \(info.mapSize) bytes (\(info.mapSize >> 20) MiB)")
        print("in use       \((info.lastPage + 1) * stat.pageSize) bytes (\(info.lastPage + 1) pages of \(stat.pageSize))")
        print("transaction  \(info.lastTransactionID)")
        print("reader slots \(info.readerSlotsUsed) used of \(info.maxReaders)")
        print("")
        print(pad("database", 26) + "   entries  depth  branch    leaf  overflow      bytes")
        for name in try env.databaseNames() {
            let db = try env.openDatabase(name, create: false)
            let s = try env.read { txn in try db.statistics(in: txn) }
            let columns = [s.entries, s.depth, s.branchPages, s.leafPages, s.overflowPages, s.bytes]
            let widths = [10, 7, 8, 8, 10, 11]
            print(pad(name, 26) + zip(columns, widths).map { padLeft(String($0), $1) }.joined())
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

/// Checks on a store directory before opening it.
enum StoreFiles {
    /// Whether `path` is a directory with a `data.mdb` in it.
    static func holdsStore(_ path: String) -> Bool {
        FileProbe.exists(path + "/data.mdb")
    }
}
