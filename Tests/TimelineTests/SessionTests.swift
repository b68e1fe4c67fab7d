import TestSupport
import DocumentStore
import Foundation
import LMDB
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

            let refused = await #expect(throws: TimelineError.self) {
                try await timeline.updateSession(created.id) { $0.turnCount = 99 }
            }
            #expect(refused?.kind == .readOnlyField("turnCount"))
            #expect(try await timeline.session(created.id) == renamed)

            let taken = await #expect(throws: TimelineError.self) { try await timeline.createSession(NewSession(id: created.id)) }
            #expect(taken?.kind == .sessionExists(created.id))
            let missing = UUID()
            let notFound = await #expect(throws: TimelineError.self) { try await timeline.updateSession(missing) { $0.title = "x" } }
            #expect(notFound?.kind == .sessionNotFound(missing))
            #expect(try await timeline.session(missing) == nil)
        }
    }

    @Test("pagination over 10,000 sessions returns each exactly once, in activity order, in both directions")
    func paginationOverTenThousand() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            var ids: [UUID] = []
            try timeline.write { txn in
                for index in 0..<10_000 {
                    let session = try timeline.createSession(NewSession(title: "s\(index)", project: index % 3 == 0 ? "a" : "b"), in: txn)
                    ids.append(session.id)
                }
            }
            for order in [SessionOrder.newestFirst, .oldestFirst] {
                var seen: [UUID] = []
                var page = try await timeline.listSessions(order: order, limit: 333)
                seen += page.items.map(\.id)
                while let next = page.next {
                    page = try await timeline.listSessions(order: order, limit: 333, after: next)
                    #expect(page.items.count <= 333)
                    seen += page.items.map(\.id)
                }
                #expect(seen == (order == .newestFirst ? ids.reversed() : ids))
            }
            // A page cursor travels as a string token.
            let first = try await timeline.listSessions(filter: SessionFilter(project: "a"), limit: 10)
            let token = try #require(first.next?.token)
            let second = try await timeline.listSessions(filter: SessionFilter(project: "a"), limit: 10, after: PageCursor(token: token))
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
                try await timeline.listSessions(filter: filter, order: order).items.map(\.title)
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
            var page = try await timeline.listSessions(filter: SessionFilter(archived: nil), limit: 1)
            seen += page.items.map(\.id)
            while let next = page.next {
                page = try await timeline.listSessions(filter: SessionFilter(archived: nil), limit: 1, after: next)
                seen += page.items.map(\.id)
            }
            #expect(seen == [a.id, forkOfA.id, c.id, b.id])
        }
    }

    @Test("bad listing input: negative limit, a cursor from another listing")
    func badListingInput() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            await #expect(throws: TimelineError.self) { try await timeline.listSessions(limit: -1) }
            await #expect(throws: TimelineError.self) { try await timeline.listSessions(after: PageCursor(key: [1, 2, 3])) }
        }
    }
}
