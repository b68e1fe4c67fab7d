import Foundation

/// One storage engine under test, on its own store. Every read returns the number of content
/// bytes it read, so that no backend can skip work and the backends' answers can be compared.
protocol Backend: AnyObject, Sendable {
    /// The name in reports.
    var name: String { get }
    /// How durable each commit is and how the engine is set up, as read back from the engine.
    func settings() throws -> [String: String]
    /// Bulk import of the whole fixture.
    func load(_ fixture: Fixture) throws
    /// One durable append of one turn to `session`: its own transaction.
    func append(_ turn: TurnData, to session: UUID) throws
    /// Appends from concurrent writers (one task per entry); returns when all are durable.
    func appendConcurrently(_ jobs: [(UUID, TurnData)]) async throws
    /// The latest `limit` turns of a session's history (a fork's inherited turns included).
    func latestTurns(of session: UUID, limit: Int) throws -> Int
    /// The latest `limit` turns of a session's history as one JSON array, as a web service
    /// answers; returns how many objects it holds (the backends' JSON forms differ in detail).
    func latestTurnsJSON(of session: UUID, limit: Int) throws -> Int
    /// A session's whole history.
    func history(of session: UUID) throws -> Int
    /// A page of `project`'s sessions, most recently active first, after `cursor`.
    func recentSessions(project: String, limit: Int, after cursor: Any?) throws -> (bytes: Int, next: Any?)
    /// Turn `sequence` of a session (one of its own).
    func turn(of session: UUID, sequence: Int) throws -> Int
    /// A durable fork of `session` at `point`; returns the fork's id.
    func fork(_ session: UUID, at point: Int) throws -> UUID
    /// A durable delete of a session and its turns.
    func delete(_ session: UUID) throws
    /// A new session with `turns` turns, for the delete workload (not measured).
    func makeSession(turns: [TurnData]) throws -> UUID
    /// Closes the store, opens it again cold, and lists its 20 most recently active sessions.
    func reopenAndList() async throws -> Int
    /// Commits (write transactions) so far, as the engine counts them.
    func commits() throws -> Int
    /// Bytes of the store's files on disk.
    func diskBytes() throws -> Int
    func close() async throws
    /// Whether listings order sessions exactly by activity (and so answer as every other backend
    /// does); a backend that keeps coarser times may order ties differently.
    var exactOrder: Bool { get }
}

extension Backend {
    var exactOrder: Bool { true }
}

/// The size of the files directly in `directory`.
func directoryBytes(_ directory: String) -> Int {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.reduce(0) { total, name in
        let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? NSNumber)?.intValue ?? 0
        return total + size
    }
}

/// Where a session's history is stored, from its root to itself: (session, first sequence, end)
/// for each part, given each session's parent, branch point and turn count — the walk
/// TimelineStore makes, for the backends that keep forks as parent pointers.
func lineage(of session: UUID, _ lookup: (UUID) throws -> (parent: UUID?, branchPoint: Int, turnCount: Int)) rethrows -> [(UUID, Int, Int)] {
    var segments: [(UUID, Int, Int)] = []
    var current = session
    var end: Int?
    while true {
        let (parent, start, count) = try lookup(current)
        let stop = min(end ?? count, count)
        if start < stop { segments.append((current, start, stop)) }
        guard let parent, start > 0 else { break }
        end = start
        current = parent
    }
    return segments.reversed()
}
