import Foundation
import TestSupport
import Testing
import Timeline
import TimelineCBOR
import TimelineDocumentStore

@Suite("Following the change log live")
struct FollowTests {
    /// Collects `count` changes from `sequence`, or fails after `seconds` instead of hanging.
    static func collect(_ count: Int, from sequence: AsyncThrowingStream<Change, any Error>, within seconds: Double = 60) async throws -> [Change] {
        try await withThrowingTaskGroup(of: [Change]?.self) { group in
            group.addTask {
                var seen: [Change] = []
                for try await change in sequence {
                    seen.append(change)
                    if seen.count == count { break }
                }
                return seen
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return try #require(first, "fewer than \(count) changes arrived within \(seconds) s")
        }
    }

    @Test("a follower in this process sees every change once, in order, while 16 tasks append")
    func inProcess() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let sessions = try await (0..<4).asyncMap { _ in try await timeline.createSession(NewSession()) }
            let start = try timeline.currentPosition()
            let follower = timeline.followChanges(after: start)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<16 {
                    group.addTask {
                        for round in 0..<10 {
                            try await timeline.append(NewTurn(role: .user, content: "\(task)-\(round)"), to: sessions[task % 4].id)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seen = try await Self.collect(160, from: follower)
            #expect(seen.map(\.position) == Array(start + 1...start + 160))
            #expect(seen.allSatisfy { $0.kind == .turnsAppended })
            // Each session's appends arrive in sequence order, each turn once.
            for session in sessions {
                let ranges = seen.filter { $0.session == session.id }.compactMap(\.sequences)
                #expect(ranges.map(\.lowerBound) == Array(0..<40) && ranges.allSatisfy { $0.count == 1 })
            }
        }
    }

    @Test("a poll interval of zero or below is taken as 1 ms, one past a day as a day: the follower still sees every change")
    func shortPollIntervals() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession())
            // Also one so long that the clock's deadline overflowed and trapped: taken as a day.
            for interval in [Duration.zero, .seconds(-1), .seconds(Int64.max)] {
                let start = try timeline.currentPosition()
                let follower = timeline.followChanges(after: start, pollInterval: interval)
                let consumer = Task {
                    var positions: [Int] = []
                    for try await change in follower {
                        positions.append(change.position)
                        if positions.count == 3 { break }
                    }
                    return positions
                }
                for index in 0..<3 { try await timeline.append(NewTurn(role: .user, content: "\(index)"), to: session.id) }
                #expect(try await consumer.value == [start + 1, start + 2, start + 3])
            }
        }
    }

    @Test("ending the loop or cancelling its task ends the follower promptly")
    func cancellation() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession())
            let follower = timeline.followChanges(after: 0, pollInterval: .seconds(3_600))
            let consumer = Task {
                var count = 0
                for try await _ in follower { count += 1 }
                return count
            }
            try await timeline.append(NewTurn(role: .user, content: "one"), to: session.id)
            // Give the follower a moment to be waiting, then cancel: with an hour-long poll
            // interval, only the cancellation can end the wait.
            try await Task.sleep(for: .milliseconds(100))
            consumer.cancel()
            let counted = try await consumer.value
            #expect(counted <= 2)
        }
    }

    @Test("closing the store ends a waiting follower at once with .closed, even with an hour's poll interval")
    func closeEndsFollowers() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            _ = try await timeline.createSession(NewSession())
            let follower = timeline.followChanges(after: try timeline.currentPosition(), pollInterval: .seconds(3_600))
            let consumer = Task { () -> (any Error)? in
                do { for try await _ in follower {}; return nil } catch { return error }
            }
            try await Task.sleep(for: .milliseconds(100))   // waiting by now
            await timeline.close()
            // Before, it waited for its poll, an hour on: the watchdog cancelled it after 30 s.
            let watchdog = Task { try await Task.sleep(for: .seconds(30)); consumer.cancel() }
            let error = await consumer.value
            watchdog.cancel()
            #expect((error as? LMDBError)?.code == .closed, "\(String(describing: error))")
        }
    }

    @Test("a follower reads the log when asked: a stalled consumer holds nothing back in memory, and several tasks iterating one sequence each get distinct changes")
    func pulled() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession())
            // The consumer takes one change, then stalls while 3,000 more commit and the log is
            // trimmed to its newest 10: its next call finds its backlog gone from the store. A
            // follower that had read ahead into memory (as before) would go on serving them.
            let follower = timeline.followChanges(after: 0)
            var iterator = follower.makeAsyncIterator()
            #expect(try await iterator.next()?.kind == .sessionCreated)
            try await timeline.write { tx in for _ in 0..<3_000 { _ = try tx.append(NewTurn(role: .user, content: "x"), to: session.id) } }
            _ = try await timeline.trimChanges(keepingAtMost: 10)
            do {
                _ = try await iterator.next()
                Issue.record("the stalled follower still had its backlog")
            } catch TimelineError.changesTrimmed {}

            // Two tasks iterating one sequence share it: every change once, across both.
            let start = try timeline.currentPosition()
            let shared = timeline.followChanges(after: start)
            let readers = (0..<2).map { _ in
                Task { () -> [Int] in
                    var seen: [Int] = []
                    for try await change in shared {
                        seen.append(change.position)
                        if change.position >= start + 200 { break }
                    }
                    return seen
                }
            }
            for index in 0..<200 { try await timeline.append(NewTurn(role: .user, content: "\(index)"), to: session.id) }
            // The reader that takes the 200th change stops; one more append frees the other.
            try await timeline.append(NewTurn(role: .user, content: "end"), to: session.id)
            var positions: [Int] = []
            for reader in readers { positions += try await reader.value }
            #expect(Set(positions).count == positions.count, "a change went to both readers")
            #expect(Set(positions).isSuperset(of: Set((start + 1)...(start + 200))))
        }
    }

    @Test("a follower sees another process's changes — on Linux woken by the data-file watch, with no poll at all")
    func otherProcess() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/timeline"
            let source = try TimelineStore(path: dir + "/source", configuration: .init(durability: .noSync))
            let original = try await source.createSession(NewSession(title: "elsewhere"), turns: sampleTurns(3)).session
            let json = try source.exportJSON(original.id)
            await source.close()
            try json.write(to: URL(fileURLWithPath: dir + "/session.json"))

            let timeline = try TimelineStore(path: path, configuration: .init(durability: .noSync))
            _ = try await timeline.createSession(NewSession(title: "here"))
            // An hour between polls: only the watch on the data file can wake the follower in time.
            #if os(Linux)
            let pollInterval = Duration.seconds(3_600)
            #else
            let pollInterval = Duration.milliseconds(10)
            #endif
            let follower = timeline.followChanges(after: try timeline.currentPosition(), pollInterval: pollInterval)
            #expect(try runHelper("kvtool", ["import", path, dir + "/session.json"]) == 0)
            let seen = try await Self.collect(1, from: follower)
            #expect(seen.map(\.kind) == [.sessionImported] && seen[0].session == original.id && seen[0].sequences == 0..<3)
            await timeline.close()
        }
    }

    @Test("Docs/changes.md: the follow loop compiles and sees a new turn")
    func documentedLoop() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession())
            let position = try timeline.currentPosition()   // taken first, so the append below is after it
            let watcher = Task {
                for try await change in timeline.followChanges(after: position) {
                    if change.kind == .turnsAppended { return change.session }
                }
                return UUID()
            }
            try await timeline.append(NewTurn(role: .user, content: "hi"), to: session.id)
            #expect(try await watcher.value == session.id)
        }
    }

    @Test("observeTurns yields one session's new turns, a batch per append, and ends when it is deleted")
    func observeTurns() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession())
            let other = try await timeline.createSession(NewSession())
            try await timeline.append(NewTurn(role: .user, content: "before"), to: session.id)
            var observed = timeline.observeTurns(of: session.id).makeAsyncIterator()
            try await timeline.append(NewTurn(role: .user, content: "elsewhere"), to: other.id)
            try await timeline.append([NewTurn(role: .user, content: "a"), NewTurn(role: .assistant, content: "b")], to: session.id)
            #expect(try await observed.next()?.map(\.content) == ["a", "b"])
            try await timeline.append(NewTurn(role: .user, content: "c"), to: session.id)
            #expect(try await observed.next()?.map(\.content) == ["c"])
            try await timeline.deleteSession(session.id)
            #expect(try await observed.next() == nil)
            var missing = timeline.observeTurns(of: UUID()).makeAsyncIterator()
            await #expect(throws: TimelineError.self) { _ = try await missing.next() }
        }
    }

    @Test("an entry that says it is at another position ends a follower with corrupted after the entries before it: it re-delivered the log without end, or skipped the entries to come")
    func misplacedEntry() async throws {
        for claimed in [UInt64(0), 9] {
            try await withTemporaryDirectory { dir in
                let timeline = try openTimeline(dir)
                let session = try await timeline.createSession(NewSession())
                for n in 0..<4 { try await timeline.append(NewTurn(role: .user, content: "\(n)"), to: session.id) }
                let changes = try #require(timeline.changeRecords)
                try editStoredRecord(timeline, changes, key: KeyBytes(UInt64(5)), version: Change.recordVersion) {   // the last entry
                    $0["position"] = .unsigned(claimed)
                }
                #expect(try timeline.changes(after: 0).map(\.position) == [1, 2, 3, 4])
                #expect { try timeline.changes(after: 4) } throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
                var seen: [Int] = []
                await #expect {
                    for try await change in timeline.followChanges(after: 0) {
                        seen.append(change.position)
                        if seen.count > 10 { break }   // it went round 1, 2, 3, 4, 0, 1, … (claimed 0)
                    }
                } throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
                #expect(seen == [1, 2, 3, 4])
                // The error names the entry's position (16 hex digits), and a consumer that accepts
                // losing that one change goes on after it.
                #expect { try timeline.changes(after: 4) } throws: { ($0 as? DocumentStoreError)?.key == "0000000000000005" }
                try await timeline.append(NewTurn(role: .user, content: "after"), to: session.id)
                #expect(try timeline.changes(after: 5).map(\.position) == [6])
                var after: [Int] = []
                for try await change in timeline.followChanges(after: 5) {
                    after.append(change.position)
                    break
                }
                #expect(after == [6])
                await timeline.close()
            }
        }
    }

    @Test("observeTurns ends with the error when a new turn cannot be read, not as if its session were deleted")
    func observeTurnsDamaged() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession())
            var observed = timeline.observeTurns(of: session.id).makeAsyncIterator()
            let turn = try await timeline.append(NewTurn(role: .user, content: "a"), to: session.id)
            try timeline.store.write { txn in   // damaged before the observer reads it
                try timeline.turnRecords.database.put([0x54, 0x01, 0x03, 0xff], for: KeyBytes(session.id, UInt64(turn.sequence)).bytes, in: txn)
            }
            // It ended quietly (nil), as for a deleted session.
            await #expect { _ = try await observed.next() } throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
            await timeline.close()
        }
    }

    @Test("observeSessions yields a project's listing now and each time a change alters it")
    func observeSessions() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let first = try await timeline.createSession(NewSession(title: "first", project: "travel"))
            var listing = timeline.observeSessions(filter: SessionFilter(project: "travel")).makeAsyncIterator()
            #expect(try await listing.next()?.map(\.title) == ["first"])
            let elsewhere = try await timeline.createSession(NewSession(title: "elsewhere", project: "work"))   // another project
            try await timeline.saveCheckpoint(NewCheckpoint(), for: elsewhere.id)                               // not in the listing
            let second = try await timeline.createSession(NewSession(title: "second", project: "travel"))
            #expect(try await listing.next()?.map(\.title) == ["second", "first"])
            try await timeline.append(NewTurn(role: .user, content: "bump"), to: first.id)       // new activity reorders
            #expect(try await listing.next()?.map(\.title) == ["first", "second"])
            try await timeline.updateSession(second.id) { $0.archived = true }
            #expect(try await listing.next()?.map(\.title) == ["first"])
        }
    }
}
