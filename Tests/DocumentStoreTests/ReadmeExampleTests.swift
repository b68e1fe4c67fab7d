import TestSupport
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing

extension ReadmeExampleTests.Note {
    enum Field: String, CodingKey, CaseIterable { case id, author, created, text }
    static let fields = CBORFields<Field>()
}

/// The README's examples, as written there, so that they keep compiling and doing what they say.
@Suite("README examples")
struct ReadmeExampleTests {
    struct Note: Codable { var id: UUID; var author: String; var created: Date; var text: String }

    @Test("the LMDB layer example")
    func lmdbExample() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir + "/store")
            let notes = try env.openDatabase("notes")
            try env.write { txn in
                try notes.put(Array("hello".utf8), for: Array("greeting".utf8), in: txn)
            }
            let text = try env.read { txn in
                try notes.get(Array("greeting".utf8), in: txn).map { String(decoding: $0, as: UTF8.self) }
            }
            #expect(text == "hello")
        }
    }

    @Test("the record layer example")
    func recordExample() throws {
        try withTemporaryDirectory { dir in
            let store = try Store(path: dir + "/store")
            let notes = try store.collection("notes", primaryKey: { (note: Note) in KeyBytes(note.id) },
                                             indexes: [Index("byAuthor") { KeyBytes($0.author, $0.created) }])
            for (offset, author) in ["ann", "bob", "ann", "ann"].enumerated() {
                let note = Note(id: UUID(), author: author, created: Date(timeIntervalSince1970: Double(offset)), text: "#\(offset)")
                try store.write { txn in try notes.put(note, in: txn) }
            }
            let page = try store.read { txn in
                try notes.scan(index: "byAuthor", matching: KeyBytes("ann"), reverse: true, limit: 20, in: txn)
            }
            #expect(page.items.map(\.text) == ["#3", "#2", "#0"])
            #expect(page.next == nil)

            let id = try store.read { txn in try notes.scan(limit: 1, in: txn).items[0] }.id
            let author = try store.read { txn in
                try notes.withView(KeyBytes(id), fields: Note.fields, in: txn) { note in try note.decode(.author, as: String.self) }
            }
            #expect(author == (try store.read { txn in try notes.get(KeyBytes(id), in: txn)?.author }))
        }
    }
}
