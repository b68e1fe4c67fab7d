import Foundation
import TestSupport
import Testing
import Timeline
import TimelineLMDB

@Suite("Retry-safe appends and turn ids")
struct RetryTests {
    @Test("an append retried with the same turn id writes nothing twice and returns the stored turn")
    func sequentialRetry() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "retry"))
            let message = NewTurn(id: UUID(), role: .user, content: "hello", inputTokens: 5, cost: 0.25)
            let first = try await timeline.append(message, to: session.id)
            let after = try #require(try timeline.session(session.id))
            var changed = message
            changed.content = "hello (retried, edited)"
            let again = try await timeline.append(changed, to: session.id)
            #expect(again == first)
            #expect(try timeline.session(session.id) == after)     // counts, totals and activity unchanged
            #expect(try timeline.turns(of: session.id).items.map(\.content) == ["hello"])
            // A batch half already there: the stored half comes back, the rest is appended after it.
            let next = NewTurn(role: .assistant, content: "hi")
            let batch = try await timeline.append([message, next], to: session.id)
            #expect(batch.map(\.sequence) == [0, 1] && batch[0] == first)
            #expect(try timeline.turn(id: next.id, in: session.id)?.sequence == 1)
            #expect(try timeline.turn(id: UUID(), in: session.id) == nil)
            #expect(try timeline.check().isEmpty)
        }
    }

    @Test("under group commit, concurrent resends of one turn store it once; a failed append resent whole writes each turn once")
    func retriesUnderGroupCommit() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "burst"))
            let other = try await timeline.createSession(NewSession(title: "others"))
            let message = NewTurn(id: UUID(), role: .user, content: "once", inputTokens: 1)
            // The first attempt and its resends race other writers into shared transactions.
            let results = try await withThrowingTaskGroup(of: Turn?.self) { group in
                for attempt in 0..<24 {
                    group.addTask {
                        if attempt % 3 == 2 {
                            try await timeline.append(NewTurn(role: .assistant, content: "noise \(attempt)"), to: other.id)
                            return nil
                        }
                        return try await timeline.append(message, to: session.id)
                    }
                }
                return try await group.reduce(into: [Turn]()) { if let turn = $1 { $0.append(turn) } }
            }
            #expect(results.count == 16 && Set(results).count == 1 && results[0].sequence == 0)
            let stored = try #require(try timeline.session(session.id))
            #expect(stored.turnCount == 1 && stored.inputTokens == 1)

            // A batch refused as a whole (one bad value): nothing written; resent fixed, each turn once.
            let good = NewTurn(id: UUID(), role: .user, content: "good")
            var bad = NewTurn(id: UUID(), role: .assistant, content: "bad", inputTokens: -1)
            await #expect(throws: TimelineError.self) { try await timeline.append([good, bad], to: session.id) }
            #expect(try timeline.turn(id: good.id, in: session.id) == nil)
            bad.inputTokens = 2
            let fixed = [good, bad]
            async let resent = timeline.append(fixed, to: session.id)
            async let duplicate = timeline.append(fixed, to: session.id)
            let (a, b) = try await (resent, duplicate)
            #expect(a == b && a.map(\.sequence) == [1, 2])
            #expect(try timeline.turns(of: session.id).items.map(\.content) == ["once", "good", "bad"])
            #expect(try timeline.check().isEmpty)
        }
    }

    #if os(Linux)
    @Test("the writer thread and the log's checkpoint thread carry names the operating system shows (top -H, perf, gdb)")
    func threadNames() async throws {
        try await withTemporaryDirectory { dir in
            var configuration = Environment.Configuration(durability: .writeAheadLog)
            configuration.checkpointCommits = 2
            let timeline = try TimelineStore(path: dir + "/store", configuration: configuration)
            let session = try await timeline.createSession(NewSession(title: "names"))
            for index in 0..<6 { try await timeline.append(NewTurn(role: .user, content: "turn \(index)"), to: session.id) }
            let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
            let names = Set(tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
                .map { $0.trimmingCharacters(in: .newlines) })
            #expect(names.contains("timeline-writer") && names.contains("timeline-ckpt"), "\(names.sorted())")
            await timeline.close()
        }
    }
    #endif

    @Test("a fork's inherited turn is found by its id; ids are per session history")
    func idsAcrossSessions() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let (root, turns) = try await timeline.createSession(NewSession(title: "root"), turns: sampleTurns(3))
            #expect(root.turnCount == 3 && turns.map(\.sequence) == [0, 1, 2])
            let fork = try await timeline.fork(session: root.id, at: 2)
            // Resending turn 1 to the fork: it inherits it, so nothing is written.
            let inherited = try await timeline.append(NewTurn(id: turns[1].id, role: .user, content: "x"), to: fork.id)
            let forkAfter = try timeline.session(fork.id)
            #expect(inherited == turns[1] && forkAfter?.turnCount == 2)
            #expect(try timeline.turn(id: turns[1].id, in: fork.id) == turns[1])
            // Turn 2 is the root's own, past the fork's branch point: not in the fork's history, so a
            // turn with its id is a new turn of the fork; another session may reuse an id too.
            let forkOwn = try await timeline.append(NewTurn(id: turns[2].id, role: .user, content: "fork's"), to: fork.id)
            #expect(forkOwn.sessionID == fork.id && forkOwn.sequence == 2)
            #expect(try timeline.turn(id: turns[2].id, in: fork.id)?.content == "fork's")
            #expect(try timeline.turn(id: turns[2].id, in: root.id) == turns[2])
            let stranger = try await timeline.createSession(NewSession(title: "stranger"))
            #expect(try await timeline.append(NewTurn(id: turns[0].id, role: .user, content: "x"), to: stranger.id).sessionID == stranger.id)
            // createSession(_:turns:) is one transaction: a refused turn leaves no session behind.
            let refusedID = UUID()
            await #expect(throws: TimelineError.self) {
                try await timeline.createSession(NewSession(id: refusedID), turns: [NewTurn(role: .user, content: "x", inputTokens: -1)])
            }
            #expect(try timeline.session(refusedID) == nil)

            // Deleting the root hands the fork its inherited turns; the ids follow, the index stays right.
            try await timeline.deleteSession(root.id)
            #expect(try timeline.turn(id: turns[0].id, in: fork.id)?.sessionID == fork.id)
            #expect(try timeline.turn(id: turns[2].id, in: fork.id)?.content == "fork's")
            var moved = turns[1]
            moved.sessionID = fork.id
            let resent = try await timeline.append(NewTurn(id: turns[1].id, role: .user, content: "x"), to: fork.id)
            #expect(resent == moved)
            #expect(try timeline.check().isEmpty)
        }
    }
}
