import TestSupport
import TimelineCBOR
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing

/// Text LZ4 shrinks: words repeated in varying order.
func compressibleText(_ length: Int, seed: UInt64) -> String {
    let words = ["the", "session", "model", "answered", "with", "a", "plan", "for", "deploying", "service", "and", "tests"]
    var random = SeededGenerator(seed: seed)
    var text = ""
    while text.utf8.count < length { text += words[Int.random(in: 0..<words.count, using: &random)] + " " }
    return String(text.prefix(length))
}

/// Text LZ4 cannot shrink: random letters and digits.
func incompressibleText(_ length: Int, seed: UInt64) -> String {
    let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    var random = SeededGenerator(seed: seed)
    return String((0..<length).map { _ in letters[Int.random(in: 0..<letters.count, using: &random)] })
}

@Suite("Compressed record values")
struct CompressionTests {
    func openNotes(_ path: String, compression: ValueCompression = .lz4(minimumSize: 1_024)) throws -> (Store, DocumentCollection<Note>) {
        let store = try Store(path: path, configuration: .init(durability: .noSync))
        let notes = try store.collection("notes", primaryKey: { (note: Note) in KeyBytes(note.id) },
                                         indexes: [Index("byAuthor") { KeyBytes($0.author, Int64($0.score)) }], compression: compression)
        return (store, notes)
    }

    func storedValue(_ notes: DocumentCollection<Note>, _ id: Int64, in store: Store) throws -> [UInt8] {
        try store.read { txn throws in try notes.database.get(KeyBytes(id).bytes, in: txn).map(Array.init) } ?? []
    }

    @Test("a plain envelope compresses and expands back to the same bytes; what does not shrink stays plain")
    func envelopeRoundTrip() throws {
        let record = CBORValue.map([.init(.text("text"), .text(compressibleText(5_000, seed: 1)))])
        let plain = Envelope.header(recordVersion: 3) + record.encoded()
        let compressed = try #require(plain.withUnsafeBytes { Envelope.compress($0) })
        #expect(compressed.count < plain.count / 2)
        #expect(Array(compressed.prefix(2)) == [0x54, 0x02])
        #expect(compressed.withUnsafeBytes { Envelope.isCompressed($0) })
        #expect(compressed.withUnsafeBytes { Envelope.expand($0) } == plain)
        #expect(compressed.withUnsafeBytes { Envelope.plain($0) } == plain)
        #expect(compressed.withUnsafeBytes { Envelope.recordVersion(of: $0) } == 3)
        #expect(compressed.withUnsafeBytes { Envelope.open($0) } == nil)
        #expect(plain.withUnsafeBytes { Envelope.plain($0) } == plain)
        // The version is read from the block's first bytes, for every length of its head.
        for version in [0, 23, 24, 255, 256, 65_535, 65_536, 4_000_000_000] {
            let plain = Envelope.header(recordVersion: version) + record.encoded()
            let compressed = try #require(plain.withUnsafeBytes { Envelope.compress($0) })
            #expect(compressed.withUnsafeBytes { Envelope.recordVersion(of: $0) } == version)
        }

        let random = Envelope.header(recordVersion: 1) + CBORValue.text(incompressibleText(3_000, seed: 2)).encoded()
        #expect(random.withUnsafeBytes { Envelope.compress($0) } == nil)
        #expect([UInt8]([0x54, 0x02, 0x05]).withUnsafeBytes { Envelope.compress($0) } == nil)
    }

