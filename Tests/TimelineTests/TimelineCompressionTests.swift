import Foundation
import TestSupport
import Testing
import Timeline
import TimelineDocumentStore
import TimelineLMDB

/// Prose-like text LZ4 shrinks (words repeated in varying order).
private func prose(_ length: Int, seed: UInt64) -> String {
    let words = ["the", "session", "model", "answered", "with", "a", "plan", "for", "deploying", "service", "and", "tests"]
    var random = SeededGenerator(seed: seed)
    var text = ""
    while text.utf8.count < length { text += words[Int.random(in: 0..<words.count, using: &random)] + " " }
    return String(text.prefix(length))
}

@Suite("The timeline's large records, compressed")
struct TimelineCompressionTests {
    /// Whether the stored value of each turn of `id` (its own) is compressed.
    func compressedTurns(_ timeline: TimelineStore, _ id: UUID, count: Int) throws -> [Bool] {
        let turns = try timeline.store.environment.openDatabase("turns", create: false)
        return try timeline.store.read { txn in
            try (0..<count).map { sequence in
                let value = try #require(try turns.get(KeyBytes(id, UInt64(sequence)).bytes, in: txn))
                return Envelope.isCompressed(value)
            }
        }
    }

    @Test("with .lz4 large turns and checkpoints are stored compressed; every way of reading them gives the same content")
    func compressed() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try TimelineStore(path: dir + "/timeline", configuration: .init(durability: .noSync), compression: .lz4)
            let session = try await timeline.createSession(NewSession(title: "long answers"))
            // Under 2,000 bytes a turn stays plain; a 3 KB one LZ4 takes into a leaf page and a
            // 60 KB one are stored compressed.
            let contents = ["short", prose(1_500, seed: 1), prose(3_000, seed: 2), prose(60_000, seed: 3), "also short"]
            try await timeline.append(contents.enumerated().map { NewTurn(role: $0 % 2 == 0 ? .user : .assistant, content: $1) }, to: session.id)
            #expect(try compressedTurns(timeline, session.id, count: contents.count) == [false, false, true, true, false])
            #expect(try timeline.store.storedFormat() == 2)

            #expect(try timeline.turns(of: session.id).items.map(\.content) == contents)
            var viewed: [String] = []
            _ = try timeline.forEachTurn(of: session.id) { view in viewed.append(try view.content) }
            #expect(viewed == contents)
            let json = try timeline.turnsJSON(of: session.id)
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.json)) as? [[String: Any]])
            #expect(objects.map { $0["content"] as? String } == contents)
            #expect(try timeline.turn(session: session.id, sequence: 3).content == contents[3])

            // A fork reads its parent's compressed turns as its own history.
            let fork = try await timeline.fork(session: session.id, at: 4)
            #expect(try timeline.turns(of: fork.id).items.map(\.content) == Array(contents.prefix(4)))

            let state = Data(prose(20_000, seed: 4).utf8)
            let checkpoint = try await timeline.saveCheckpoint(NewCheckpoint(description: "big state", state: state), for: session.id)
            #expect(try timeline.checkpoint(checkpoint.id)?.state == state)
            #expect(try timeline.check().isEmpty)
            try await timeline.close()
        }
    }

    @Test("by default every turn is stored plain, and turns stored compressed still read")
    func turnedOff() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/timeline"
            let long = prose(5_000, seed: 5)
            let first: UUID
            do {
                let timeline = try TimelineStore(path: path, configuration: .init(durability: .noSync), compression: .lz4)
                first = try await timeline.createSession(NewSession(title: "compressed")).id
                try await timeline.append(NewTurn(role: .user, content: long), to: first)
                try await timeline.close()
            }
            let timeline = try TimelineStore(path: path, configuration: .init(durability: .noSync))
            let second = try await timeline.createSession(NewSession(title: "plain")).id
            try await timeline.append(NewTurn(role: .user, content: long), to: second)
            #expect(try compressedTurns(timeline, first, count: 1) == [true])
            #expect(try compressedTurns(timeline, second, count: 1) == [false])
            #expect(try timeline.turns(of: first).items.map(\.content) == [long])
            #expect(try timeline.turns(of: second).items.map(\.content) == [long])
            try await timeline.close()

            let fresh = try TimelineStore(path: dir + "/plain", configuration: .init(durability: .noSync))
            #expect(try fresh.store.storedFormat() == 1)
            try await fresh.close()
        }
    }

    @Test("storeInCurrentForm compresses what was stored plain before, in batches, and with .none stores it plain again; contents and the change log stay")
    func rewriteStoredForms() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/timeline"
            let contents = (0..<12).map { $0 % 3 == 0 ? "short \($0)" : prose(2_500 + $0 * 700, seed: UInt64(40 + $0)) }
            let session: UUID
            do {
                let plain = try TimelineStore(path: path, configuration: .init(durability: .noSync))
                session = try await plain.createSession(NewSession(title: "written plain")).id
                try await plain.append(contents.map { NewTurn(role: .user, content: $0) }, to: session)
                _ = try await plain.saveCheckpoint(NewCheckpoint(description: "state", state: Data(prose(9_000, seed: 60).utf8)), for: session)
                await plain.close()
            }
            let large = contents.map { $0.utf8.count >= 2_000 }
            do {
                let timeline = try TimelineStore(path: path, configuration: .init(durability: .noSync), compression: .lz4)
                let changes = try timeline.changes(limit: .max).count
                #expect(try compressedTurns(timeline, session, count: contents.count) == Array(repeating: false, count: contents.count))
                #expect(try timeline.storeInCurrentForm(batchSize: 5) == large.filter { $0 }.count + 1)
                #expect(try compressedTurns(timeline, session, count: contents.count) == large)
                #expect(try timeline.storeInCurrentForm(batchSize: 5) == 0)
                #expect(try timeline.turns(of: session).items.map(\.content) == contents)
                #expect(try timeline.changes(limit: .max).count == changes)
                #expect(try timeline.check().isEmpty)
                await timeline.close()
            }
            let timeline = try TimelineStore(path: path, configuration: .init(durability: .noSync))
            #expect(try timeline.storeInCurrentForm() == large.filter { $0 }.count + 1)
            #expect(try compressedTurns(timeline, session, count: contents.count) == Array(repeating: false, count: contents.count))
            #expect(try timeline.turns(of: session).items.map(\.content) == contents)
            #expect(try timeline.check().isEmpty)
            await timeline.close()
        }
    }
}
