import TestSupport
import TimelineCBOR
import TimelineDocumentStore
import Foundation
import Testing
@testable import Timeline

@Suite("Turn and session views: fields read in place, the listings of turns(of:) and listSessions")
struct ViewTests {
    /// Every field of a view, as the record it stands for.
    static func record(_ view: inout TurnView) throws -> Turn {
        Turn(sessionID: view.sessionID, sequence: view.sequence, id: try view.id, role: try view.role, content: try view.content,
             created: try view.created, duration: try view.duration, inputTokens: try view.inputTokens,
             outputTokens: try view.outputTokens, cost: try view.cost, toolCalls: try view.toolCalls, blocks: try view.blocks,
             metadata: try view.metadata)
    }

    static func record(_ view: inout SessionView) throws -> Session {
        Session(id: view.id, title: try view.title, project: try view.project, parentID: try view.parentID,
                branchPoint: try view.branchPoint, branchName: try view.branchName, model: try view.model,
                provider: try view.provider, created: try view.created, updated: try view.updated,
                lastActivity: try view.lastActivity, turnCount: try view.turnCount, inputTokens: try view.inputTokens,
                outputTokens: try view.outputTokens, cost: try view.cost, archived: try view.archived,
                metadata: try view.metadata, checkpointCount: try view.checkpointCount, crystalCount: try view.crystalCount)
    }

    @Test("turn views: every field, in any order, equals the record; the same pages and cursors as turns(of:), through forks")
    func turnViewsMatchRecords() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let root = try await timeline.createSession(NewSession(title: "root"))
            var turns = sampleTurns(9)
            turns[1].toolCalls = [Turn.ToolCall(id: "c1", name: "search", arguments: "{}", result: "ok", isError: true)]
            turns[1].metadata = ["after": "the tool calls"]
            turns[2].blocks = [Turn.Block(kind: "thinking", text: "hmm")]
            turns[3].metadata = ["k": "v"]
            turns[4].duration = 2.5
            turns[5].role = .other("critic")
            turns[6].role = .system
            turns[7].role = .tool
            turns[8].content = "é 🙂"
            turns[0].cost = nil
            turns[0].inputTokens = nil
            try await timeline.append(turns, to: root.id)
            let fork = try await timeline.fork(session: root.id, at: 6)
            try await timeline.append(sampleTurns(3, tag: "fork"), to: fork.id)
            let forkOfFork = try await timeline.fork(session: fork.id, at: 8)
            try await timeline.append(sampleTurns(2, tag: "deep"), to: forkOfFork.id)

