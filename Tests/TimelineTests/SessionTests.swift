import TestSupport
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing
import Timeline

@Suite("Sessions: create, update, list, count")
struct SessionTests {
    @Test("create, read back, update the owned fields; refuse maintained ones and taken ids")
    func createAndUpdate() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let created = try await timeline.createSession(NewSession(title: "Plan", project: "travel", model: "m1", metadata: ["k": "v"]))
            #expect(try await timeline.session(created.id) == created)
            #expect(created.turnCount == 0 && created.lastActivity == created.created)

            let renamed = try await timeline.updateSession(created.id) { $0.title = "Plan B"; $0.archived = true }
            #expect(renamed.title == "Plan B" && renamed.archived && renamed.updated > created.updated)
            #expect(try await timeline.session(created.id) == renamed)


            let taken = await #expect(throws: TimelineError.self) { try await timeline.createSession(NewSession(id: created.id)) }
            #expect(taken == .sessionExists(created.id))
            let missing = UUID()
            let notFound = await #expect(throws: TimelineError.self) { try await timeline.updateSession(missing) { $0.title = "x" } }
            #expect(notFound == .sessionNotFound(missing))
            #expect(try await timeline.session(missing) == nil)
        }
    }

    @Test("pagination over 10,000 sessions returns each exactly once, in activity order, in both directions")
    func paginationOverTenThousand() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let ids = try await timeline.write { txn in
                try (0..<10_000).map { index in
                    try txn.createSession(NewSession(title: "s\(index)", project: index % 3 == 0 ? "a" : "b")).id
                }
            }
            for order in [SessionOrder.newestFirst, .oldestFirst] {
                var seen: [UUID] = []
                var page = try timeline.listSessions(order: order, limit: 333)
                seen += page.items.map(\.id)
                while let next = page.next {
                    page = try timeline.listSessions(order: order, limit: 333, after: next)
                    #expect(page.items.count <= 333)
                    seen += page.items.map(\.id)
                }
                #expect(seen == (order == .newestFirst ? ids.reversed() : ids))
            }
            // A page cursor travels as a string token.
            let first = try timeline.listSessions(filter: SessionFilter(project: "a"), limit: 10)
            let token = try #require(first.next?.token)
            let second = try timeline.listSessions(filter: SessionFilter(project: "a"), limit: 10, after: PageCursor(token: token))
            #expect(second.items.map(\.id) == ids.enumerated().filter { $0.offset % 3 == 0 }.map(\.element).reversed().dropFirst(10).prefix(10).map { $0 })
            #expect(try await timeline.countSessions() == 10_000)
            #expect(try await timeline.countSessions(filter: SessionFilter(project: "a")) == 3_334)
        }
    }

    @Test("filters: project, parent, archived, activity window; order follows the latest append")
    func filters() async throws {
        try await withTemporaryDirectory { dir in
            let clock = SteppingClock()
            let timeline = try openTimeline(dir, clock: clock)
            let a = try await timeline.createSession(NewSession(title: "a", project: "p"))
            let b = try await timeline.createSession(NewSession(title: "b", project: "p"))
            let c = try await timeline.createSession(NewSession(title: "c", project: "q"))
            let middle = clock.now()
            let forkOfA = try await timeline.fork(session: a.id)
            try await timeline.append(sampleTurns(1), to: a.id)          // a is now the most recent
            try await timeline.updateSession(b.id) { $0.archived = true }

            func titles(_ filter: SessionFilter, _ order: SessionOrder = .newestFirst) async throws -> [String] {
                try timeline.listSessions(filter: filter, order: order).items.map(\.title)
            }
            #expect(try await titles(SessionFilter()) == ["a", "a", "c"])            // a, fork of a, c
            #expect(try await timeline.listSessions().items.map(\.id) == [a.id, forkOfA.id, c.id])
            #expect(try await titles(SessionFilter(project: "p")) == ["a", "a"])
            #expect(try await titles(SessionFilter(project: "p", archived: true)) == ["b"])
            #expect(try await titles(SessionFilter(project: "p", archived: nil)) == ["a", "a", "b"])
            #expect(try await titles(SessionFilter(project: "p", archived: nil), .oldestFirst) == ["b", "a", "a"])
            #expect(try await timeline.listSessions(filter: SessionFilter(parent: a.id)).items.map(\.id) == [forkOfA.id])
            #expect(try await timeline.children(of: a.id).map(\.id) == [forkOfA.id])
            #expect(try await timeline.listSessions(filter: SessionFilter(project: "p", parent: a.id)).items.map(\.id) == [forkOfA.id])
            #expect(try await timeline.listSessions(filter: SessionFilter(activeSince: middle)).items.map(\.id) == [a.id, forkOfA.id])
            #expect(try await timeline.listSessions(filter: SessionFilter(activeBefore: middle)).items.map(\.id) == [c.id])
            #expect(try await timeline.countSessions(filter: SessionFilter(archived: nil)) == 4)
            #expect(try await timeline.countSessions(filter: SessionFilter(project: "p", parent: a.id)) == 1)
            #expect(try await timeline.countSessions(filter: SessionFilter(archived: true)) == 1)

            // Pagination across both archived states merges in order.
            var seen: [UUID] = []
            var page = try timeline.listSessions(filter: SessionFilter(archived: nil), limit: 1)
            seen += page.items.map(\.id)
            while let next = page.next {
                page = try timeline.listSessions(filter: SessionFilter(archived: nil), limit: 1, after: next)
                seen += page.items.map(\.id)
            }
            #expect(seen == [a.id, forkOfA.id, c.id, b.id])
        }
    }

    @Test("random filters, orders and page sizes list exactly what a model says, in its order")
    func listingsAgainstModel() async throws {
        try await withTemporaryDirectory { dir in
            let clock = SteppingClock()
            let timeline = try openTimeline(dir, clock: clock)
            var random = SeededGenerator(seed: 0x5E55)
            var sessions: [Session] = []
            var times: [Date] = []
            for index in 0..<300 {
                times.append(clock.now())
                let parent = index > 20 && Int.random(in: 0..<3, using: &random) == 0 ? sessions.randomElement(using: &random) : nil
                var session = parent == nil
                    ? try await timeline.createSession(NewSession(title: "\(index)", project: ["a", "b", "c", nil].randomElement(using: &random)!))
                    : try await timeline.fork(session: parent!.id)
                if Int.random(in: 0..<4, using: &random) == 0 { session = try await timeline.updateSession(session.id) { $0.archived = true } }
                if Int.random(in: 0..<2, using: &random) == 0, let earlier = sessions.randomElement(using: &random) {
                    try await timeline.append(NewTurn(role: .user, content: "x"), to: earlier.id)   // moves it up
                }
                sessions.append(session)
            }
            let current = try timeline.listSessions(filter: SessionFilter(archived: nil), limit: 1_000).items
            #expect(current.count == 300)
            for round in 0..<200 {
                let filter = SessionFilter(
                    project: Bool.random(using: &random) ? ["a", "b", "c"].randomElement(using: &random) : nil,
                    parent: Int.random(in: 0..<4, using: &random) == 0 ? current.filter { $0.parentID != nil }.randomElement(using: &random)?.parentID : nil,
                    archived: [false, true, nil].randomElement(using: &random)!,
                    activeSince: Bool.random(using: &random) ? times.randomElement(using: &random) : nil,
                    activeBefore: Bool.random(using: &random) ? times.randomElement(using: &random) : nil
                )
                let order: SessionOrder = Bool.random(using: &random) ? .newestFirst : .oldestFirst
                let expected = current
                    .filter { session in
                        (filter.project.map { session.project == $0 } ?? true)
                            && (filter.parent.map { session.parentID == $0 } ?? true)
                            && (filter.archived.map { session.archived == $0 } ?? true)
                            && (filter.activeSince.map { session.lastActivity >= $0 } ?? true)
                            && (filter.activeBefore.map { session.lastActivity < $0 } ?? true)
                    }
                    .sorted { $0.lastActivity > $1.lastActivity }          // every activity time is distinct here
                let limit = Int.random(in: 1...40, using: &random)
                var seen: [UUID] = []
                var page = try timeline.listSessions(filter: filter, order: order, limit: limit)
                seen += page.items.map(\.id)
                while let next = page.next {
                    page = try timeline.listSessions(filter: filter, order: order, limit: limit, after: next)
                    seen += page.items.map(\.id)
                }
                let want = order == .newestFirst ? expected.map(\.id) : expected.reversed().map(\.id)
                #expect(seen == want, "round \(round): \(filter) \(order)")
                #expect(try await timeline.countSessions(filter: filter) == want.count, "round \(round): count")
            }
        }
    }

    @Test("bad listing input: negative limit, a cursor from another listing")
    func badListingInput() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            await #expect(throws: TimelineError.self) { try await timeline.listSessions(limit: -1) }
            await #expect(throws: TimelineError.self) { try await timeline.listSessions(after: PageCursor(key: [1, 2, 3], listing: 0)) }
            // A page of none has no cursor in either order (oldest first, its cursor skipped every session).
            for _ in 0..<3 { _ = try await timeline.createSession(NewSession(title: "s")) }
            for order in [SessionOrder.newestFirst, .oldestFirst] {
                let empty = try timeline.listSessions(order: order, limit: 0)
                #expect(empty.items.isEmpty && empty.next == nil, "\(order)")
                #expect(try timeline.forEachSession(order: order, limit: 0) { _ in Issue.record("read a session") } == nil)
                #expect(try timeline.listSessions(order: order, limit: 3).items.count == 3)
            }
            await #expect(throws: TimelineError.self) { try await timeline.listSessions(limit: 0, after: PageCursor(key: [1, 2, 3], listing: 0)) }
            // A NaN bound is a mistake, not "since the beginning"; the far ends still bound.
            let nan = Date(timeIntervalSince1970: .nan)
            for filter in [SessionFilter(activeSince: nan), SessionFilter(activeBefore: nan)] {
                await #expect(throws: TimelineError.self) { try await timeline.listSessions(filter: filter) }
                await #expect(throws: TimelineError.self) { try await timeline.countSessions(filter: filter) }
            }
            await #expect(throws: TimelineError.self) { try await timeline.pruneCheckpoints(olderThan: nan) }
            #expect(try timeline.countSessions(filter: SessionFilter(activeSince: .distantPast, activeBefore: .distantFuture)) == 3)
        }
    }

    @Test("a page cursor continues only its own listing: another filter, order, session or direction is refused")
    func cursorsAreBoundToTheirListing() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            var ids: [UUID] = []
            for index in 0..<6 {
                let session = try await timeline.createSession(NewSession(title: "s\(index)", project: index % 2 == 0 ? "a" : "b"))
                try await timeline.append(sampleTurns(4), to: session.id)
                ids.append(session.id)
            }
            func refusesCursor(_ body: () throws -> Void) {
                #expect { try body() } throws: { if case TimelineError.invalidPageCursor = $0 { true } else { false } }
            }
            let projectA = try timeline.listSessions(filter: SessionFilter(project: "a"), limit: 1)
            let cursor = try #require(projectA.next)
            // The same listing continues, even with another page size, and through the token.
            #expect(try timeline.listSessions(filter: SessionFilter(project: "a"), limit: 5, after: cursor).items.count == 2)
            let fromToken = try #require(PageCursor(token: cursor.token))
            #expect(fromToken == cursor)
            #expect(try timeline.listSessions(filter: SessionFilter(project: "a"), limit: 5, after: fromToken).items.count == 2)
            refusesCursor { _ = try timeline.listSessions(filter: SessionFilter(project: "b"), after: cursor) }
            refusesCursor { _ = try timeline.listSessions(filter: SessionFilter(project: "a"), order: .oldestFirst, after: cursor) }
            refusesCursor { _ = try timeline.listSessions(after: cursor) }
            refusesCursor { _ = try timeline.turns(of: ids[0], after: cursor) }

            let turns = try timeline.turns(of: ids[0], limit: 2)
            let turnCursor = try #require(turns.next)
            #expect(try timeline.turns(of: ids[0], after: turnCursor).items.map(\.sequence) == [2, 3])
            refusesCursor { _ = try timeline.turns(of: ids[1], after: turnCursor) }
            refusesCursor { _ = try timeline.turns(of: ids[0], reverse: true, after: turnCursor) }
            refusesCursor { _ = try timeline.turns(of: ids[0], range: 1..<4, after: turnCursor) }
            refusesCursor { _ = try timeline.listSessions(after: turnCursor) }

            for id in ids.prefix(2) {
                for number in 0..<3 { _ = number; try await timeline.saveCheckpoint(NewCheckpoint(), for: id) }
            }
            let checkpoints = try timeline.checkpoints(of: ids[0], limit: 1)
            let checkpointCursor = try #require(checkpoints.next)
            #expect(try timeline.checkpoints(of: ids[0], after: checkpointCursor).items.count == 2)
            refusesCursor { _ = try timeline.checkpoints(of: ids[1], after: checkpointCursor) }
            // An altered token is refused too.
            var bytes = Array(cursor.token)
            bytes[3] = bytes[3] == "0" ? "1" : "0"
            let altered = try #require(PageCursor(token: String(bytes)))
            refusesCursor { _ = try timeline.listSessions(filter: SessionFilter(project: "a"), after: altered) }
            #expect(PageCursor(token: "abc") == nil && PageCursor(token: "00") == nil)
        }
    }
}
