import TestSupport
import TimelineCBOR
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing

struct Note: Codable, Equatable, Sendable {
    var id: Int64
    var author: String
    var email: String?
    var score: Int
    var text: String
}

func openNotes(_ path: String, indexes: Bool = true) throws -> (Store, DocumentCollection<Note>) {
    let store = try Store(path: path, configuration: .init(durability: .noSync))
    let notes = try store.collection(
        "notes", primaryKey: { (note: Note) in KeyBytes(note.id) },
        indexes: indexes ? [
            Index("byAuthor") { KeyBytes($0.author, Int64($0.score)) },
            Index("byEmail", unique: true) { note in note.email.map { KeyBytes($0) } },
        ] : [])
    return (store, notes)
}

@Suite("Collections, indexes and pagination")
struct CollectionTests {
    @Test("put, get, insert, delete, contains, count, first, last")
    func basics() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s")
            let a = Note(id: 1, author: "ann", email: "a@x", score: 3, text: "hello")
            try store.write { txn throws in
                try notes.put(a, in: txn)
                try notes.insert(Note(id: 2, author: "bob", email: nil, score: 1, text: "hi"), in: txn)
            }
            let duplicate = #expect(throws: DocumentStoreError.self) {
                try store.write { txn throws in try notes.insert(Note(id: 1, author: "x", email: nil, score: 0, text: ""), in: txn) }
            }
            #expect(duplicate?.kind == .duplicateKey)
            try store.read { txn throws in
                #expect(try notes.get(KeyBytes(Int64(1)), in: txn) == a)
                #expect(try notes.get(KeyBytes(Int64(3)), in: txn) == nil)
                #expect(try notes.contains(KeyBytes(Int64(2)), in: txn))
                #expect(try notes.count(in: txn) == 2)
                #expect(try notes.first(in: txn)?.id == 1)
                #expect(try notes.last(in: txn)?.id == 2)
            }
            try store.write { txn throws in #expect(try notes.delete(KeyBytes(Int64(1)), in: txn)) }
            try store.read { txn throws in
                #expect(try notes.count(in: txn) == 1)
                #expect(try notes.scan(index: "byEmail", matching: KeyBytes("a@x"), in: txn).items.isEmpty)
                #expect(try notes.scan(index: "byAuthor", .prefix(KeyBytes("ann").bytes), in: txn).items.isEmpty)
            }
        }
    }

    @Test("pagination over 10,000 records returns each exactly once, in order, both ways")
    func pagination() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s", indexes: false)
            var random = SeededGenerator(seed: 5)
            let ids = (0..<10_000).map { _ in Int64.random(in: -1_000_000_000...1_000_000_000, using: &random) }
            let unique = Array(Set(ids))
            try store.write { txn throws in
                for id in unique { try notes.put(Note(id: id, author: "a", email: nil, score: 0, text: "\(id)"), in: txn) }
            }
            for reverse in [false, true] {
                var seen: [Int64] = []
                var cursor: PageCursor?
                repeat {
                    let page = try store.read { txn throws in try notes.scan(reverse: reverse, limit: 97, after: cursor, in: txn) }
                    seen += page.items.map(\.id)
                    cursor = page.next.flatMap { PageCursor(token: $0.token) }   // through its string form
                } while cursor != nil
                #expect(seen == (reverse ? unique.sorted().reversed() : unique.sorted()))
            }
            // A range with pagination: ids in [-1e8, 1e8).
            let low = KeyBytes(Int64(-100_000_000)).bytes, high = KeyBytes(Int64(100_000_000)).bytes
            var seen: [Int64] = []
            var cursor: PageCursor?
            repeat {
                let page = try store.read { txn throws in try notes.scan(.halfOpen(low, high), limit: 50, after: cursor, in: txn) }
                seen += page.items.map(\.id)
                cursor = page.next
            } while cursor != nil
            #expect(seen == unique.filter { $0 >= -100_000_000 && $0 < 100_000_000 }.sorted())
        }
    }

    @Test("indexes match an in-memory model under random inserts, updates and deletes")
    func indexConsistency() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s")
            var random = SeededGenerator(seed: 6)
            var model: [Int64: Note] = [:]
            let authors = ["ann", "bob", "cy", "dee"]
            for round in 0..<3_000 {
                let id = Int64.random(in: 0..<300, using: &random)
                if Int.random(in: 0..<4, using: &random) == 0 {
                    let removed = try store.write { txn throws in try notes.delete(KeyBytes(id), in: txn) }
                    #expect(removed == (model.removeValue(forKey: id) != nil))
                } else {
                    let email = Int.random(in: 0..<3, using: &random) == 0 ? nil : "u\(Int.random(in: 0..<400, using: &random))@x"
                    let note = Note(id: id, author: authors.randomElement(using: &random)!, email: email,
                                    score: Int.random(in: -5...5, using: &random), text: "round \(round)")
                    let taken = email.map { e in model.values.contains { $0.email == e && $0.id != id } } ?? false
                    do {
                        try store.write { txn throws in try notes.put(note, in: txn) }
                        #expect(!taken, "a duplicate email was accepted")
                        model[id] = note
                    } catch let error as DocumentStoreError {
                        #expect(taken && error.kind == .uniqueViolation(index: "byEmail"))
                    }
                }
            }
            try store.read { txn throws in
                #expect(try notes.count(in: txn) == model.count)
                for author in authors {
                    let got = try notes.scan(index: "byAuthor", matching: KeyBytes(author), in: txn).items
                    let want = model.values.filter { $0.author == author }.sorted { ($0.score, $0.id) < ($1.score, $1.id) }
                    #expect(got == want, "author \(author)")
                }
                let emails = try notes.scan(index: "byEmail", .all, in: txn).items.map(\.email)
                #expect(emails == model.values.compactMap(\.email).sorted { KeyBytes($0) < KeyBytes($1) })
                #expect(try notes.primaryKeys(index: "byEmail", .all, in: txn).items.count == model.values.filter { $0.email != nil }.count)
                // Each index has exactly one entry per indexed record.
                #expect(try notes.index("byAuthor").database?.count(in: txn) == model.count)
            }
        }
    }

    @Test("a unique violation writes nothing, not even the other index's change")
    func uniqueViolationWritesNothing() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s")
            try store.write { txn throws in
                try notes.put(Note(id: 1, author: "ann", email: "same@x", score: 1, text: ""), in: txn)
                try notes.put(Note(id: 2, author: "bob", email: nil, score: 1, text: ""), in: txn)
            }
            try store.write { txn throws in
                // The caller catches the error and commits: still nothing of the failed put may be there.
                #expect(throws: DocumentStoreError.self) {
                    try notes.put(Note(id: 2, author: "zed", email: "same@x", score: 9, text: "changed"), in: txn)
                }
            }
            try store.read { txn throws in
                #expect(try notes.get(KeyBytes(Int64(2)), in: txn)?.author == "bob")
                #expect(try notes.scan(index: "byAuthor", matching: KeyBytes("zed"), in: txn).items.isEmpty)
                #expect(try notes.scan(index: "byAuthor", matching: KeyBytes("bob"), in: txn).items.count == 1)
            }
        }
    }

    @Test("a scan's page cursor continues only that scan; errors are caught by code")
    func cursorsAndErrorCodes() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s")
            try store.write { txn throws in
                for id in 0..<10 { try notes.put(Note(id: Int64(id), author: id < 5 ? "ann" : "bob", email: nil, score: id, text: ""), in: txn) }
            }
            try store.read { txn throws in
                let first = try notes.scan(limit: 3, in: txn)
                let cursor = try #require(first.next)
                #expect(try notes.scan(limit: 3, after: cursor, in: txn).items.map(\.id) == [3, 4, 5])
                var refused = 0
                for attempt in 0..<3 {
                    do {
                        switch attempt {
                        case 0: _ = try notes.scan(reverse: true, after: cursor, in: txn)
                        case 1: _ = try notes.scan(index: "byAuthor", .prefix(KeyBytes("ann").bytes), after: cursor, in: txn)
                        default: _ = try notes.scan(.from(KeyBytes(Int64(1)).bytes), after: cursor, in: txn)
                        }
                    } catch DocumentStoreError.Code.invalidPageCursor {
                        refused += 1
                    }
                }
                #expect(refused == 3)
                // A negative limit is a mistake, not an empty page.
                #expect(throws: LMDBError.self) { try notes.scan(limit: -1, in: txn) }
                #expect(throws: LMDBError.self) { try notes.scan(index: "byAuthor", matching: KeyBytes("ann"), limit: -1, in: txn) }
                #expect(try notes.scan(limit: 0, in: txn).items.isEmpty)
            }
            var duplicate = false
            do {
                try store.write { txn throws in try notes.insert(Note(id: 1, author: "x", email: nil, score: 0, text: ""), in: txn) }
            } catch DocumentStoreError.Code.duplicateKey {
                duplicate = true
            }
            #expect(duplicate)
            let raw = try store.environment.openDatabase("raw")
            var exists = false
            do {
                try store.environment.write { txn in
                    try raw.put([1], for: [1], in: txn)
                    try raw.put([2], for: [1], flags: .noOverwrite, in: txn)
                }
            } catch LMDBError.Code.keyExists {
                exists = true
            }
            #expect(exists)
        }
    }

    @Test("deleteRange: records and their entries go; a scoped index is removed by range, without reading the records")
    func deleteRangeScoped() throws {
        struct Item: Codable, Equatable { var group: Int64; var number: Int64; var tag: String }
        try withTemporaryDirectory { dir in
            let store = try Store(path: dir + "/s", configuration: .init(durability: .noSync))
            let items = try store.collection(
                "items", primaryKey: { (item: Item) in KeyBytes(item.group, item.number) },
                indexes: [Index("byTag", unique: true, scopedByPrimaryKeyPrefix: 8) { KeyBytes($0.group, $0.tag) }])
            try store.write { txn throws in
                for group in Int64(0)..<3 { for number in Int64(0)..<5 { try items.put(Item(group: group, number: number, tag: "t\(number)"), in: txn) } }
                // A record of group 1 that no longer decodes: a range delete by prefix must not need to read it.
                try items.database.put([0xFF, 0x00], for: KeyBytes(Int64(1), Int64(9)).bytes, in: txn)
            }
            let removed = try store.write { txn throws in try items.deleteRange(.prefix(KeyBytes(Int64(1)).bytes), in: txn) }
            #expect(removed == 6)
            try store.read { txn throws in
                #expect(try items.count(in: txn) == 10)
                #expect(try items.scan(index: "byTag", .prefix(KeyBytes(Int64(1)).bytes), in: txn).items.isEmpty)
                #expect(try items.scan(index: "byTag", .prefix(KeyBytes(Int64(2)).bytes), in: txn).items.count == 5)
                #expect(try items.check(in: txn).isEmpty)
            }
            // Any other range reads the records to find their entries.
            let partial = try store.write { txn throws in
                try items.deleteRange(.halfOpen(KeyBytes(Int64(0), Int64(1)).bytes, KeyBytes(Int64(0), Int64(3)).bytes), in: txn)
            }
            #expect(partial == 2)
            try store.read { txn throws in
                #expect(try items.check(in: txn).isEmpty)
                #expect(try items.count(in: txn) == 8)
            }

            // An index whose entries do not start with the declared part of the primary key is refused on write.
            let broken = try store.collection(
                "broken", primaryKey: { (item: Item) in KeyBytes(item.group, item.number) },
                indexes: [Index("byTag", unique: true, scopedByPrimaryKeyPrefix: 8) { KeyBytes($0.tag) }])
            #expect { try store.write { txn throws in try broken.put(Item(group: 1, number: 1, tag: "x"), in: txn) } }
                throws: { ($0 as? DocumentStoreError)?.kind == .encoding && "\($0)".contains("scoped") && !"\($0)".contains("backup") }
        }
    }

    @Test("an index added to an existing collection is back-filled")
    func backfill() throws {
        try withTemporaryDirectory { dir in
            do {
                let (store, notes) = try openNotes(dir + "/s", indexes: false)
                try store.write { txn throws in
                    for id in 0..<2_500 { try notes.put(Note(id: Int64(id), author: id % 2 == 0 ? "even" : "odd", email: nil, score: id % 7, text: ""), in: txn) }
                }
            }
            let (store, notes) = try openNotes(dir + "/s")
            try store.read { txn throws in
                #expect(try notes.scan(index: "byAuthor", matching: KeyBytes("odd"), in: txn).items.count == 1_250)
                let page = try notes.scan(index: "byAuthor", matching: KeyBytes("even"), limit: 10, in: txn)
                #expect(page.items.allSatisfy { $0.author == "even" && $0.score == 0 })
                #expect(page.next != nil)
            }
        }
    }

    @Test("an index left out of a registration and declared again is back-filled, not read stale; another collection's index with a dotted name is left alone")
    func indexDeclaredAgain() throws {
        try withTemporaryDirectory { dir in
            do {
                let (store, notes) = try openNotes(dir + "/s")
                try store.write { txn throws in try notes.put(Note(id: 1, author: "ann", email: "a@x", score: 1, text: ""), in: txn) }
                // Collection "notes.by" with index "x" has its entries in `idx.notes.by.x`, as
                // "notes" with an index "by.x" would: it is not one "notes" left out.
                let other = try store.collection("notes.by", primaryKey: { (note: Note) in KeyBytes(note.id) }, indexes: [Index("x") { KeyBytes($0.author) }])
                try store.write { txn throws in try other.put(Note(id: 9, author: "zed", email: nil, score: 0, text: ""), in: txn) }
            }
            do {   // The code of a later version declares no index: writes leave the entries behind.
                let (store, notes) = try openNotes(dir + "/s", indexes: false)
                try store.write { txn throws in
                    try notes.put(Note(id: 2, author: "ann", email: "b@x", score: 2, text: ""), in: txn)
                    #expect(try notes.delete(KeyBytes(Int64(1)), in: txn))
                }
                let meta = try store.environment.openDatabase("meta", create: false)
                try store.read { txn throws in
                    #expect(try meta.get(Array("index.notes.byAuthor".utf8), in: txn) == nil)
                    #expect(try meta.get(Array("index.notes.by.x".utf8), in: txn) != nil)   // "notes.by"'s: kept
                }
            }
            let (store, notes) = try openNotes(dir + "/s")
            let other = try store.collection("notes.by", primaryKey: { (note: Note) in KeyBytes(note.id) }, indexes: [Index("x") { KeyBytes($0.author) }])
            try store.read { txn throws in
                #expect(try notes.scan(index: "byAuthor", matching: KeyBytes("ann"), in: txn).items.map(\.id) == [2])
                #expect(try notes.scan(index: "byEmail", matching: KeyBytes("a@x"), in: txn).items.isEmpty)
                #expect(try notes.check(in: txn).isEmpty)
                #expect(try other.scan(index: "x", matching: KeyBytes("zed"), in: txn).items.map(\.id) == [9])
                #expect(try other.check(in: txn).isEmpty)
            }
        }
    }

    @Test("check names each damaged index entry: one gone, one stray, one pointing at another record, a unique value called for twice")
    func checkIndexDamage() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s")
            try store.write { txn throws in
                for id in 0..<50 { try notes.put(Note(id: Int64(id), author: "a\(id % 5)", email: "n\(id)@x", score: id, text: ""), in: txn) }
            }
            try store.read { txn throws in #expect(try notes.check(in: txn).isEmpty) }
            let byAuthor = try #require(try notes.index("byAuthor").database)
            let byEmail = try #require(try notes.index("byEmail").database)
            let gone = indexEntry(author: "a1", score: 1, id: 1)
            let stray = indexEntry(author: "zz", score: 0, id: 99)
            try store.write { txn throws in
                #expect(try byAuthor.delete(gone, in: txn))
                try byAuthor.put(KeyBytes(Int64(99)).bytes, for: stray, in: txn)
                // byEmail's entry for n3@x now names record 4; record 7 takes n8@x's value too.
                try byEmail.put(KeyBytes(Int64(4)).bytes, for: KeyBytes("n3@x").bytes, in: txn)
                // Written around the collection, as only damage or a raw load writes.
                let twin = Note(id: 7, author: "a2", email: "n8@x", score: 7, text: "")
                try notes.database.put(Envelope.header(recordVersion: 1) + CBOREncoder().encode(twin), for: KeyBytes(Int64(7)).bytes, in: txn)
            }
            let problems = try store.read { txn in try notes.check(in: txn) }.map { "\($0.kind)" }
            #expect(problems.filter { $0.hasPrefix("missingIndexEntry(index: \"byAuthor\"") }.count == 1, "\(problems)")
            #expect(problems.filter { $0.hasPrefix("danglingIndexEntry(index: \"byAuthor\"") }.count == 1, "\(problems)")
            // n3@x names record 4; record 7's old n7@x is no longer called for (its n8@x is record 8's).
            #expect(problems.filter { $0.hasPrefix("danglingIndexEntry(index: \"byEmail\"") }.count == 2, "\(problems)")
            #expect(problems.count == 4, "\(problems)")
        }
    }

    /// `byAuthor`'s entry for a note: its value (author, score), then its primary key.
    private func indexEntry(author: String, score: Int, id: Int64) -> [UInt8] {
        KeyBytes(author, Int64(score)).bytes + KeyBytes(id).bytes
    }

    @Test("damaged values and newer versions give DocumentStoreErrors, never a crash")
    func damagedValues() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s", indexes: false)
            try store.write { txn throws in
                try notes.put(Note(id: 1, author: "a", email: nil, score: 0, text: ""), in: txn)
                try notes.database.put([0x00, 0x01, 0x02], for: KeyBytes(Int64(2)).bytes, in: txn)
                var wrongType = Envelope.header(recordVersion: 1)
                wrongType += [0x83, 0x01, 0x02, 0x03]
                try notes.database.put(wrongType, for: KeyBytes(Int64(3)).bytes, in: txn)
                try notes.database.put(Envelope.header(recordVersion: 9) + [0xA0], for: KeyBytes(Int64(4)).bytes, in: txn)
            }
            try store.read { txn throws in
                for (id, kind) in [(Int64(2), DocumentStoreError.Kind.corrupted), (3, .corrupted), (4, .recordVersionTooNew(stored: 9, supported: 1))] {
                    let error = #expect(throws: DocumentStoreError.self) { try notes.get(KeyBytes(id), in: txn) }
                    #expect(error?.kind == kind)
                    #expect(error?.description.contains("collection \"notes\", key \(KeyBytes(id))") == true)
                }
                var random = SeededGenerator(seed: 8)
                _ = random.next()
            }
            // Random garbage under every key: decoding only ever throws.
            var random = SeededGenerator(seed: 9)
            try store.write { txn throws in
                for id in 10..<2_010 {
                    var bytes = Envelope.header(recordVersion: 1)
                    bytes += (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                    try notes.database.put(bytes, for: KeyBytes(Int64(id)).bytes, in: txn)
                }
            }
            try store.read { txn throws in
                for id in 10..<2_010 { _ = try? notes.get(KeyBytes(Int64(id)), in: txn) }
            }
        }
    }

    @Test("a damaged record can still be deleted, index entries and all")
    func deleteDamaged() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s")
            try store.write { txn throws in
                try notes.put(Note(id: 1, author: "ann", email: "a@x", score: 1, text: "fine"), in: txn)
                try notes.put(Note(id: 2, author: "ann", email: "b@x", score: 2, text: "to be damaged"), in: txn)
                try notes.database.put([0x54, 0x01, 0x01, 0xFF, 0xFF], for: KeyBytes(Int64(2)).bytes, in: txn)
            }
            let removed = try store.write { txn throws in try notes.delete(KeyBytes(Int64(2)), in: txn) }
            #expect(removed)
            try store.read { txn throws in
                #expect(try notes.count(in: txn) == 1)
                #expect(try notes.index("byAuthor").database?.count(in: txn) == 1)
                #expect(try notes.index("byEmail").database?.count(in: txn) == 1)
                #expect(try notes.scan(index: "byAuthor", matching: KeyBytes("ann"), in: txn).items.map(\.id) == [1])
            }
        }
    }

    @Test("insert into a collection without indexes refuses a taken key and keeps the stored record")
    func insertWithoutIndexes() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s", indexes: false)
            try store.write { txn throws in try notes.insert(Note(id: 1, author: "a", email: nil, score: 0, text: "first"), in: txn) }
            let error = #expect(throws: DocumentStoreError.self) {
                try store.write { txn throws in try notes.insert(Note(id: 1, author: "b", email: nil, score: 1, text: "second"), in: txn) }
            }
            #expect(error?.kind == .duplicateKey)
            // A caught refusal leaves the transaction usable and writes nothing.
            try store.write { txn throws in
                #expect(throws: DocumentStoreError.self) { try notes.insert(Note(id: 1, author: "c", email: nil, score: 2, text: "third"), in: txn) }
                try notes.insert(Note(id: 2, author: "d", email: nil, score: 3, text: "other"), in: txn)
            }
            try store.read { txn throws in
                #expect(try notes.get(KeyBytes(Int64(1)), in: txn)?.text == "first")
                #expect(try notes.count(in: txn) == 2)
            }
        }
    }

    @Test("a damaged record can be overwritten; its old index entries go")
    func overwriteDamaged() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s")
            try store.write { txn throws in
                try notes.put(Note(id: 2, author: "ann", email: "b@x", score: 2, text: "to be damaged"), in: txn)
                try notes.database.put([0x54, 0x01, 0x01, 0xFF, 0xFF], for: KeyBytes(Int64(2)).bytes, in: txn)
            }
            try store.write { txn throws in try notes.put(Note(id: 2, author: "bob", email: "b@x", score: 5, text: "repaired"), in: txn) }
            try store.read { txn throws in
                #expect(try notes.get(KeyBytes(Int64(2)), in: txn)?.text == "repaired")
                #expect(try notes.scan(index: "byAuthor", matching: KeyBytes("ann"), in: txn).items.isEmpty)
                #expect(try notes.scan(index: "byAuthor", matching: KeyBytes("bob"), in: txn).items.map(\.id) == [2])
                #expect(try notes.check(in: txn).isEmpty)
            }
        }
    }

    @Test("the envelope is the documented bytes, and a newer store version is refused")
    func envelopeAndVersions() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s", indexes: false)
            try store.write { txn throws in try notes.put(Note(id: 1, author: "a", email: nil, score: 0, text: ""), in: txn) }
            let raw = try store.read { txn throws in try notes.database.get(KeyBytes(Int64(1)).bytes, in: txn).map { Array($0) } }
            #expect(Array(raw?.prefix(4) ?? []) == [0x54, 0x01, 0x01, 0xA4])  // marker, format 1, version 1, map of 4 (nil email left out)
            #expect(try store.storedVersion(of: "notes") == 1)
            let error = #expect(throws: DocumentStoreError.self) {
                _ = try store.collection("notes", version: 0, primaryKey: { (note: Note) in KeyBytes(note.id) })
            }
            #expect(error?.kind == .recordVersionTooNew(stored: 1, supported: 0))
        }
    }
}

