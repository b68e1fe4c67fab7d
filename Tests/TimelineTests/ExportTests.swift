import TestSupport
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing
@testable import Timeline

@Suite("Export and import of one session")
struct ExportTests {
    /// A session with every kind of record, forked from a parent.
    func populated(_ timeline: TimelineStore) async throws -> (parent: Session, fork: Session) {
        let parent = try await timeline.createSession(NewSession(title: "Ünïcode ✓", project: "p", metadata: ["a": "b"]))
        try await timeline.append(sampleTurns(5, tag: "p"), to: parent.id)
        let fork = try await timeline.fork(session: parent.id, at: 3, branchName: "alt")
        try await timeline.append([
            NewTurn(role: .assistant, content: "with a tool", duration: 1.25, toolCalls: [Turn.ToolCall(id: "1", name: "ls", arguments: "{}", result: "a b")]),
            NewTurn(role: .user, content: "", blocks: [Turn.Block(kind: "image", text: "https://example.org/x.png")]),
        ], to: fork.id)
        try await timeline.saveCheckpoint(NewCheckpoint(starred: true, description: "before", state: Data([0, 255, 7])), for: fork.id)
        try await timeline.saveCrystal(NewCrystal(text: "summary", tokens: 3), for: fork.id)
        return (parent, try #require(try await timeline.session(fork.id)))
    }

    @Test("export → import → export is byte-identical, in another store and after replacing")
    func roundTrip() async throws {
        try await withTemporaryDirectory { dir in
            let source = try openTimeline(dir + "/a")
            let (_, fork) = try await populated(source)
            let json = try source.exportJSON(fork.id)
            let document = try JSONDecoder().decode([String: JSONValue].self, from: json)
            #expect(document["format"] == .string("timelinestore.session"))

            let target = try openTimeline(dir + "/b")
            let imported = try await target.importJSON(json)
            #expect(imported.id == fork.id && imported.parentID == nil && imported.turnCount == 5)
            #expect(try target.exportJSON(fork.id) == json)
            #expect(try await history(target, fork.id) == ["p 0", "p 1", "p 2", "with a tool", ""])

            let exists = await #expect(throws: TimelineError.self) { try await target.importJSON(json) }
            #expect(exists == .sessionExists(fork.id))
            try await target.importJSON(json, options: ImportOptions(replace: true))
            #expect(try target.exportJSON(fork.id) == json)

            let copy = try await target.importJSON(json, options: ImportOptions(newIDs: true))
            #expect(copy.id != fork.id)
            #expect(try await history(target, copy.id) == history(target, fork.id))
            #expect(try target.statistics().sessions == 2)
        }
    }

    @Test("a fork exported without its inherited turns imports only where its parent is")
    func forkWithoutHistory() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir + "/a")
            let (parent, fork) = try await populated(timeline)
            let document = try timeline.read { txn in try txn.exportSession(fork.id, includeInherited: false) }
            #expect(document.turns.map(\.sequence) == [3, 4] && document.session.parentID == parent.id)

            let elsewhere = try openTimeline(dir + "/b")
            let orphan = #expect(throws: TimelineError.self) { try elsewhere.write { txn in try txn.importSession(document) } }
            #expect(orphan == .parentNotFound(session: fork.id, parent: parent.id))