    @Test("damaged compressed values expand to nil, never to a trap or a huge allocation")
    func damagedEnvelopes() throws {
        let plain = Envelope.header(recordVersion: 1) + CBORValue.text(compressibleText(4_000, seed: 3)).encoded()
        let good = try #require(plain.withUnsafeBytes { Envelope.compress($0) })
        let headerLength = 2 + 3  // 0x54 0x02, then 0x19 and two length bytes
        var cases: [[UInt8]] = [
            Array(good.prefix(good.count - 7)),                                        // truncated block
            Array(good.prefix(headerLength)),                                          // no block at all
            [0x54, 0x02, 0x1A, 0x7F, 0xFF, 0xFF, 0xFF] + good.suffix(from: headerLength), // a length no block of this size reaches
            [0x54, 0x02, 0x19] + withUnsafeBytes(of: UInt16(plain.count - 2 + 1).bigEndian, Array.init) + good.suffix(from: headerLength),
            [0x54, 0x02, 0x19] + withUnsafeBytes(of: UInt16(plain.count - 2 - 1).bigEndian, Array.init) + good.suffix(from: headerLength),
            [0x54, 0x02, 0x1B] + good.suffix(from: 3),                                 // a 64-bit length head
            [0x54, 0x02],
            // A valid block (three literals) whose body is not a plain envelope's: no version head.
            [0x54, 0x02, 0x03, 0x30, 0xA0, 0x41, 0x41],
        ]
        var random = SeededGenerator(seed: 4)
        for _ in 0..<300 {
            var mutated = good
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                mutated[Int.random(in: 2..<mutated.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            cases.append(mutated)
        }
        for value in cases {
            let expanded = value.withUnsafeBytes { Envelope.expand($0) }
            // A mutation may leave a valid block; whatever expands must then be a plain envelope.
            if let expanded { #expect(expanded.withUnsafeBytes { Envelope.open($0) } != nil) }
        }
        for value in cases.prefix(8) { #expect(value.withUnsafeBytes { Envelope.expand($0) } == nil) }
        for value in cases { _ = value.withUnsafeBytes { Envelope.recordVersion(of: $0) } }   // nil or a number, never a trap
        // The same hand-made block around a body that is one: it expands.
        #expect([UInt8]([0x54, 0x02, 0x03, 0x30, 0x01, 0x61, 0x41]).withUnsafeBytes { Envelope.expand($0) } == [0x54, 0x01, 0x01, 0x61, 0x41])
    }

    @Test("a collection stores large records compressed where that saves space and reads them like any other")
    func collectionRoundTrip() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s")
            let model: [Note] = [
                Note(id: 1, author: "ann", email: nil, score: 1, text: "short"),                                  // under 1 KB: plain
                Note(id: 2, author: "bob", email: nil, score: 2, text: compressibleText(1_500, seed: 5)),         // inline, shrinks: compressed
                Note(id: 3, author: "cy", email: nil, score: 3, text: compressibleText(40_000, seed: 6)),         // overflow pages: compressed
                Note(id: 4, author: "dee", email: nil, score: 4, text: incompressibleText(3_000, seed: 7)),       // does not shrink: plain
                // ~3.5 KB that LZ4 takes to ~2.5 KB: one overflow page either way, so plain.
                Note(id: 5, author: "eve", email: nil, score: 5, text: incompressibleText(2_500, seed: 8) + String(repeating: "a", count: 1_000)),
                // ~3.5 KB that LZ4 takes to ~1.8 KB: into a leaf page, so compressed.
                Note(id: 6, author: "fay", email: nil, score: 6, text: incompressibleText(1_800, seed: 9) + String(repeating: "a", count: 1_700)),
            ]
            try store.write { txn throws in for note in model { try notes.put(note, in: txn) } }
            let compressed = try model.map { note in try storedValue(notes, note.id, in: store).withUnsafeBytes { Envelope.isCompressed($0) } }
            #expect(compressed == [false, true, true, false, false, true])
            #expect(try store.storedFormat() == 2)

            try store.read { txn throws in
                for note in model {
                    #expect(try notes.get(KeyBytes(note.id), in: txn) == note)
                    let text = try notes.withView(KeyBytes(note.id), fields: Note.fields, in: txn) { try $0.decode(.text, as: String.self) }
                    #expect(text == note.text)
                }
                var texts: [String] = []
                try notes.forEachView(fields: Note.fields, in: txn) { view in
                    texts.append(try view.decode(.text, as: String.self) ?? "")
                    return true
                }
                #expect(texts == model.map(\.text))
                #expect(try notes.scan(limit: 10, in: txn).items == model)
                #expect(try notes.scan(index: "byAuthor", .prefix(KeyBytes("cy").bytes), limit: 10, in: txn).items == [model[2]])
                #expect(try notes.check(in: txn).isEmpty)
            }
            // A replace rewrites the form as the new record needs; a delete removes either.
            try store.write { txn throws in
                try notes.put(Note(id: 3, author: "cy", email: nil, score: 3, text: "now short"), in: txn)
                #expect(try notes.delete(KeyBytes(Int64(2)), in: txn))
            }
            #expect(try storedValue(notes, 3, in: store).withUnsafeBytes { Envelope.isCompressed($0) } == false)
            try store.read { txn throws in #expect(try notes.count(in: txn) == 5) }
        }
    }

    @Test("without compression records stay plain and the store stays at format 1; compressed records written before still read")
    func turnedOff() throws {
        try withTemporaryDirectory { dir in
            let big = Note(id: 1, author: "ann", email: nil, score: 1, text: compressibleText(8_000, seed: 10))
            do {
                let (store, notes) = try openNotes(dir + "/plain", compression: .none)
                try store.write { txn throws in try notes.put(big, in: txn) }
                #expect(try storedValue(notes, 1, in: store).withUnsafeBytes { Envelope.isCompressed($0) } == false)
                #expect(try store.storedFormat() == 1)
            }
            do {
                let (store, notes) = try openNotes(dir + "/mixed")
                try store.write { txn throws in try notes.put(big, in: txn) }
            }
            let (store, notes) = try openNotes(dir + "/mixed", compression: .none)
            #expect(try storedValue(notes, 1, in: store).withUnsafeBytes { Envelope.isCompressed($0) })
            try store.read { txn throws in #expect(try notes.get(KeyBytes(Int64(1)), in: txn) == big) }
            try store.write { txn throws in try notes.put(big, in: txn) }
            #expect(try storedValue(notes, 1, in: store).withUnsafeBytes { Envelope.isCompressed($0) } == false)
        }
    }

    @Test("a damaged compressed value is reported as corrupted, by reads and by check")
    func damagedInStore() throws {
        try withTemporaryDirectory { dir in
            let (store, notes) = try openNotes(dir + "/s")
            let note = Note(id: 1, author: "ann", email: nil, score: 1, text: compressibleText(6_000, seed: 11))
            try store.write { txn throws in try notes.put(note, in: txn) }
            var value = try storedValue(notes, 1, in: store)
            value.removeLast(9)
            try store.write { txn throws in try notes.database.put(value, for: KeyBytes(Int64(1)).bytes, in: txn) }
            try store.read { txn throws in
                #expect { try notes.get(KeyBytes(Int64(1)), in: txn) } throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
                #expect { try notes.withView(KeyBytes(Int64(1)), fields: Note.fields, in: txn) { _ in 0 } } throws: {
                    ($0 as? DocumentStoreError)?.kind == .corrupted
                }
                #expect(try notes.check(in: txn).isEmpty == false)
            }
            // Removing it works, as for any damaged record.
            try store.write { txn throws in #expect(try notes.delete(KeyBytes(Int64(1)), in: txn)) }
        }
    }

    @Test("a migration expands older compressed records, upgrades them and stores them compressed again")
    func migration() throws {
        struct NoteV1: Codable, Equatable { var id: Int64; var author: String; var points: Int; var text: String }
        try withTemporaryDirectory { dir in
            let path = dir + "/s"
            let texts = (0..<20).map { compressibleText(3_000 + $0 * 100, seed: UInt64(20 + $0)) }
            do {
                let store = try Store(path: path, configuration: .init(durability: .noSync))
                let old = try store.collection("notes", primaryKey: { (note: NoteV1) in KeyBytes(note.id) }, compression: .lz4)
                try store.write { txn throws in
                    for (id, text) in texts.enumerated() { try old.put(NoteV1(id: Int64(id), author: "ann", points: id, text: text), in: txn) }
                }
            }
            let rename = MigrationStep.update(from: 1) { record in
                record["score"] = record["points"]
                record["points"] = nil
            }
            let store = try Store(path: path, configuration: .init(durability: .noSync), migrationPolicy: .migrateNow(backup: false))
            let notes = try store.collection("notes", version: 2, primaryKey: { (note: Note) in KeyBytes(note.id) },
                                             indexes: [Index("byAuthor") { KeyBytes($0.author, Int64($0.score)) }],
                                             migrations: [rename], compression: .lz4)
            try store.read { txn throws in
                for (id, text) in texts.enumerated() {
                    #expect(try notes.get(KeyBytes(Int64(id)), in: txn) == Note(id: Int64(id), author: "ann", email: nil, score: id, text: text))
                    let value = try #require(try notes.database.get(KeyBytes(Int64(id)).bytes, in: txn))
                    #expect(Envelope.isCompressed(value) && Envelope.recordVersion(of: value) == 2)
                }
                #expect(try notes.scan(index: "byAuthor", .prefix(KeyBytes("ann").bytes), limit: 100, in: txn).items.count == texts.count)
            }
        }
    }
}