/// A record with the CBOR fast path; `viaFastPath` records which path decoded it.
struct FastNote: Codable, Equatable, CBORRecordDecodable {
    var id: Int64
    var text: String
    var viaFastPath = false

    enum CodingKeys: String, CodingKey { case id, text }

    init(id: Int64, text: String) {
        self.id = id
        self.text = text
    }

    init(cbor reader: inout CBORItemReader) throws {
        var id: Int64?, text: String?
        try reader.readMap { key, value in
            switch key {
            case "id": id = try value.decode(Int64.self)
            case "text": text = try value.decode(String.self)
            default: break
            }
        }
        guard let id, let text else { throw CBORItemReader.missingField("id or text", in: FastNote.self) }
        self.init(id: id, text: text)
        viaFastPath = true
    }

    static func == (a: FastNote, b: FastNote) -> Bool { a.id == b.id && a.text == b.text }
}

@Suite("Collections of CBORRecordDecodable records")
struct FastPathCollectionTests {
    @Test("records are read through the fast path, and equal what was written")
    func fastPath() throws {
        try withTemporaryDirectory { dir in
            let store = try Store(path: dir + "/s")
            let notes = try store.collection("fast", primaryKey: { (note: FastNote) in KeyBytes(note.id) })
            try store.write { txn in
                for id in 0..<100 { try notes.put(FastNote(id: Int64(id), text: "note \(id)"), in: txn) }
            }
            try store.read { txn in
                let one = try #require(try notes.get(KeyBytes(Int64(42)), in: txn))
                #expect(one == FastNote(id: 42, text: "note 42") && one.viaFastPath)
                let page = try notes.scan(limit: 100, in: txn)
                #expect(page.items.count == 100 && page.items.allSatisfy(\.viaFastPath))
            }
            // A damaged value is still an error naming the collection and key.
            try store.write { txn in
                try notes.database.put(Envelope.header(recordVersion: 1) + [0xA1, 0x62, 0x69, 0x64], for: KeyBytes(Int64(7)).bytes, in: txn)
            }
            let error = #expect(throws: DocumentStoreError.self) { try store.read { txn in try notes.get(KeyBytes(Int64(7)), in: txn) } }
            #expect(error?.kind == .corrupted)
        }
    }
}

