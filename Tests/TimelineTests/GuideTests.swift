import TestSupport
import Foundation
import Testing
import Timeline
import TimelineLMDB
import TimelineDocumentStore

/// The snippets of Docs/guide.md, in order, as written there.
@Suite("Docs/guide.md examples")
struct GuideTests {
    @Test("the write-ahead log: a store opened with it keeps data.wal; opened without, the log is folded in and removed")
    func writeAheadLog() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/timeline"
            let timeline = try TimelineStore(path: path,
                                             configuration: .init(durability: .writeAheadLog))
            let session = try await timeline.createSession(NewSession(title: "logged"))
            for index in 0..<20 { try await timeline.append(NewTurn(role: .user, content: "turn \(index)"), to: session.id) }
            #expect(try timeline.environment.effectiveDurability() == .writeAheadLog)
            await timeline.close()
            #expect(FileManager.default.fileExists(atPath: path + "/data.wal"))
            let plain = try TimelineStore(path: path)
            #expect(try plain.turns(of: session.id).items.count == 20)
            #expect(!FileManager.default.fileExists(atPath: path + "/data.wal"))
            await plain.close()
        }
    }

    @Test("compression: .lz4 moves a store to format 2 and stores large records compressed; by default it stays at format 1")
    func compressedRecords() async throws {
        try await withTemporaryDirectory { dir in
            let long = String(repeating: "a paragraph that a model wrote and the user kept; ", count: 60)
            for (name, compression) in [("default", ValueCompression.none), ("compressed", .lz4)] {
                let timeline = name == "compressed"
                    ? try TimelineStore(path: dir + "/\(name)", compression: .lz4)
                    : try TimelineStore(path: dir + "/\(name)")
                let session = try await timeline.createSession(NewSession(title: name))
                try await timeline.append(NewTurn(role: .assistant, content: long), to: session.id)
                #expect(try timeline.turns(of: session.id).items.map(\.content) == [long])
                #expect(try timeline.storeInCurrentForm() == 0)   // written in its form already
                await timeline.close()
                let store = try Store(path: dir + "/\(name)")
                #expect(try store.storedFormat() == (compression == .none ? 1 : 2))
                try store.environment.close()
            }
        }
    }

    @Test("the guide's walk-through runs and does what it says")
    func walkThrough() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try TimelineStore(path: dir + "/timeline")

            let session = try await timeline.createSession(NewSession(title: "Trip planning", project: "travel",
                                                                      model: "gpt-x", metadata: ["user": "u-42"]))
            try await timeline.append(NewTurn(role: .user, content: "Where should I go in May?", inputTokens: 12), to: session.id)
            try await timeline.append(NewTurn(role: .assistant, content: "Lisbon or Porto.", outputTokens: 40, cost: 0.002,
                                              toolCalls: [Turn.ToolCall(id: "c1", name: "weather", arguments: #"{"city":"Lisbon"}"#)]),
                                      to: session.id)

            let recent = try timeline.turns(of: session.id, reverse: true, limit: 20)
            let whole = try timeline.turns(of: session.id)
            let third = try? timeline.turn(session: session.id, sequence: 2)
            #expect(recent.items.map(\.sequence) == [1, 0] && whole.items.count == 2 && third == nil)

            let jsonPage = try timeline.turnsJSON(of: session.id, reverse: true, limit: 100)
            let body = String(decoding: jsonPage.json, as: UTF8.self)
            #expect(jsonPage.count == 2 && body.hasPrefix(#"[{"sessionID":""#) && body.contains(#""content":"Lisbon or Porto.""#))

            var lines: [String] = []
            let more = try timeline.forEachTurn(of: session.id, reverse: true, limit: 20) { turn in
                lines.append("\(turn.sequence) \(try turn.role): \(try turn.content)")
            }
            var titles: [(UUID, String, Int)] = []
            try timeline.forEachSession(filter: SessionFilter(project: "travel"), limit: 100) { session in
                titles.append((session.id, try session.title, try session.turnCount))
            }
            #expect(lines == ["1 assistant: Lisbon or Porto.", "0 user: \(whole.items[0].content)"] && more == nil)
            #expect(titles.count == 1 && titles[0].0 == session.id && titles[0].2 == 2)

            var page = try timeline.listSessions(filter: SessionFilter(project: "travel"), limit: 50)
            if let token = page.next?.token, let cursor = PageCursor(token: token) {
                page = try timeline.listSessions(filter: SessionFilter(project: "travel"), limit: 50, after: cursor)
            }
            let total = try timeline.countSessions(filter: SessionFilter(project: "travel"))
            #expect(page.items.map(\.id) == [session.id] && total == 1)

            let branch = try await timeline.fork(session: session.id, at: 1, branchName: "ask about Spain")
            try await timeline.append(NewTurn(role: .user, content: "What about Spain?"), to: branch.id)
            #expect(try timeline.turns(of: branch.id).items.map(\.content) == ["Where should I go in May?", "What about Spain?"])

            let retry = try await timeline.rewind(session: session.id, to: 1)
            #expect(retry.turnCount == 1)
            #expect(try timeline.session(session.id)?.turnCount == 2)

            let checkpoint = try await timeline.saveCheckpoint(NewCheckpoint(kind: .manual, description: "before booking",
                                                                             state: Data(#"{"step":3}"#.utf8)), for: session.id)
            let restored = try await timeline.restore(checkpoint: checkpoint.id)
            #expect(restored.checkpoint.state == checkpoint.state)
            #expect(try await timeline.pruneCheckpoints(olderThan: Date().addingTimeInterval(-30 * 86_400)) == 0)

            try await timeline.saveCrystal(NewCrystal(text: "Planning a May trip; Lisbon or Porto.", tokens: 11), for: session.id)
            let summary = try timeline.crystal(of: session.id)
            #expect(summary?.coveredTurns == 0..<2)

            let one = try timeline.session(session.id)
            let forks = try timeline.children(of: session.id)
            let everything = try timeline.turns(of: session.id)
            let saved = try timeline.checkpoints(of: session.id)
            let byID = try timeline.checkpoint(checkpoint.id)
            let starred = try await timeline.setStarred(true, checkpoint: checkpoint.id)
            let first = try timeline.crystal(of: session.id, version: 0)
            let versions = try timeline.crystals(of: session.id)
            let reparented = try await timeline.deleteSession(retry.id)
            let stats = try timeline.statistics()
            #expect(one?.id == session.id && Set(forks.map(\.id)) == [branch.id, retry.id, restored.session.id])
            #expect(everything.items.count == 2 && everything.next == nil)
            #expect(saved.items.map(\.id) == [checkpoint.id] && byID == checkpoint && starred.starred)
            #expect(first == summary && versions == [summary] && reparented.isEmpty)
            #expect(stats.sessions == 3 && stats.turns == 3 && stats.checkpoints == 2 && stats.crystals == 1)

            let (forked, firstTurn) = try await timeline.write { tx in
                let forked = try tx.fork(session: session.id, at: 2)
                let turn = try tx.append(NewTurn(role: .user, content: "Also: trains?"), to: forked.id)
                return (forked, turn)
            }
            #expect(firstTurn.sequence == 2 && firstTurn.sessionID == forked.id)

            let (current, latest) = try timeline.read { tx in
                (try tx.session(session.id), try tx.turns(of: session.id, reverse: true, limit: 5))
            }
            #expect(current?.turnCount == 2 && latest.items.map(\.sequence) == [1, 0])

            let json = try timeline.exportJSON(session.id)
            let copy = try await timeline.importJSON(json, options: ImportOptions(newIDs: true))
            #expect(try timeline.turns(of: copy.id).items.map(\.content) == whole.items.map(\.content))

            var refused: String?
            do {
                try await timeline.append(NewTurn(role: .user, content: "…", inputTokens: -1), to: session.id)
            } catch TimelineError.invalidValue(let field, _) {
                refused = field
            }
            #expect(refused == "inputTokens")

            let turn = NewTurn(role: .user, content: "fine"), id = session.id
            var caught = false
            do { try await timeline.append(turn, to: id) }
            catch LMDBError.Code.noSpace { caught = true }
            catch DocumentStoreError.Code.corrupted { caught = true }
            #expect(!caught)

            await timeline.close()
        }
    }

    @Test("the guide's retry-safe append and createSession(_:turns:)")
    func retrySafeAppend() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try TimelineStore(path: dir + "/timeline")
            let session = try await timeline.createSession(NewSession(title: "Trip planning"))
            let clientMessageID = UUID()
            let message = NewTurn(id: clientMessageID, role: .user, content: "Where should I go in May?")
            let stored = try await timeline.append(message, to: session.id)
            let found = try timeline.turn(id: clientMessageID, in: session.id)
            #expect(try await timeline.append(message, to: session.id) == stored && found == stored)
            let (started, first) = try await timeline.createSession(NewSession(title: "Support"),
                                                                    turns: [NewTurn(role: .user, content: "Hello")])
            #expect(started.turnCount == 1 && first.map(\.content) == ["Hello"])
            await timeline.close()
        }
    }

    @Test("the README's timeline example")
    func readmeExample() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try TimelineStore(path: dir + "/timeline")
            let session = try await timeline.createSession(NewSession(title: "Trip planning", project: "travel"))
            try await timeline.append(NewTurn(role: .user, content: "Where should I go in May?"), to: session.id)
            try await timeline.append(NewTurn(role: .assistant, content: "Lisbon or Porto.", outputTokens: 40), to: session.id)

            let history = try timeline.turns(of: session.id, limit: 100)
            let recent = try timeline.listSessions(filter: SessionFilter(project: "travel"), limit: 20)
            let branch = try await timeline.fork(session: session.id, at: 1)

            // The change log's live view of one conversation, ended here by deleting the session.
            let pushed = Task {
                var contents: [String] = []
                for try await turns in timeline.observeTurns(of: session.id) { /* push them to the chat window */ contents += turns.map(\.content) }
                return contents
            }
            try await Task.sleep(for: .milliseconds(50))
            try await timeline.append(NewTurn(role: .user, content: "And in June?"), to: session.id)
            try await timeline.deleteSession(session.id)
            #expect(try await pushed.value.allSatisfy { $0 == "And in June?" })
            await timeline.close()
            #expect(history.items.map(\.content) == ["Where should I go in May?", "Lisbon or Porto."] && history.next == nil)
            #expect(recent.items.map(\.id) == [session.id])
            #expect(branch.turnCount == 1 && branch.parentID == session.id)
        }
    }
}
