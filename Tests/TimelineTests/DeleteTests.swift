import TestSupport
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing
import Timeline

@Suite("Deleting sessions")
struct DeleteTests {
    @Test("delete removes turns, checkpoints, crystals and index entries")
    func deleteEverything() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let keep = try await timeline.createSession(NewSession(title: "keep", project: "p"))
            try await timeline.append(sampleTurns(3), to: keep.id)
            let gone = try await timeline.createSession(NewSession(title: "gone", project: "p"))
            try await timeline.append(sampleTurns(40), to: gone.id)
            let checkpoint = try await timeline.saveCheckpoint(NewCheckpoint(), for: gone.id)
            try await timeline.saveCrystal(NewCrystal(text: "s"), for: gone.id)

            #expect(try await timeline.deleteSession(gone.id).isEmpty)
            #expect(try await timeline.session(gone.id) == nil)
            #expect(try await timeline.checkpoint(checkpoint.id) == nil)
            let statistics = try timeline.statistics()
            #expect(statistics.sessions == 1 && statistics.turns == 3 && statistics.checkpoints == 0 && statistics.crystals == 0)
            #expect(try await timeline.listSessions(filter: SessionFilter(project: "p")).items.map(\.id) == [keep.id])
            #expect(try await history(timeline, keep.id).count == 3)
            let again = await #expect(throws: TimelineError.self) { try await timeline.deleteSession(gone.id) }
            #expect(again == .sessionNotFound(gone.id))
            let append = await #expect(throws: TimelineError.self) { try await timeline.append(sampleTurns(1), to: gone.id) }
            #expect(append == .sessionNotFound(gone.id))
        }
    }

    @Test("deleting a parent keeps every child's full history, at any depth")
    func deleteKeepsForks() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let root = try await timeline.createSession(NewSession(title: "root"))
            try await timeline.append(sampleTurns(10, tag: "r"), to: root.id)
            let middle = try await timeline.fork(session: root.id, at: 7)
            try await timeline.append(sampleTurns(5, tag: "m"), to: middle.id)
            let early = try await timeline.fork(session: middle.id, at: 4)     // inherits only root's part
            try await timeline.append(sampleTurns(2, tag: "e"), to: early.id)
            let late = try await timeline.fork(session: middle.id, at: 10)     // inherits root 0..<7 + middle 7..<10
            try await timeline.append(sampleTurns(2, tag: "l"), to: late.id)
            let deep = try await timeline.fork(session: late.id, at: 11)
            let everyone = [root.id, middle.id, early.id, late.id, deep.id]
            var before: [UUID: [String]] = [:]
            for id in everyone { before[id] = try await history(timeline, id) }

            // Delete the middle of the chain: early and late move to root.
            #expect(Set(try await timeline.deleteSession(middle.id)) == [early.id, late.id])
            for id in everyone where id != middle.id {
                #expect(try await history(timeline, id) == before[id], "history of \(id)")
            }
            #expect(try await timeline.session(late.id)?.parentID == root.id)
            #expect(try await timeline.session(late.id)?.branchPoint == 7)
            #expect(try await timeline.session(early.id)?.branchPoint == 4)
            #expect(Set(try await timeline.children(of: root.id).map(\.id)) == [early.id, late.id])
            // The turns handed to late are its own now, tokens and cost too (sampleTurns: 10 in, 20 out, 0.5 each).
            let lateTotals: [Int]? = try timeline.session(late.id).map { [$0.inputTokens, $0.outputTokens, Int($0.cost.nanos)] }
            let earlyTotals: [Int]? = try timeline.session(early.id).map { [$0.inputTokens, $0.outputTokens] }
            #expect(lateTotals == [50, 100, 2_500_000_000] && earlyTotals == [20, 40])

            // Delete the root: its children become roots holding what they inherited.
            try await timeline.deleteSession(root.id)
            for id in [early.id, late.id, deep.id] {
                #expect(try await history(timeline, id) == before[id], "history of \(id)")
            }
            #expect(try await timeline.session(late.id)?.parentID == nil)
            #expect(try await timeline.session(late.id)?.branchPoint == nil)
            #expect(try await timeline.session(deep.id)?.parentID == late.id)
            #expect(try timeline.session(late.id)?.inputTokens == 120 && timeline.session(early.id)?.inputTokens == 60)
            #expect(try timeline.session(deep.id)?.inputTokens == 0)
            #expect(try timeline.check().isEmpty)
            // Appending to an adopted fork continues its sequence.
            try await timeline.append(NewTurn(role: .user, content: "after"), to: deep.id)
            #expect(try await history(timeline, deep.id) == before[deep.id]! + ["after"])
        }
    }

    @Test("a delete whose forks' totals would overflow once they own their inherited turns is refused, naming the fork, and writes nothing")
    func deleteOverflowingTotals() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let root = try await timeline.createSession(NewSession(title: "root"))
            try await timeline.append(NewTurn(role: .user, content: "huge", inputTokens: .max), to: root.id)
            let fork = try await timeline.fork(session: root.id, at: 1)
            try await timeline.append(NewTurn(role: .user, content: "one more", inputTokens: 1), to: fork.id)
            let position = try timeline.currentPosition()
            await #expect {
                try await timeline.deleteSession(root.id)
            } throws: { error in
                guard case TimelineError.invalidValue(let field, let reason) = error else { return false }
                return field == "inputTokens" && reason.contains("fork \(fork.id)")
            }
            #expect(try timeline.session(root.id) != nil && timeline.session(fork.id)?.parentID == root.id)
            #expect(try timeline.currentPosition() == position && timeline.check().isEmpty)
        }
    }

    @Test("random fork trees: deleting sessions in random order never changes a survivor's history")
    func randomForkTrees() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            var random = SeededGenerator(seed: 0x7E1E)
            var alive: [UUID] = []
            var expected: [UUID: [String]] = [:]
            for step in 0..<60 {
                if alive.isEmpty || Int.random(in: 0..<4, using: &random) == 0 {
                    let session = try await timeline.createSession()
                    alive.append(session.id)
                    expected[session.id] = []
                } else {
                    let parent = alive.randomElement(using: &random)!
                    let at = Int.random(in: 0...expected[parent]!.count, using: &random)
                    let fork = try await timeline.fork(session: parent, at: at)
                    alive.append(fork.id)
                    expected[fork.id] = Array(expected[parent]![0..<Int(at)])
                }
                let target = alive.randomElement(using: &random)!
                let turns = sampleTurns(Int.random(in: 0...4, using: &random), tag: "s\(step)")
                try await timeline.append(turns, to: target)
                expected[target]! += turns.map(\.content)
            }
            alive.shuffle(using: &random)
            while let victim = alive.popLast() {
                try await timeline.deleteSession(victim)
                for id in alive {
                    #expect(try await history(timeline, id) == expected[id], "after deleting \(victim)")
                }
            }
            let statistics = try timeline.statistics()
            #expect(statistics.sessions == 0 && statistics.turns == 0)
        }
    }
}