            // A parent here that is shorter than the branch point cannot give the fork its turns.
            let shortParent = try openTimeline(dir + "/c")
            let short = try await shortParent.createSession(NewSession(id: parent.id, title: "short"))
            try await shortParent.append(NewTurn(role: .user, content: "only"), to: short.id)
            let tooShort = #expect(throws: TimelineError.self) { try shortParent.write { txn in try txn.importSession(document) } }
            if case .invalidExport(let why) = tooShort { #expect(why.contains("has 1 turns")) } else { Issue.record("\(String(describing: tooShort))") }
            #expect(try shortParent.session(fork.id) == nil && shortParent.check().isEmpty)
            var selfParent = document
            selfParent.session.parentID = fork.id
            let ownParent = #expect(throws: TimelineError.self) { try shortParent.write { txn in try txn.importSession(selfParent) } }
            if case .invalidExport = ownParent {} else { Issue.record("\(String(describing: ownParent))") }

            try await timeline.write { txn in try txn.importSession(document, options: ImportOptions(replace: true)) }
            #expect(try await history(timeline, fork.id) == ["p 0", "p 1", "p 2", "with a tool", ""])
        }
    }

    @Test("totals follow the turns: a fork exported with its inherited turns carries theirs, an import adds up the document's turns, check finds a session whose totals do not")
    func totalsFollowTurns() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir + "/a")
            let parent = try await timeline.createSession(NewSession(title: "p"))
            try await timeline.append(sampleTurns(4), to: parent.id)                  // 10 in, 20 out, 0.5 each
            let fork = try await timeline.fork(session: parent.id, at: 3)
            try await timeline.append(NewTurn(role: .user, content: "own", inputTokens: 7, cost: 0.25), to: fork.id)
            #expect(try timeline.session(fork.id)?.inputTokens == 7)                   // own turns only
            let whole = try timeline.read { txn in try txn.exportSession(fork.id) }
            #expect(whole.session.parentID == nil)
            let totals: [Int] = [whole.session.inputTokens, whole.session.outputTokens, Int(whole.session.cost.nanos)]
            #expect(totals == [37, 60, 1_750_000_000])
            let elsewhere = try openTimeline(dir + "/b")
            let copy = try await elsewhere.importJSON(try timeline.exportJSON(fork.id))
            #expect(copy.inputTokens == 37 && copy.cost == whole.session.cost)
            #expect(try elsewhere.check().isEmpty)

            // A document whose session totals are not its turns' sums (as exports of forks were
            // before): the import takes the sums.
            var wrong = whole
            wrong.session.inputTokens = 7
            wrong.session.outputTokens = 0
            let wrongTotals = wrong
            let healed = try await elsewhere.write { txn in try txn.importSession(wrongTotals, options: ImportOptions(replace: true)) }
            #expect(healed.inputTokens == 37 && healed.outputTokens == 60)
            #expect(try elsewhere.session(fork.id)?.inputTokens == 37)
            #expect(try elsewhere.check().isEmpty)

            // A stored session whose totals were changed behind the store's back.
            try elsewhere.store.write { txn in
                var damaged = try #require(try elsewhere.sessions.get(KeyBytes(fork.id), in: txn))
                damaged.inputTokens += 1
                try elsewhere.sessions.put(damaged, in: txn)
            }
            let problems = try elsewhere.check()
            #expect(problems.map(\.kind) == ["totalsMismatch"] && problems.first?.location == "sessions \(fork.id)", "\(problems)")
            #expect(problems.first?.detail.contains("38 input tokens") == true && problems.first?.detail.contains("add up to 37, 60") == true)
            // repairTotals sets them back, logged so that backups follow; nothing else changes.
            let position = try elsewhere.currentPosition()
            #expect(try await elsewhere.repairTotals() == [fork.id])
            #expect(try elsewhere.session(fork.id)?.inputTokens == 37 && elsewhere.check().isEmpty)
            #expect(try elsewhere.changes(after: position).map(\.kind) == [.sessionUpdated])
            #expect(try await elsewhere.repairTotals().isEmpty)
        }
    }

    @Test("inconsistent documents are refused and leave the store as it was")
    func badDocuments() async throws {
        try await withTemporaryDirectory { dir in
            let source = try openTimeline(dir + "/a")
            let (_, fork) = try await populated(source)
            let good = try source.read { txn in try txn.exportSession(fork.id) }
            let target = try openTimeline(dir + "/b")
            var cases: [(String, SessionExport)] = []
            var wrongFormat = good; wrongFormat.format = "other"; cases.append(("format", wrongFormat))
            var newer = good; newer.version = SessionExport.formatVersion + 1; cases.append(("version", newer))
            var noVersion = good; noVersion.version = 0; cases.append(("version 0", noVersion))
            var gap = good; gap.turns.remove(at: 2); cases.append(("gap", gap))
            var foreign = good; foreign.turns[0].sessionID = UUID(); cases.append(("foreign turn", foreign))
            var extra = good; extra.session.turnCount = 9; cases.append(("count", extra))
            var badCheckpoint = good; badCheckpoint.checkpoints[0].number = 5; cases.append(("checkpoint number", badCheckpoint))
            var badCrystal = good; badCrystal.crystals[0].sessionID = UUID(); cases.append(("crystal owner", badCrystal))
            var crystalPast = good; crystalPast.crystals[0].endSequence = 99; cases.append(("crystal past the end", crystalPast))
            var crystalBackwards = good; crystalBackwards.crystals[0].firstSequence = 3; crystalBackwards.crystals[0].endSequence = 1
            cases.append(("crystal backwards", crystalBackwards))
            var crystalNegative = good; crystalNegative.crystals[0].firstSequence = -1; cases.append(("crystal negative", crystalNegative))
            var sameTurnID = good; sameTurnID.turns[1].id = sameTurnID.turns[0].id; cases.append(("two turns, one id", sameTurnID))
            var checkpointBefore = good; checkpointBefore.checkpoints[0].turnSequence = -1; cases.append(("checkpoint at -1", checkpointBefore))
            for (name, document) in cases {
                let error = #expect(throws: TimelineError.self, "\(name)") { try target.write { txn in try txn.importSession(document) } }
                if case .invalidExport = error {} else { Issue.record("\(name): \(String(describing: error))") }
            }
            let notJSON = await #expect(throws: TimelineError.self) { try await target.importJSON(Data("{\"format\": 1".utf8)) }
            if case .invalidExport = notJSON {} else { Issue.record("not JSON: \(String(describing: notJSON))") }
            // JSON whose number does not fit its field is named so, not "not valid JSON".
            let exported = String(decoding: try source.exportJSON(fork.id), as: UTF8.self)
            for number in ["1.5", "1e30", "1e400"] {   // 1e400 was "not valid JSON"
                let text = exported.replacingOccurrences(of: "\"turnCount\" : ", with: "\"turnCount\" : \(number), \"x\" : ")
                let error = await #expect(throws: TimelineError.self) { try await target.importJSON(Data(text.utf8)) }
                guard case .invalidExport(let why) = error else { Issue.record("\(number): \(String(describing: error))"); continue }
                #expect(why.contains("a number does not fit its field"), "\(why)")
            }
            #expect(try target.statistics().sessions == 0)
            #expect(try target.statistics().turns == 0)
        }
    }
}

/// Just enough JSON to look inside an export.
enum JSONValue: Decodable, Equatable {
    case string(String), other

    init(from decoder: any Decoder) throws {
        self = (try? decoder.singleValueContainer().decode(String.self)).map(JSONValue.string) ?? .other
    }
}