@Suite("Transactions across collections")
struct MultiCollectionTests {
    struct Stop: Error {}
    struct Tag: Codable, Equatable { var name: String; var count: Int }

    @Test("names that would share another's database are refused, and nothing is created for them")
    func clashingNames() throws {
        try withTemporaryDirectory { dir in
            let (store, _) = try openNotes(dir + "/s")
            let before = try store.environment.databaseNames()
            let key: @Sendable (Note) -> KeyBytes = { KeyBytes($0.id) }
            let refused: [(String, [Index<Note>])] = [
                ("meta", []), ("idx.notes.byAuthor", []), ("idx.", []), ("", []), ("a\u{0}b", []),
                ("a", [Index("") { KeyBytes($0.author) }]), ("a", [Index("x\u{0}") { KeyBytes($0.author) }]),
                ("a", [Index("x") { KeyBytes($0.author) }, Index("x", unique: true) { KeyBytes($0.text) }]),
                ("a", [Index("x", scopedByPrimaryKeyPrefix: -1) { KeyBytes($0.author) }]),   // its first write trapped
            ]
            for (name, indexes) in refused {
                let error = #expect(throws: LMDBError.self) { try store.collection(name, primaryKey: key, indexes: indexes) }
                #expect(error?.code == .invalidArgument, "\(name.debugDescription): \(String(describing: error))")
            }
            for version in [-1, Int(UInt32.max) + 1, Int.max] {
                let error = #expect(throws: LMDBError.self) { try store.collection("v", version: version, primaryKey: key) }
                #expect(error?.code == .invalidArgument && error?.description.contains("record version") == true)
            }
            // Migration steps the runner would never apply, or two from one version.
            let touch: @Sendable (inout CBORValue) throws -> Void = { $0["text"] = .text("x") }
            for (version, steps) in [(2, [MigrationStep.update(from: 2, touch)]), (2, [.update(from: -1, touch)]),
                                     (3, [.update(from: 1, touch), .update(from: 1, touch)])] {
                let error = #expect(throws: LMDBError.self) { try store.collection("m", version: version, primaryKey: key, migrations: steps) }
                #expect(error?.code == .invalidArgument && error?.description.contains("step") == true, "\(String(describing: error))")
            }
            #expect(try store.environment.databaseNames() == before)
            // The largest version an envelope holds reads back, and a record far below it is
            // upgraded through its few steps (the walk goes step by step, not number by number).
            let top = Int(UInt32.max)
            let wide = try store.collection("wide", version: top, primaryKey: key)
            let note = Note(id: 1, author: "ann", email: nil, score: 1, text: "a")
            try store.write { txn in try wide.put(note, in: txn) }
            #expect(try store.read { txn in try wide.get(KeyBytes(Int64(1)), in: txn) } == note)
            try store.write { txn in
                try store.environment.openDatabase("wide").put(Envelope.header(recordVersion: 0) + CBOREncoder().encode(note), for: KeyBytes(Int64(2)).bytes, in: txn)
            }
            let stepped = try store.collection("wide", version: top, primaryKey: key, migrations: [.update(from: 7) { $0["text"] = .text("stepped") }])
            #expect(try store.read { txn in try stepped.get(KeyBytes(Int64(2)), in: txn) }?.text == "stepped")
            // Dots stay allowed (stores may have them).
            let dotted = try store.collection("app.notes", primaryKey: key, indexes: [Index("by.author") { KeyBytes($0.author) }])
            try store.write { txn in try dotted.put(Note(id: 1, author: "ann", email: nil, score: 1, text: "a"), in: txn) }
            #expect(try store.read { txn in try dotted.count(in: txn) } == 1)
            // The layer below: an empty name would have been LMDB's main database, a NUL cut the name.
            for name in ["", "x\u{0}y"] {
                let error = #expect(throws: LMDBError.self) { try store.environment.openDatabase(name) }
                #expect(error?.code == .invalidArgument)
            }
        }
    }

    @Test("one write spans several collections: all of it lands, or none of it")
    func atomicAcrossCollections() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s")
            let tags = try store.collection("tags", primaryKey: { (tag: Tag) in KeyBytes(tag.name) })
            try store.write { txn throws in
                try notes.put(Note(id: 1, author: "ann", email: nil, score: 1, text: "a"), in: txn)
                try tags.put(Tag(name: "swift", count: 1), in: txn)
            }
            #expect(throws: Stop.self) {
                try store.write { txn throws in
                    try notes.put(Note(id: 2, author: "bob", email: nil, score: 2, text: "b"), in: txn)
                    try tags.put(Tag(name: "swift", count: 2), in: txn)
                    throw Stop()
                }
            }
            try store.read { txn throws in
                #expect(try notes.count(in: txn) == 1)
                #expect(try tags.get(KeyBytes("swift"), in: txn) == Tag(name: "swift", count: 1))
                #expect(try notes.scan(index: "byAuthor", matching: KeyBytes("bob"), in: txn).items.isEmpty)
            }
        }
    }
}
