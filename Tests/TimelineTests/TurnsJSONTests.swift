import Foundation
import TestSupport
import Testing
import Timeline

@Suite("Turns as JSON, straight from the stored records")
struct TurnsJSONTests {
    /// The turns a JSON page holds, decoded as a client would.
    static func decodedTurns(_ page: JSONPage) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(page.json)) as? [[String: Any]])
    }

    /// A turn object without its null fields (exports leave absent fields out).
    static func withoutNulls(_ object: [String: Any]) -> [String: Any] { object.filter { !($0.value is NSNull) } }

    @Test("each object is the turn as an export writes it; selection, order and paging are those of turns(of:)")
    func matchesExportAndPaging() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let root = try await timeline.createSession(NewSession(title: "root"))
            var turns = sampleTurns(7)
            turns[2].toolCalls = [Turn.ToolCall(id: "c1", name: "search", arguments: #"{"q":"\"quoted\"\n"}"#, result: "ok")]
            turns[3].metadata = ["k": "v", "é": "ü"]
            turns[4].duration = 1.25
            turns[5].content = "tabs\tand\u{1}controls and emoji 🙂"
            try await timeline.append(turns, to: root.id)
            let fork = try await timeline.fork(session: root.id, at: 5)
            try await timeline.append(sampleTurns(4, tag: "fork"), to: fork.id)

            // The export writes each turn through JSONEncoder; the transcoded objects must say the same.
            let export = try JSONSerialization.jsonObject(with: try timeline.exportJSON(fork.id)) as? [String: Any]
            let exported = try #require(export?["turns"] as? [[String: Any]])
            let whole = try timeline.turnsJSON(of: fork.id)
            let objects = try Self.decodedTurns(whole)
            #expect(whole.count == 9 && objects.count == 9 && whole.next == nil)
            for (mine, theirs) in zip(objects, exported) {
                let a = Self.withoutNulls(mine), b = Self.withoutNulls(theirs).merging(["sessionID": mine["sessionID"] as Any]) { _, new in new }
                #expect(NSDictionary(dictionary: a).isEqual(to: b), "\(a) vs \(b)")
            }
            // An inherited turn names the session that stores it, as turn(of:) does.
            let records = try timeline.turns(of: fork.id).items
            #expect(objects.map { $0["sessionID"] as? String } == records.map { $0.sessionID.uuidString })
            #expect(objects.map { $0["content"] as? String } == records.map(\.content))

            // Pages, both directions, with cursors that continue either listing.
            for reverse in [false, true] {
                var contents: [String] = []
                var cursor: PageCursor?
                var pages = 0
                repeat {
                    let page = try timeline.turnsJSON(of: fork.id, range: 1..<8, reverse: reverse, limit: 2, after: cursor)
                    contents += try Self.decodedTurns(page).map { $0["content"] as! String }
                    let same = try timeline.turns(of: fork.id, range: 1..<8, reverse: reverse, limit: 2, after: cursor)
                    #expect(same.next == page.next && same.items.map(\.content) == Array(contents.suffix(page.count)))
                    cursor = page.next
                    pages += 1
                } while cursor != nil
                let expected = records[1..<8].map(\.content)
                #expect(contents == (reverse ? expected.reversed() : expected) && pages == 4)
            }
            // Empty pages and refusals.
            #expect(try timeline.turnsJSON(of: fork.id, limit: 0).json == Array("[]".utf8))
            #expect(throws: TimelineError.self) { try timeline.turnsJSON(of: UUID()) }
            let other = try timeline.turns(of: root.id, limit: 1).next
            #expect(throws: TimelineError.self) { try timeline.turnsJSON(of: fork.id, after: other) }
            #expect(throws: TimelineError.self) { try timeline.turnsJSON(of: fork.id, limit: -1) }
        }
    }

    @Test("the release-1 store, read lazily: its older records are upgraded before they are written as JSON")
    func olderRecords() async throws {
        try await withTemporaryDirectory { dir in
            let path = try FormatMigrationTests.copyOfFixture(in: dir)
            let timeline = try TimelineStore(path: path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
            let page = try timeline.turnsJSON(of: FormatFixture.root)
            let objects = try Self.decodedTurns(page)
            #expect(!objects.isEmpty && objects.allSatisfy { $0["costNanos"] != nil && $0["cost"] == nil })
            #expect(objects.map { $0["content"] as? String } == (try timeline.turns(of: FormatFixture.root).items.map(\.content)))
            await timeline.close()
        }
    }
}
