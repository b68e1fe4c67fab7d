import TestSupport
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing
@testable import Timeline
import Synchronization

@Suite("Turns: append, read, fork, rewind")
struct TurnTests {
    @Test("append assigns gapless sequences and moves activity, totals and the listing order")
    func appendBasics() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let first = try await timeline.createSession(NewSession(title: "one"))
            let second = try await timeline.createSession(NewSession(title: "two"))
            #expect(try await timeline.listSessions().items.map(\.id) == [second.id, first.id])

            let call = Turn.ToolCall(id: "c1", name: "search", arguments: #"{"q":"lisbon"}"#, result: "…", isError: false)
            let written = try await timeline.append([
                NewTurn(role: .user, content: "Where to?", inputTokens: 5),
                NewTurn(role: .assistant, content: "", outputTokens: 7, cost: 0.25, toolCalls: [call],
                        blocks: [Turn.Block(kind: "thinking", text: "hmm")], metadata: ["model": "m"]),
                NewTurn(role: .other("critic"), content: "ok"),
            ], to: first.id)
            #expect(written.map(\.sequence) == [0, 1, 2])
            #expect(written.allSatisfy { $0.sessionID == first.id })
            let stored = try timeline.turns(of: first.id).items
            #expect(stored == written)
            #expect(try await timeline.turn(session: first.id, sequence: 1) == written[1])
            #expect(stored[2].role == .other("critic"))

            let session = try #require(try await timeline.session(first.id))
            #expect(session.turnCount == 3 && session.inputTokens == 5 && session.outputTokens == 7 && session.cost == 0.25)
            #expect(session.lastActivity > first.lastActivity)
            #expect(try await timeline.listSessions().items.map(\.id) == [first.id, second.id])

            let more = try await timeline.append(NewTurn(role: .user, content: "next"), to: first.id)
            #expect(more.sequence == 3)
            #expect(try await timeline.append([], to: first.id).isEmpty)
        }
    }

    @Test("bad input: missing session, sequence past the end, negative limit; a 16 MiB turn works")
    func badInput() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let missing = UUID()
            let noSession = await #expect(throws: TimelineError.self) { try await timeline.append(sampleTurns(1), to: missing) }
            #expect(noSession == .sessionNotFound(missing))
            let session = try await timeline.createSession()
            try await timeline.append(sampleTurns(3), to: session.id)
            let past = await #expect(throws: TimelineError.self) { try await timeline.turn(session: session.id, sequence: 3) }
            #expect(past == .sequenceOutOfRange(sequence: 3, count: 3))
            let forkPast = await #expect(throws: TimelineError.self) { try await timeline.fork(session: session.id, at: 4) }
            #expect(forkPast == .sequenceOutOfRange(sequence: 4, count: 3))
            await #expect(throws: TimelineError.self) { try await timeline.turns(of: session.id, limit: -1) }
            await #expect(throws: TimelineError.self) { try await timeline.turns(of: session.id, after: PageCursor(key: [1], listing: 0)) }
            #expect(try await timeline.countSessions() == 1)

            let big = String(repeating: "x", count: 16 << 20)
            let turn = try await timeline.append(NewTurn(role: .tool, content: big), to: session.id)
            #expect(try await timeline.turn(session: session.id, sequence: turn.sequence).content == big)
        }
    }

    @Test("ranges and pagination, forward and backward")
    func rangesAndPages() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession()
            try await timeline.append(sampleTurns(250), to: session.id)
            #expect(try await timeline.turns(of: session.id, range: 10..<20).items.map(\.sequence) == Array(10..<20))
            #expect(try await timeline.turns(of: session.id, range: 240..<1_000).items.map(\.sequence) == Array(240..<250))
            #expect(try await timeline.turns(of: session.id, range: 300..<400).items.isEmpty)
            #expect(try await timeline.turns(of: session.id, reverse: true, limit: 3).items.map(\.sequence) == [249, 248, 247])
            for reverse in [false, true] {
                var seen: [Int] = []
                var page = try timeline.turns(of: session.id, range: 5..<205, reverse: reverse, limit: 30)
                seen += page.items.map(\.sequence)
                while let next = page.next {
                    page = try timeline.turns(of: session.id, range: 5..<205, reverse: reverse, limit: 30, after: next)
                    seen += page.items.map(\.sequence)
                }
                #expect(seen == (reverse ? Array((5..<205).reversed()) : Array(5..<205)))
            }
            // A listing's fingerprint, fed byte by byte, is the hash of its key as it was built
            // before (so cursors handed out by earlier builds still match), and tells listings apart.
            for (range, reverse) in [(0..<Int.max, false), (5..<205, true), (-3..<0, false), (Int.min..<Int.max, true)] {
                var old = PageCursor.Fingerprint()
                old.add(KeyBytes("turns", session.id, Int64(range.lowerBound), Int64(range.upperBound), reverse).bytes)
                #expect(TimelineStore.turnsListing(of: session.id, range: range, reverse: reverse) == old.value)
                #expect(TimelineStore.turnsListing(of: session.id, range: range, reverse: !reverse) != old.value)
            }
        }
    }

    @Test("16 tasks appending to one session get gapless, unique sequences; to 16 sessions, each its own")
    func concurrentAppends() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir, durability: .durable)
            let shared = try await timeline.createSession()
            let before = try timeline.store.environment.info().lastTransactionID
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<16 {
                    group.addTask {
                        for index in 0..<25 { try await timeline.append(NewTurn(role: .user, content: "\(task)/\(index)"), to: shared.id) }
                    }
                }
                try await group.waitForAll()
            }
            let transactions = try timeline.store.environment.info().lastTransactionID - before
            let turns = try timeline.turns(of: shared.id).items
            #expect(turns.map(\.sequence) == Array(0..<400))
            #expect(Set(turns.map(\.content)).count == 400)
            // Each task's turns are in its own order.
            for task in 0..<16 {
                let mine = turns.filter { $0.content.hasPrefix("\(task)/") }.map(\.content)
                #expect(mine == (0..<25).map { "\(task)/\($0)" })
            }
            // Group commit: 400 durable appends took fewer transactions than appends.
            #expect(transactions < 400, "400 appends took \(transactions) transactions")

            let sessions = try await withThrowingTaskGroup(of: UUID.self) { group in
                for task in 0..<16 {
                    group.addTask {
                        let session = try await timeline.createSession(NewSession(title: "\(task)"))
                        for index in 0..<20 { try await timeline.append(NewTurn(role: .user, content: "\(index)"), to: session.id) }
                        return session.id
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for id in sessions {
                #expect(try await history(timeline, id) == (0..<20).map(String.init))
            }
        }
    }

    @Test("an error in one caller's work fails only that caller")
    func failureIsolation() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession()
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<64 {
                    group.addTask {
                        // Every fourth caller appends to a session that does not exist.
                        let target = index % 4 == 0 ? UUID() : session.id
                        return (try? await timeline.append(NewTurn(role: .user, content: "\(index)"), to: target)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 48)
            let turns = try timeline.turns(of: session.id).items
            #expect(turns.map(\.sequence) == Array(0..<48))
            #expect(Set(turns.compactMap { Int($0.content) }).allSatisfy { $0 % 4 != 0 })
        }
    }

    @Test("cancelling the calling task does not withdraw a write: it commits and the call returns its result")
    func cancelledCallers() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession()
            var tasks: [Task<Int?, Never>] = []
            for index in 0..<32 {
                let task = Task { try? await timeline.append(NewTurn(role: .user, content: "\(index)"), to: session.id).sequence }
                if index % 2 == 0 { task.cancel() }
                tasks.append(task)
            }
            var returned: [Int] = []
            for task in tasks { if let sequence = await task.value { returned.append(sequence) } }
            #expect(returned.sorted() == Array(0..<32))
            // A task cancelled before it calls writes too.
            let early = Task { () -> Int? in
                withUnsafeCurrentTask { $0?.cancel() }
                return try? await timeline.append(NewTurn(role: .user, content: "late"), to: session.id).sequence
            }
            #expect(await early.value == 32)
            #expect(try timeline.turns(of: session.id).items.count == 33)
        }
    }

    @Test("work that writes and then throws inside a shared batch leaves nothing behind; the batch's other work commits", arguments: [Environment.Durability.noSync, .writeAheadLog])
    func failureAfterWritesInABatch(durability: Environment.Durability) async throws {
        struct Refused: Error {}
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir, durability: durability)
            let session = try await timeline.createSession()
            let before = try timeline.store.environment.info().lastTransactionID
            // A first job holds the writer thread until all 96 callers have queued, so that they
            // make one batch whatever the scheduling: its first run, the jobs sharing the
            // transaction, must be undone whole and run again.
            let hold = WriterHold()
            let holder = Task { try await timeline.write { _ in hold.block() } }
            try await hold.waitUntilEntered()
            // Every third caller appends, creates a session, and then throws.
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for index in 0..<96 {
                    group.addTask {
                        do {
                            try await timeline.write { tx in
                                _ = try tx.append(NewTurn(role: .user, content: "\(index)"), to: session.id)
                                _ = try tx.createSession(NewSession(title: "by \(index)"))
                                if index % 3 == 0 { throw Refused() }
                            }
                            return (index, true)
                        } catch {
                            return (index, error is Refused ? false : true)
                        }
                    }
                }
                let gathered = await hold.release(whenQueued: 96, in: timeline)
                #expect(gathered, "the 96 callers did not all queue within the time allowed")
                return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            try await holder.value
            #expect(outcomes.count == 96 && outcomes.allSatisfy { $0.value == ($0.key % 3 != 0) })
            let turns = try timeline.turns(of: session.id).items
            #expect(turns.map(\.sequence) == Array(0..<64))
            #expect(Set(turns.compactMap { Int($0.content) }) == Set((0..<96).filter { $0 % 3 != 0 }))
            let titles = try timeline.listSessions(limit: 200).items.compactMap(\.title).filter { $0.hasPrefix("by ") }
            #expect(Set(titles) == Set((0..<96).filter { $0 % 3 != 0 }.map { "by \($0)" }))
            #expect(try #require(try timeline.session(session.id)).turnCount == 64)
            // One commit, the batch's second run: the first run was undone, and the holder wrote
            // nothing (LMDB does not count a transaction that changed no page).
            let commits = try timeline.store.environment.info().lastTransactionID - before
            #expect(commits == 1, "\(commits) commits")
            #expect(try timeline.check().isEmpty)
            await timeline.close()
            let reopened = try openTimeline(dir, durability: durability)
            #expect(try reopened.turns(of: session.id).items.count == 64)
            #expect(try reopened.check().isEmpty)
        }
    }

    @Test("a fork of a fork of a fork reads its whole history; parents stay as they were")
    func forkChains() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let root = try await timeline.createSession(NewSession(title: "root", project: "p"))
            try await timeline.append(sampleTurns(10, tag: "root"), to: root.id)
            let a = try await timeline.fork(session: root.id, at: 6, branchName: "a")
            #expect(a.parentID == root.id && a.branchPoint == 6 && a.turnCount == 6 && a.project == "p")
            try await timeline.append(sampleTurns(4, tag: "a"), to: a.id)
            let b = try await timeline.fork(session: a.id, at: 8)
            try await timeline.append(sampleTurns(3, tag: "b"), to: b.id)
            let c = try await timeline.fork(session: b.id, at: 3)          // inside root's part
            try await timeline.append(sampleTurns(2, tag: "c"), to: c.id)
            let d = try await timeline.fork(session: c.id)                 // the whole of c
            try await timeline.append(sampleTurns(1, tag: "d"), to: d.id)

            let rootTurns = (0..<10).map { "root \($0)" }
            let aTurns = Array(rootTurns[0..<6]) + (0..<4).map { "a \($0)" }
            let bTurns = Array(aTurns[0..<8]) + (0..<3).map { "b \($0)" }
            let cTurns = Array(bTurns[0..<3]) + (0..<2).map { "c \($0)" }
            let dTurns = cTurns + ["d 0"]
            #expect(try await history(timeline, root.id) == rootTurns)
            #expect(try await history(timeline, a.id) == aTurns)
            #expect(try await history(timeline, b.id) == bTurns)
            #expect(try await history(timeline, c.id) == cTurns)
            #expect(try await history(timeline, d.id) == dTurns)
            // Sequences are the fork's own view; inherited turns name the session that stores them.
            let bRead = try timeline.turns(of: b.id).items
            #expect(bRead.map(\.sequence) == Array(0..<11))
            #expect(bRead.map(\.sessionID) == Array(repeating: root.id, count: 6) + [a.id, a.id] + Array(repeating: b.id, count: 3))
            #expect(try await timeline.turn(session: d.id, sequence: 2).content == "root 2")
            #expect(try await timeline.turns(of: b.id, range: 4..<9, reverse: true).items.map(\.content) == Array(bTurns[4..<9].reversed()))
            var paged: [String] = []
            var page = try timeline.turns(of: b.id, limit: 4)
            paged += page.items.map(\.content)
            while let next = page.next {
                page = try timeline.turns(of: b.id, limit: 4, after: next)
                paged += page.items.map(\.content)
            }
            #expect(paged == bTurns)
            // Forking copies nothing.
            #expect(try timeline.statistics().turns == 10 + 4 + 3 + 2 + 1)
            #expect(try await timeline.children(of: root.id).map(\.id) == [a.id])
        }
    }

    @Test("a page of a deep fork's latest turns reads only the ancestors that store them")
    func deepForkLatestPage() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            // A chain of 300 forks, each adding one turn: fork k's history is turns 0…k.
            let ids: [UUID] = try await timeline.write { tx in
                var current = try tx.createSession(NewSession(title: "root"))
                var ids = [current.id]
                try tx.append(NewTurn(role: .user, content: "0"), to: current.id)
                for k in 1..<300 {
                    current = try tx.fork(session: current.id, at: k)
                    try tx.append(NewTurn(role: .user, content: "\(k)"), to: current.id)
                    ids.append(current.id)
                }
                return ids
            }
            let deepest = try #require(ids.last)
            #expect(try timeline.turns(of: deepest, reverse: true, limit: 5).items.map(\.content) == ["299", "298", "297", "296", "295"])
            #expect(try timeline.turn(session: deepest, sequence: 290).content == "290")
            // With an ancestor far below the page gone (damage), the page still reads; the whole history does not.
            try timeline.store.write { txn in _ = try timeline.sessions.database.delete(KeyBytes(ids[10]).bytes, in: txn) }
            #expect(try timeline.turns(of: deepest, reverse: true, limit: 5).items.count == 5)
            #expect(throws: DocumentStoreError.self) { try timeline.turns(of: deepest) }
        }
    }

    @Test("random fork trees: every range, direction and page size reads what a model says")
    func forkReadsAgainstModel() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            var random = SeededGenerator(seed: 0xF0F0)
            var histories: [UUID: [String]] = [:]
            var ids: [UUID] = []
            for step in 0..<40 {
                let id: UUID
                if ids.isEmpty || Int.random(in: 0..<3, using: &random) == 0 {
                    id = try await timeline.createSession().id
                    histories[id] = []
                } else {
                    let parent = ids.randomElement(using: &random)!
                    let at = Int.random(in: 0...histories[parent]!.count, using: &random)
                    id = try await timeline.fork(session: parent, at: at).id
                    histories[id] = Array(histories[parent]![..<Int(at)])
                }
                ids.append(id)
                let turns = sampleTurns(Int.random(in: 0...12, using: &random), tag: "s\(step)")
                try await timeline.append(turns, to: id)
                histories[id]! += turns.map(\.content)
            }
            for _ in 0..<300 {
                let id = ids.randomElement(using: &random)!
                let history = histories[id]!
                let lower = Int.random(in: 0...history.count + 2, using: &random)
                let upper = Int.random(in: lower...history.count + 3, using: &random)
                let reverse = Bool.random(using: &random)
                let limit = Int.random(in: 1...7, using: &random)
                let slice = history.indices.filter { $0 >= lower && $0 < upper }.map { history[$0] }
                var seen: [String] = []
                var page = try timeline.turns(of: id, range: lower..<upper, reverse: reverse, limit: limit)
                seen += page.items.map(\.content)
                while let next = page.next {
                    page = try timeline.turns(of: id, range: lower..<upper, reverse: reverse, limit: limit, after: next)
                    #expect(page.items.count <= limit)
                    seen += page.items.map(\.content)
                }
                #expect(seen == (reverse ? slice.reversed() : slice), "\(id) \(lower)..<\(upper) reverse \(reverse) limit \(limit)")
            }
        }
    }

    @Test("rewind returns a new branch and leaves the original intact")
    func rewind() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession()
            try await timeline.append(sampleTurns(5), to: session.id)
            let branch = try await timeline.rewind(session: session.id, to: 2)
            try await timeline.append(NewTurn(role: .user, content: "instead"), to: branch.id)
            #expect(try await history(timeline, branch.id) == ["t 0", "t 1", "instead"])
            #expect(try await history(timeline, session.id) == (0..<5).map { "t \($0)" })
            #expect(branch.branchName == "rewind to 2")
        }
    }

    @Test("the same path opened, used and closed (or dropped) 20 times in one process")
    func reopenManyTimes() async throws {
        try await withTemporaryDirectory { dir in
            for round in 0..<20 {
                let timeline = try openTimeline(dir)
                #expect(try await timeline.countSessions() == round)
                let session = try await timeline.createSession()
                _ = try timeline.listSessions(limit: 1)
                try await timeline.append(sampleTurns(1), to: session.id)
                if round % 2 == 0 { await timeline.close() }
                if round % 2 == 0 {
                    await #expect(throws: (any Error).self) { try await timeline.session(session.id) }
                }
            }
        }
    }

    @Test("a store only read, or only opened, closes at once (no writer thread to join) and refuses writes after; the first write starts the writer")
    func closeWithoutWrites() async throws {
        try await withTemporaryDirectory { dir in
            let first = try openTimeline(dir)
            let session = try await first.createSession(NewSession(title: "kept"))
            await first.close()
            for round in 0..<50 {
                let timeline = try openTimeline(dir)
                #expect(try timeline.listSessions().items.map(\.id) == [session.id])
                if round % 2 == 0 { await timeline.close() } else { continue }   // odd rounds: dropped unclosed
                await #expect(throws: TimelineError.self) { try await timeline.append(NewTurn(role: .user, content: "late"), to: session.id) }
            }
            let timeline = try openTimeline(dir)
            // Writes after a read-only start go through the writer as ever, concurrently too.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 { group.addTask { _ = try await timeline.append(NewTurn(role: .user, content: "\(index)"), to: session.id) } }
                try await group.waitForAll()
            }
            #expect(try timeline.session(session.id)?.turnCount == 8)
            await timeline.close()
        }
    }

    @Test("everything is there after close and reopen")
    func reopen() async throws {
        try await withTemporaryDirectory { dir in
            var ids: [UUID] = []
            do {
                let timeline = try openTimeline(dir, durability: .durable)
                let session = try await timeline.createSession(NewSession(title: "kept", project: "p"))
                try await timeline.append(sampleTurns(30), to: session.id)
                let fork = try await timeline.fork(session: session.id, at: 10)
                try await timeline.append(sampleTurns(2, tag: "f"), to: fork.id)
                try await timeline.saveCheckpoint(NewCheckpoint(state: Data([1, 2, 3])), for: session.id)
                try await timeline.saveCrystal(NewCrystal(text: "summary"), for: session.id)
                ids = [session.id, fork.id]
                await timeline.close()
                await #expect(throws: TimelineError.self) { try await timeline.createSession() }
            }
            let timeline = try openTimeline(dir)
            #expect(try await history(timeline, ids[0]).count == 30)
            #expect(try await history(timeline, ids[1]) == (0..<10).map { "t \($0)" } + ["f 0", "f 1"])
            #expect(try await timeline.checkpoints(of: ids[0]).items.first?.state == Data([1, 2, 3]))
            #expect(try await timeline.crystal(of: ids[0])?.text == "summary")
            #expect(try await timeline.listSessions(filter: SessionFilter(project: "p")).items.count == 2)
            let statistics = try timeline.statistics()
            #expect(statistics.sessions == 2 && statistics.turns == 32 && statistics.checkpoints == 1 && statistics.crystals == 1)
            #expect(statistics.usedBytes > 0 && statistics.usedBytes <= statistics.mapSize && statistics.fileSize > 0)
        }
    }
}

/// Holds the writer thread inside one job until the test lets it go. The hold is released for
/// good: were the job to run again, it would not wait a second time. Every wait is bounded, so a
/// mistake fails the test rather than hanging it.
private final class WriterHold: Sendable {
    private let entered = DispatchSemaphore(value: 0)
    private let gate = DispatchSemaphore(value: 0)
    private let released = Mutex(false)

    /// Called by the held job, on the writer thread.
    func block() {
        if released.withLock({ $0 }) { return }
        entered.signal()
        _ = gate.wait(timeout: .now() + 60)
    }

    /// Returns once the held job runs on the writer thread.
    func waitUntilEntered() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while entered.wait(timeout: .now()) == .timedOut {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Lets the held job go once `count` jobs wait behind it (or after 60 s); says whether they did.
    func release(whenQueued count: Int, in timeline: TimelineStore) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        var gathered = false
        while ContinuousClock.now < deadline {
            if timeline.committer.queuedJobs >= count { gathered = true; break }
            try? await Task.sleep(for: .milliseconds(1))
        }
        released.withLock { $0 = true }
        gate.signal()
        return gathered
    }
}
