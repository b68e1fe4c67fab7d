import Foundation
import TestSupport
import Testing
import TimelineCBOR
import TimelineDocumentStore
import TimelineLMDB

/// A record whose key holds `group` and `number`; in the compact form neither is stored.
struct Item: Codable, Equatable, Sendable {
    var group: UUID
    var number: Int
    var label: String
    var tag: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case group, number, label, tag
        var intValue: Int? { switch self { case .group, .number: -1; case .label: 0; case .tag: 1 } }
        init?(intValue: Int) { guard let field = Self.allCases.first(where: { $0.intValue == intValue }) else { return nil }; self = field }
    }

    /// Decodable with the key's fields optional, as the compact form leaves them out.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        group = try container.decodeIfPresent(UUID.self, forKey: .group) ?? noOne
        number = try container.decodeIfPresent(Int.self, forKey: .number) ?? -1
        label = try container.decode(String.self, forKey: .label)
        tag = try container.decodeIfPresent(String.self, forKey: .tag)
    }

    init(group: UUID, number: Int, label: String, tag: String? = nil) {
        (self.group, self.number, self.label, self.tag) = (group, number, label, tag)
    }

    static let compactForm = CompactForm<Item> { item, key in
        var reader = KeyReader(key.bytes)
        guard let group = reader.read(UUID.self), let number = reader.read(UInt64.self), reader.isAtEnd else { throw CocoaError(.coderReadCorrupt) }
        item.group = group
        item.number = Int(number)
    }
}

@Suite("Compact collections: field ids, key fields restored from the key")
struct CompactCollectionTests {
    static func open(_ path: String, version: Int, compact: Bool) throws -> (Store, DocumentCollection<Item>) {
        let store = try Store(path: path, configuration: .init(durability: .noSync))
        let items = try store.collection(
            "items", version: version, primaryKey: { (item: Item) in KeyBytes(item.group, UInt64(item.number)) },
            indexes: [Index("tag") { item in item.tag.map { KeyBytes($0) } }],
            compactForm: compact ? Item.compactForm : nil)
        return (store, items)
    }

    @Test("records are stored without their key's fields and read back whole; indexes and checks see the whole record")
    func roundTrip() throws {
        try withTemporaryDirectory { dir in
            let (store, items) = try Self.open(dir, version: 1, compact: true)
            let group = UUID()
            let written = (0..<5).map { Item(group: group, number: $0, label: "item \($0)", tag: $0 % 2 == 0 ? "even" : nil) }
            try store.write { txn in for item in written { try items.put(item, in: txn) } }
            try store.read { txn in
                #expect(try items.scan(in: txn).items == written)
                #expect(try items.get(KeyBytes(group, UInt64(3)), in: txn) == written[3])
                #expect(try items.scan(index: "tag", matching: KeyBytes("even"), in: txn).items == [written[0], written[2], written[4]])
                #expect(try items.check(in: txn).isEmpty)
                let stored = try #require(try items.database.get(KeyBytes(group, UInt64(3)).bytes, in: txn))
                let value = try CBORValue(decoding: Array(stored.dropFirst(Envelope.header(recordVersion: 1).count)))
                #expect(value == .map([CBORValue.MapEntry(.unsigned(0), .text("item 3"))]))
            }
        }
    }

    @Test("a text-form collection migrates to the compact form without a step; its records stay equal")
    func migratesToCompact() throws {
        try withTemporaryDirectory { dir in
            let group = UUID()
            let written = (0..<20).map { Item(group: group, number: $0, label: "l\($0)", tag: "t\($0 % 3)") }
            do {
                let (store, items) = try Self.open(dir, version: 1, compact: false)
                try store.write { txn in for item in written { try items.put(item, in: txn) } }
                try store.environment.close()
            }
            let (store, items) = try Self.open(dir, version: 2, compact: true)
            try store.read { txn in
                #expect(try items.scan(in: txn).items == written)
                #expect(try items.check(in: txn).isEmpty)
                #expect(try items.scan(index: "tag", matching: KeyBytes("t1"), in: txn).items.map(\.number) == [1, 4, 7, 10, 13, 16, 19])
                try items.database.forEachEntry(in: txn) { entry in
                    let value = try CBORValue(decoding: Array(entry.value.dropFirst(Envelope.header(recordVersion: 2).count)))
                    guard case .map(let entries) = value else { Issue.record("not a map"); return }
                    #expect(entries.map(\.key) == [.unsigned(0), .unsigned(1)])
                }
            }
        }
    }
}

/// The all-zero UUID: what a compact record reads as before its key fields are set.
private let noOne = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
