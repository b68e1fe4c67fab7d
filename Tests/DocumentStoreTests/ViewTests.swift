import TestSupport
import TimelineCBOR
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing

extension Note {
    /// `Note`'s field names, for views (the same names its synthesized `Codable` uses).
    enum Field: String, CodingKey, CaseIterable { case id, author, email, score, text }
    static let fields = CBORFields<Field>()
}

@Suite("Record views: fields read in place through a collection")
struct ViewTests {
    @Test("withView and forEachView read what get reads, and only what is asked for")
    func agreesWithGet() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s", indexes: false)
            var random = SeededGenerator(seed: 501)
            var model: [Note] = []
            try store.write { txn throws in
                for id in 0..<500 {
                    let note = Note(id: Int64(id), author: "author \(Int.random(in: 0..<9, using: &random))",
                                    email: Bool.random(using: &random) ? "n\(id)@x" : nil,
                                    score: Int.random(in: -99...99, using: &random), text: String(repeating: "é", count: id % 40))
                    try notes.put(note, in: txn)
                    model.append(note)
                }
            }
            try store.read { txn throws in
                for note in model {
                    let seen = try notes.withView(KeyBytes(note.id), fields: Note.fields, in: txn) { view in
                        (try view.decode(.score, as: Int.self), try view.decode(.email, as: String.self), try view.decode(.author, as: String.self))
                    }
                    #expect(seen?.0 == note.score && seen?.1 == note.email && seen?.2 == note.author)
                }
                #expect(try notes.withView(KeyBytes(Int64(9_999)), fields: Note.fields, in: txn) { _ in true } == nil)

                // A sum over a range, stopping early, in both directions.
                var total = 0, visited = 0
                try notes.forEachView(.closed(KeyBytes(Int64(100)).bytes, KeyBytes(Int64(199)).bytes), fields: Note.fields, in: txn) { view in
                    total += try view.decode(.score, as: Int.self) ?? 0
                    visited += 1
                    return true
                }
                #expect(visited == 100 && total == model[100...199].reduce(0) { $0 + $1.score })
                var ids: [Int64] = []
                try notes.forEachView(reverse: true, fields: Note.fields, in: txn) { view in
                    ids.append(try view.decode(.id, as: Int64.self) ?? -1)
                    return ids.count < 3
                }
                #expect(ids == [499, 498, 497])
            }
        }
    }

    @Test("damaged values, mistyped fields and newer versions throw DocumentStoreErrors naming the key; body's own errors pass through")
    func errors() throws {
        struct Stop: Error {}
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s", indexes: false)
            try store.write { txn throws in
                try notes.put(Note(id: 1, author: "a", email: nil, score: 0, text: ""), in: txn)
                try notes.database.put([0x00, 0x01, 0x02], for: KeyBytes(Int64(2)).bytes, in: txn)
                try notes.database.put(Envelope.header(recordVersion: 1) + [0x83, 0x01, 0x02, 0x03], for: KeyBytes(Int64(3)).bytes, in: txn)
                try notes.database.put(Envelope.header(recordVersion: 9) + [0xA0], for: KeyBytes(Int64(4)).bytes, in: txn)
                try notes.database.put(Envelope.header(recordVersion: 1) + [0xA1, 0x65] + Array("score".utf8) + [0x7F], for: KeyBytes(Int64(5)).bytes, in: txn)
            }
            try store.read { txn throws in
                let cases: [(Int64, DocumentStoreError.Kind)] = [(2, .corrupted), (3, .corrupted), (4, .recordVersionTooNew(stored: 9, supported: 1)), (5, .corrupted)]
                for (id, kind) in cases {
                    let error = #expect(throws: DocumentStoreError.self) {
                        try notes.withView(KeyBytes(id), fields: Note.fields, in: txn) { view in try view.decode(.score, as: Int.self) }
                    }
                    #expect(error?.kind == kind)
                    #expect(error?.description.contains("key \(KeyBytes(id))") == true)
                }
                let mistyped = #expect(throws: DocumentStoreError.self) {
                    try notes.withView(KeyBytes(Int64(1)), fields: Note.fields, in: txn) { view in try view.decode(.author, as: Int.self) }
                }
                #expect(mistyped?.kind == .corrupted)
                #expect(throws: Stop.self) { try notes.withView(KeyBytes(Int64(1)), fields: Note.fields, in: txn) { _ in throw Stop() } }
                // A scan stops at the first damaged record, naming it.
                var seen: [Int64] = []
                let scanError = #expect(throws: DocumentStoreError.self) {
                    try notes.forEachView(fields: Note.fields, in: txn) { view in
                        seen.append(try view.decode(.id, as: Int64.self) ?? -1)
                        return true
                    }
                }
                #expect(seen == [1] && scanError?.kind == .corrupted && scanError?.description.contains("key \(KeyBytes(Int64(2)))") == true)
            }
        }
    }

    @Test("a record of an older version is seen upgraded")
    func upgradedOnTheWay() throws {
        struct NoteV1: Codable { var id: Int64; var author: String; var points: Int; var text: String }
        try withTemporaryDirectory { dir in
            let path = dir + "/s"
            do {
                let store = try Store(path: path)
                let old = try store.collection("notes", primaryKey: { (note: NoteV1) in KeyBytes(note.id) })
                try store.write { txn in try old.put(NoteV1(id: 7, author: "ann", points: 42, text: "hi"), in: txn) }
            }
            let rename = MigrationStep.update(from: 1) { record in
                record["score"] = record["points"]
                record["points"] = nil
            }
            let store = try Store(path: path, migrationPolicy: .lazy)
            let notes = try store.collection("notes", version: 2, primaryKey: { (note: Note) in KeyBytes(note.id) }, migrations: [rename])
            try store.read { txn throws in
                let seen = try notes.withView(KeyBytes(Int64(7)), fields: Note.fields, in: txn) { view in
                    (try view.decode(.score, as: Int.self), try view.decode(.author, as: String.self))
                }
                #expect(seen?.0 == 42 && seen?.1 == "ann")
            }
        }
    }
}
