import Foundation
import TestSupport
import Testing
import Timeline

@Suite("The change log: every committed change, in order, in the same transaction")
struct ChangeLogTests {
    @Test("each write path logs what it changed; refused and retried writes log nothing")
    func everyWritePath() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            #expect(try timeline.currentPosition() == 0 && timeline.changes().isEmpty)
            let root = try await timeline.createSession(NewSession(title: "root"))
            let message = NewTurn(id: UUID(), role: .user, content: "hello")
            try await timeline.append([message] + sampleTurns(2), to: root.id)
            try await timeline.append(message, to: root.id)                                       // a retry: nothing new
            await #expect(throws: TimelineError.self) {
                try await timeline.append(NewTurn(role: .user, content: "x", inputTokens: -1), to: root.id)
            }
            try await timeline.updateSession(root.id) { $0.title = "renamed" }
            try await timeline.updateSession(root.id) { $0.title = "renamed" }                  // no change: nothing logged
            let fork = try await timeline.fork(session: root.id, at: 2)
            let checkpoint = try await timeline.saveCheckpoint(NewCheckpoint(), for: root.id)
            try await timeline.setStarred(true, checkpoint: checkpoint.id)
            try await timeline.saveCrystal(NewCrystal(text: "sum"), for: root.id)
            #expect(try await timeline.pruneCheckpoints(olderThan: Date(timeIntervalSince1970: 1_900_000_000), keepStarred: false) == 1)
            let exported = try timeline.read { tx in try tx.exportSession(root.id) }
            try await timeline.deleteSession(root.id)
            try await timeline.write { tx in _ = try tx.importSession(exported, options: ImportOptions(newIDs: true)) }

            let log = try timeline.changes()
            #expect(log.map(\.position) == Array(1...log.count))
            #expect(log.map(\.kind) == [.sessionCreated, .turnsAppended, .sessionUpdated, .sessionCreated, .checkpointSaved,
                                        .checkpointStarred, .crystalSaved, .checkpointDeleted, .sessionReparented,
                                        .sessionDeleted, .sessionImported])
            #expect(log[1].session == root.id && log[1].sequences == 0..<3)
            #expect(log[3].session == fork.id && log[3].parent == root.id && log[3].sequences == 0..<2)
            #expect(log[4].checkpoint == checkpoint.id && log[4].number == 0 && log[6].number == 0)
            #expect(log[8].session == fork.id && log[8].parent == nil && log[8].sequences == 0..<2)
            #expect(log[10].sequences == 0..<3 && log[10].session != root.id)
            #expect(try timeline.currentPosition() == log.count)
            // Paging: after a position, up to a limit.
            #expect(try timeline.changes(after: 3, limit: 2).map(\.position) == [4, 5])
            #expect(try timeline.changes(after: log.count).isEmpty)
            await #expect(throws: TimelineError.self) { try timeline.changes(after: -1) }
            #expect(try timeline.check().isEmpty)
        }
    }

    @Test("under group commit the log stays gapless, and replaying it gives the store's sessions and turn counts")
    func groupCommitAndReplay() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let sessions = try await (0..<4).asyncMap { _ in try await timeline.createSession(NewSession()) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<64 {
                    group.addTask {
                        let target = sessions[index % 4].id
                        // Every fifth job fails inside its batch; it must leave no entry and no gap.
                        _ = try? await timeline.append(NewTurn(role: .user, content: "\(index)", inputTokens: index % 5 == 0 ? -1 : 1), to: target)
                        if index % 16 == 0 { _ = try await timeline.fork(session: target) }
                    }
                }
                try await group.waitForAll()
            }
            let log = try timeline.changes(limit: .max)
            #expect(log.map(\.position) == Array(1...log.count))
            #expect(try changeLogProblems(timeline) == [])
            #expect(log.filter { $0.kind == .turnsAppended }.count == 64 - 13)
            #expect(try timeline.check().isEmpty)
        }
    }

    @Test("a store written before the log has none read-only, and gets one at its first writable open")
    func storesFromBeforeTheLog() async throws {
        try await withTemporaryDirectory { dir in
            let path = try FormatMigrationTests.copyOfFixture(in: dir)
            let readOnly = try TimelineStore(path: path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
            #expect(try readOnly.currentPosition() == 0 && readOnly.changes().isEmpty)
            await readOnly.close()
            let timeline = try TimelineStore(path: path)
            #expect(try timeline.currentPosition() == 0)      // migrating records logs nothing: the log starts here
            try await timeline.append(NewTurn(role: .user, content: "after"), to: FormatFixture.root)
            #expect(try timeline.changes().map(\.kind) == [.turnsAppended] && timeline.currentPosition() == 1)
            #expect(try timeline.check().isEmpty)
            await timeline.close()
        }
    }

    @Test("Docs/changes.md: a consumer starts from a snapshot and follows the log without a gap")
    func snapshotThenFollow() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let first = try await timeline.createSession(NewSession(title: "before"))
            try await timeline.append(sampleTurns(2), to: first.id)

            let (position, sessions) = try timeline.read { tx in
                (try tx.currentPosition(), try tx.listSessions(filter: SessionFilter(archived: nil), limit: .max).items)
            }
            #expect(position == 2 && sessions.map(\.id) == [first.id])
            let later = try await timeline.createSession(NewSession(title: "after"))
            try await timeline.append(sampleTurns(3), to: later.id)

            var last = position
            var applied: [Change.Kind] = []
            var appendedTurns: [String] = []
            while true {
                let page = try timeline.changes(after: last, limit: 1)
                for change in page {
                    applied.append(change.kind)
                    if change.kind == .turnsAppended, let sequences = change.sequences {
                        appendedTurns += try timeline.read { tx in try tx.turns(of: change.session, range: sequences).items.map(\.content) }
                    }
                }
                guard let end = page.last?.position else { break }
                last = end
            }
            #expect(applied == [.sessionCreated, .turnsAppended] && appendedTurns == ["t 0", "t 1", "t 2"] && last == 4)
        }
    }

    @Test("consumers and retention: trimming keeps what a consumer has not acknowledged, caps drop stalled ones, a trimmed position is a clear error")
    func consumersAndRetention() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession())
            for index in 0..<9 { try await timeline.append(NewTurn(role: .user, content: "\(index)"), to: session.id) }
            #expect(try timeline.currentPosition() == 10)
            try await timeline.acknowledge(7, consumer: "replica")
            try await timeline.acknowledge(4, consumer: "search")
            #expect(try timeline.changeConsumers().map(\.name) == ["replica", "search"])
            try await timeline.acknowledge(1, consumer: "gone")
            let removed = try await timeline.removeChangeConsumer("gone"), again = try await timeline.removeChangeConsumer("gone")
            #expect(removed && !again)
            #expect(try timeline.changeConsumers().map(\.name) == ["replica", "search"])

            // Only what both acknowledged goes.
            var trim = try await timeline.trimChanges()
            #expect(trim.removed == 4 && trim.oldestKept == 5 && trim.droppedConsumers.isEmpty)
            #expect(try timeline.changes(after: 4).map(\.position) == Array(5...10))
            await #expect(throws: TimelineError.changesTrimmed(after: 3, oldestKept: 5)) { try timeline.changes(after: 3) }

            // A cap removes entries "search" has not read: it is dropped and told to restart.
            trim = try await timeline.trimChanges(keepingAtMost: 2)
            #expect(trim.removed == 4 && trim.oldestKept == 9 && trim.droppedConsumers == ["replica", "search"])
            #expect(try timeline.changeConsumers().isEmpty)
            await #expect(throws: TimelineError.changesTrimmed(after: 4, oldestKept: 9)) { try await timeline.acknowledge(4, consumer: "search") }
            await #expect(throws: TimelineError.self) { try await timeline.acknowledge(11, consumer: "replica") }

            // The newest entry always stays, so positions go on.
            trim = try await timeline.trimChanges()
            #expect(trim.oldestKept == 10)
            #expect(try timeline.currentPosition() == 10)
            try await timeline.append(NewTurn(role: .user, content: "next"), to: session.id)
            #expect(try timeline.changes(after: 10).map(\.position) == [11])
            #expect(try timeline.check().isEmpty)

            // An age cap: nothing is older than an hour, so only what "slow" acknowledged goes; every
            // entry is older than now, so the cap takes all but the newest and drops "slow".
            try await timeline.append(NewTurn(role: .user, content: "12"), to: session.id)
            try await timeline.append(NewTurn(role: .user, content: "13"), to: session.id)
            try await timeline.acknowledge(11, consumer: "slow")
            trim = try await timeline.trimChanges(olderThan: .seconds(3_600))
            #expect(trim.removed == 2 && trim.oldestKept == 12 && trim.droppedConsumers.isEmpty)
            // An age past what `Duration.components` holds (more seconds than an Int64) trapped.
            trim = try await timeline.trimChanges(olderThan: .seconds(1e20))
            #expect(trim.removed == 0 && trim.oldestKept == 12)
            trim = try await timeline.trimChanges(olderThan: .zero)
            #expect(trim.removed == 1 && trim.oldestKept == 13 && trim.droppedConsumers == ["slow"])

            // Bad caps are refused, removing nothing; a position past the newest has nothing after it.
            await #expect(throws: TimelineError.invalidRange("keep at least 1 entry, not 0")) { try await timeline.trimChanges(keepingAtMost: 0) }
            await #expect(throws: TimelineError.self) { try await timeline.trimChanges(olderThan: .seconds(-1)) }
            #expect(try timeline.oldestPosition() == 13)
            #expect(try timeline.changes(after: .max).isEmpty && timeline.changes(after: 14, limit: .max).isEmpty)

            // A follower whose position was trimmed ends with the same error.
            var follower = timeline.followChanges(after: 2).makeAsyncIterator()
            await #expect(throws: TimelineError.self) { _ = try await follower.next() }
        }
    }
}