            var generator = SeededGenerator(seed: 15)
            for _ in 0..<60 {
                let id = [root.id, fork.id, forkOfFork.id].randomElement(using: &generator)!
                let lower = Int.random(in: 0...6, using: &generator)
                let range = lower..<Int.random(in: lower...14, using: &generator)
                let reverse = Bool.random(using: &generator)
                let limit = Int.random(in: 0...4, using: &generator)
                var cursor: PageCursor?
                repeat {
                    let page = try timeline.turns(of: id, range: range, reverse: reverse, limit: limit, after: cursor)
                    var seen: [Turn] = [], whole: [Turn] = [], bytes: [[UInt8]] = []
                    let next = try timeline.forEachTurn(of: id, range: range, reverse: reverse, limit: limit, after: cursor) { view in
                        // Read backwards on odd sequences: any order must give the same fields.
                        if view.sequence % 2 == 1 { _ = try view.metadata; _ = try view.id }
                        seen.append(try Self.record(&view))
                        whole.append(try view.turn())
                        bytes.append(try view.withContentUTF8 { Array($0) })
                    }
                    #expect(seen == page.items && whole == page.items && next == page.next)
                    #expect(bytes == page.items.map { Array($0.content.utf8) })
                    cursor = page.next
                } while cursor != nil && limit > 0
            }
            // Cursors are interchangeable, and the refusals are those of turns(of:).
            let next = try timeline.forEachTurn(of: fork.id, limit: 3) { _ in }
            #expect(try timeline.turns(of: fork.id, after: next).items.map(\.sequence) == Array(3..<9))
            #expect(throws: TimelineError.self) { try timeline.forEachTurn(of: UUID()) { _ in } }
            #expect(throws: TimelineError.self) { try timeline.forEachTurn(of: fork.id, limit: -1) { _ in } }
            #expect(throws: TimelineError.self) { try timeline.forEachTurn(of: root.id, after: next) { _ in } }
            // What the closure throws ends the listing.
            struct Stop: Error {}
            var calls = 0
            #expect(throws: Stop.self) { try timeline.forEachTurn(of: root.id) { _ in calls += 1; throw Stop() } }
            #expect(calls == 1)
            await timeline.close()
        }
    }

    /// Every listing's pages, through views and through records (synchronous: the compiler
    /// crashed checking this loop's sendability inside the async test).
    static func compareListings(_ timeline: TimelineStore, parent: UUID) throws {
            let filters = [SessionFilter(), SessionFilter(project: "p1"), SessionFilter(archived: nil), SessionFilter(archived: true),
                       SessionFilter(parent: parent), SessionFilter(project: "p1", parent: parent)]
        for filter in filters {
            for order in [SessionOrder.newestFirst, .oldestFirst] {
                for limit in [0, 1, 5, 100] {
                    var cursor: PageCursor?
                    repeat {
                        let page = try timeline.listSessions(filter: filter, order: order, limit: limit, after: cursor)
                        var seen: [Session] = [], whole: [Session] = [], titles: [[UInt8]] = []
                        let next = try timeline.forEachSession(filter: filter, order: order, limit: limit, after: cursor) { view in
                            seen.append(try Self.record(&view))
                            whole.append(try view.session())
                            titles.append(try view.withTitleUTF8 { Array($0) })
                        }
                        #expect(seen == page.items && whole == page.items && next == page.next, "\(filter) \(order) \(limit)")
                        #expect(titles == page.items.map { Array($0.title.utf8) })
                        cursor = page.next
                    } while cursor != nil && limit > 0
                }
            }
        }
    }

    @Test("session views: every field equals the record; the same pages, filters and cursors as listSessions")
    func sessionViewsMatchRecords() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            var ids: [UUID] = []
            for index in 0..<12 {
                let session = try await timeline.createSession(NewSession(
                    title: "s\(index)", project: index % 3 == 0 ? nil : "p\(index % 2)", model: index % 2 == 0 ? "m" : nil,
                    metadata: index % 4 == 0 ? ["k": "\(index)"] : [:]))
                ids.append(session.id)
                try await timeline.append(sampleTurns(index % 5), to: session.id)
            }
            let fork = try await timeline.fork(session: ids[1], at: 1, branchName: "b")
            _ = try await timeline.fork(session: ids[1], at: 0)
            try await timeline.updateSession(ids[4]) { $0.archived = true }
            _ = try await timeline.saveCheckpoint(NewCheckpoint(description: "c"), for: fork.id)

            try Self.compareListings(timeline, parent: ids[1])
            #expect(throws: TimelineError.self) { try timeline.forEachSession(limit: -1) { _ in } }
            let other = try timeline.listSessions(filter: SessionFilter(project: "p1"), limit: 1).next
            #expect(throws: TimelineError.self) { try timeline.forEachSession(after: other) { _ in } }
            await timeline.close()
        }
    }

    @Test("a damaged record throws corrupted, naming it, when the damaged field is read — the other fields still read")
    func damagedRecords() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "damaged", project: "p"))
            try await timeline.append(sampleTurns(3), to: session.id)
            let turnKey = KeyBytes(session.id, UInt64(1))
            try editStoredRecord(timeline, timeline.turnRecords, key: turnKey, version: Turn.recordVersion) { record in
                record[fieldID: 2] = .unsigned(7)      // content: the wrong type
                record[fieldID: 3] = nil               // created: missing
            }
            var roles: [Turn.Role] = []
            try timeline.forEachTurn(of: session.id) { roles.append(try $0.role) }
            #expect(roles == [.user, .assistant, .user])
            for read in [{ (view: inout TurnView) in _ = try view.content }, { _ = try $0.created }, { _ = try $0.withContentUTF8 { $0.count } },
                         { _ = try $0.turn() }] {
                #expect { try timeline.forEachTurn(of: session.id) { view in try read(&view) } }
                    throws: { ($0 as? DocumentStoreError)?.kind == .corrupted && ($0 as? DocumentStoreError)?.key == turnKey.description }
            }
            // A missing record: refused before the closure sees any turn after it, in either direction.
            try timeline.store.write { txn in _ = try timeline.turnRecords.database.delete(turnKey.bytes, in: txn) }
            for reverse in [false, true] {
                var seen: [Int] = []
                #expect { try timeline.forEachTurn(of: session.id, reverse: reverse) { seen.append($0.sequence) } }
                    throws: { ($0 as? DocumentStoreError)?.kind == .corrupted && "\($0)".contains("not all stored") }
                #expect(seen == [reverse ? 2 : 0])
                #expect(throws: DocumentStoreError.self) { try timeline.turnsJSON(of: session.id, reverse: reverse) }
            }
            // A session whose title is missing: the listing's view throws when asked for it.
            try editStoredRecord(timeline, timeline.sessions, key: KeyBytes(session.id), version: Session.recordVersion) { record in
                record[fieldID: 0] = nil               // title
            }
            var counts: [Int] = []
            try timeline.forEachSession { counts.append(try $0.turnCount) }
            #expect(counts == [3])
            #expect { try timeline.forEachSession { _ = try $0.title } }
                throws: { ($0 as? DocumentStoreError)?.kind == .corrupted && ($0 as? DocumentStoreError)?.key == KeyBytes(session.id).description }
            await timeline.close()
        }
    }

    @Test("a missing turn is refused even where the key the walk meets instead is another session's turn of that sequence")
    func missingTurnBesideAnotherSession() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            func sortsBefore(_ a: UUID, _ b: UUID) -> Bool { KeyBytes(a).bytes.lexicographicallyPrecedes(KeyBytes(b).bytes) }
            let one = try await timeline.createSession(NewSession(title: "one")), two = try await timeline.createSession(NewSession(title: "two"))
            let (low, high) = sortsBefore(one.id, two.id) ? (one.id, two.id) : (two.id, one.id)
            try await timeline.append(sampleTurns(3), to: low)
            try await timeline.append(sampleTurns(3), to: high)
            // Reverse: without turn 0 of `high`, the walk down from its turn 1 meets `low`'s last
            // stored turn next. Cut to its turn 0, that key is (low, 0), with the very sequence the
            // walk expects: only the key's owner tells it apart.
            try timeline.store.write { txn in
                for sequence in [1, 2] { _ = try timeline.turnRecords.database.delete(KeyBytes(low, UInt64(sequence)).bytes, in: txn) }
                _ = try timeline.turnRecords.database.delete(KeyBytes(high, UInt64(0)).bytes, in: txn)
            }
            var seen: [Int] = []
            #expect { try timeline.forEachTurn(of: high, reverse: true) { seen.append($0.sequence) } }
                throws: { ($0 as? DocumentStoreError)?.kind == .corrupted && "\($0)".contains("not all stored") }
            #expect(seen == [2, 1])
            #expect(throws: DocumentStoreError.self) { try timeline.turns(of: high, reverse: true) }
            #expect(throws: DocumentStoreError.self) { try timeline.turnsJSON(of: high, reverse: true) }
            await timeline.close()

            // Forward, in a store of its own: a fork of `other` at 2 whose id sorts after
            // `other`'s stores its first own turn at (fork, 2) — the key a walk over `other` meets
            // once `other`'s own turn 2 is gone (forks without turns of their own store none).
            try FileManager.default.createDirectory(atPath: dir + "/forward", withIntermediateDirectories: true)
            let forward = try openTimeline(dir + "/forward")
            let other = try await forward.createSession(NewSession(title: "three"))
            try await forward.append(sampleTurns(3), to: other.id)
            var fork = try await forward.fork(session: other.id, at: 2)
            while !sortsBefore(other.id, fork.id) { fork = try await forward.fork(session: other.id, at: 2) }
            let appended = try await forward.append(sampleTurns(1), to: fork.id)
            #expect(appended.map(\.sequence) == [2])
            try forward.store.write { txn in _ = try forward.turnRecords.database.delete(KeyBytes(other.id, UInt64(2)).bytes, in: txn) }
            seen = []
            #expect { try forward.forEachTurn(of: other.id) { seen.append($0.sequence) } }
                throws: { ($0 as? DocumentStoreError)?.kind == .corrupted && "\($0)".contains("not all stored") }
            #expect(seen == [0, 1])
            #expect(throws: DocumentStoreError.self) { try forward.turns(of: other.id) }
            #expect(throws: DocumentStoreError.self) { try forward.turnsJSON(of: other.id) }
            await forward.close()
        }
    }

    /// Every field a turn view reads, as a comparable value, or the error it threw.
    static func fields(_ view: inout TurnView) -> [String] {
        func read(_ body: () throws -> Any) -> String { do { return "\(try body())" } catch { return "error" } }
        return [read { try view.metadata }, read { try view.inputTokens as Any }, read { try view.id }, read { try view.role },
                read { try view.content }, read { try view.withContentUTF8 { Array($0) } }, read { try view.created },
                read { try view.duration as Any }, read { try view.outputTokens as Any }, read { try view.cost as Any },
                read { try view.toolCalls }, read { try view.blocks }, read { try view.id }]
    }

    /// The same fields from the whole record.
    static func fields(_ turn: Turn) -> [String] {
        ["\(turn.metadata)", "\(turn.inputTokens as Any)", "\(turn.id)", "\(turn.role)", "\(turn.content)", "\(Array(turn.content.utf8))",
         "\(turn.created)", "\(turn.duration as Any)", "\(turn.outputTokens as Any)", "\(turn.cost as Any)", "\(turn.toolCalls)",
         "\(turn.blocks)", "\(turn.id)"]
    }

    @Test("views read records of every form as the whole record does: ids out of order, names, nulls, unknown ids, whole seconds")
    func unusualForms() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "forms", project: "p", model: "m"))
            try await timeline.append([NewTurn(role: .assistant, content: "first", duration: 1.5, inputTokens: 3, outputTokens: 4, cost: 0.25,
                                               toolCalls: [Turn.ToolCall(id: "c", name: "n", arguments: "{}")], metadata: ["k": "v"])], to: session.id)
            let key = KeyBytes(session.id, UInt64(0))
            let names = Turn.CodingKeys.allCases.compactMap { field in field.intValue.flatMap { $0 >= 0 ? (UInt64($0), field.stringValue) : nil } }
            let edits: [(String, (inout CBORValue) -> Void)] = [
                ("as stored", { _ in }),
                ("ids in reverse", { if case .map(let entries) = $0 { $0 = .map(entries.reversed()) } }),
                ("names for ids, as record versions 1 and 2 stored a turn", { record in
                    guard case .map(let entries) = record else { return }
                    let keyFields = [CBORValue.MapEntry(.text("sessionID"), .tagged(37, .bytes(withUnsafeBytes(of: session.id.uuid) { Array($0) }))),
                                     CBORValue.MapEntry(.text("sequence"), .unsigned(0))]
                    record = .map(keyFields + entries.map { entry in
                        guard case .unsigned(let id) = entry.key, let name = names.first(where: { $0.0 == id })?.1 else { return entry }
                        return CBORValue.MapEntry(.text(name), entry.value)
                    })
                }),
                ("nulls", { $0[fieldID: 5] = .null; $0[fieldID: 4] = .null; $0[fieldID: 7] = .null }),
                ("metadata null", { $0[fieldID: 10] = .null }),
                ("content null", { $0[fieldID: 2] = .null }),
                ("unknown ids", { record in
                    guard case .map(var entries) = record else { return }
                    entries.insert(CBORValue.MapEntry(.unsigned(20), .array([.unsigned(1)])), at: 0)
                    entries.append(CBORValue.MapEntry(.unsigned(23), .text("newer")))
                    record = .map(entries)
                }),
                ("absent optionals", { $0[fieldID: 4] = nil; $0[fieldID: 5] = nil; $0[fieldID: 7] = nil }),
                ("whole seconds", { $0[fieldID: 3] = .tagged(1, .unsigned(1_800_000_000)) }),
                ("a role of its own", { $0[fieldID: 1] = .text("narrator") }),
                ("a field given twice", { record in
                    guard case .map(var entries) = record else { return }
                    entries.append(CBORValue.MapEntry(.unsigned(5), .unsigned(99)))
                    record = .map(entries)
                }),
            ]
            for (name, edit) in edits {
                let original = try timeline.store.read { txn in try timeline.turnRecords.database.get(key.bytes, in: txn).map(Array.init) }
                try editStoredRecord(timeline, timeline.turnRecords, key: key, version: Turn.recordVersion, edit)
                var viewed: [String] = []
                try timeline.forEachTurn(of: session.id) { viewed = Self.fields(&$0) }
                if let turn = try? timeline.turns(of: session.id).items.first {
                    #expect(viewed == Self.fields(turn), "\(name)")
                } else if name != "a field given twice" {
                    #expect(viewed.contains("error"), "\(name): the record does not read, its view reads every field")
                }
                if name == "content null" || name == "metadata null" { #expect(viewed.contains("error"), "\(name)") }
                if name == "a field given twice" {
                    // Damaged: the whole record is refused, and `check` names it; a view reads the first.
                    #expect(throws: DocumentStoreError.self) { try timeline.turns(of: session.id) }
                    #expect(try timeline.check().contains { $0.location.contains(key.description) || "\($0)".contains(key.description) })
                    #expect(viewed[1] == "Optional(3)")
                }
                try timeline.store.write { txn in try timeline.turnRecords.database.put(try #require(original), for: key.bytes, in: txn) }
            }

            // A session whose counts are null: the view throws, as the whole record does.
            try editStoredRecord(timeline, timeline.sessions, key: KeyBytes(session.id), version: Session.recordVersion) { record in
                record[fieldID: 2] = .null        // turnCount
                record[fieldID: 11] = .null       // inputTokens
            }
            #expect(throws: DocumentStoreError.self) { try timeline.listSessions() }
            for read in [{ (view: inout SessionView) in _ = try view.turnCount }, { _ = try $0.inputTokens }] {
                #expect { try timeline.forEachSession { view in try read(&view) } }
                    throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
            }
            #expect(throws: DocumentStoreError.self) { try timeline.turns(of: session.id) }
            await timeline.close()
        }
    }
}
