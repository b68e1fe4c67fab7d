import Foundation
import Timeline

/// TimelineStore with its default, durable settings (what a user gets), or with the
/// write-ahead log (`Durability.writeAheadLog`), which is as durable.
/// `@unchecked Sendable`: the store is; `timeline` changes only in `reopenAndList`, between workloads.
final class TimelineStoreBackend: Backend, @unchecked Sendable {
    static let withLogName = "TimelineStore (write-ahead log)"
    /// How the backends store large records: the library's default (plain), or `.lz4` under
    /// `--compressed`. Set once, before any backend is made.
    nonisolated(unsafe) static var compression: ValueCompression = .none
    let name: String
    let directory: String
    private let configuration: Environment.Configuration
    private var timeline: TimelineStore

    init(directory: String, durability: Environment.Durability = .durable) throws {
        self.directory = directory
        name = durability == .writeAheadLog ? Self.withLogName : Report.ours
        configuration = Environment.Configuration(durability: durability)
        timeline = try TimelineStore(path: directory, configuration: configuration, compression: Self.compression)
    }

    func settings() throws -> [String: String] {
        let durability = try timeline.environment.effectiveDurability()
        let commit = durability == .writeAheadLog
            ? "one fdatasync of data.wal per commit; data.mdb synced at checkpoints"
            : "fsync of data, then O_DSYNC meta page"
        let compression = Self.compression.minimumSize.map { "LZ4 from \($0) B, where it saves space" } ?? "none"
        return ["engine": "LMDB (TimelineStore)", "durability": "\(durability)", "commit": commit, "compression": compression]
    }

    static func newTurn(_ turn: TurnData) -> NewTurn {
        NewTurn(role: Turn.Role(turn.role), content: turn.content, created: turn.created, inputTokens: turn.inputTokens,
                outputTokens: turn.outputTokens, cost: Cost(rounding: turn.cost),
                toolCalls: turn.toolName.map { [Turn.ToolCall(id: "c", name: $0, arguments: turn.toolArguments ?? "")] } ?? [])
    }

    func load(_ fixture: Fixture) throws {
        for (index, session) in fixture.sessions.enumerated() {
            try timeline.write { txn in
                if let parent = session.parent {
                    _ = try txn.fork(session: fixture.sessions[parent].id, at: session.branchPoint, newID: session.id)
                    // A fork takes its parent's title; the fixture names each session.
                    _ = try txn.updateSession(session.id) { $0.title = session.title }
                } else {
                    _ = try txn.createSession(NewSession(id: session.id, title: session.title, project: session.project,
                                                              created: Fixture.epoch.addingTimeInterval(Double(index * 100))))
                }
            }
            // Turns in transactions of at most 5,000, as an import would write them.
            var sequence = 0
            while sequence < session.ownTurns {
                let count = min(5_000, session.ownTurns - sequence)
                let turns = (sequence..<sequence + count).map { Self.newTurn(fixture.turn(session: index, sequence: session.branchPoint + $0)) }
                try timeline.write { txn in _ = try txn.append(turns, to: session.id) }
                sequence += count
            }
            if session.ownTurns >= 20 {
                try timeline.write { txn in
                    for _ in 0..<(session.ownTurns / 50) { _ = try txn.saveCheckpoint(NewCheckpoint(state: Data("{}".utf8)), for: session.id) }
                    _ = try txn.saveCrystal(NewCrystal(text: "Summary of \(session.title)"), for: session.id)
                }
            }
        }
    }

    func append(_ turn: TurnData, to session: UUID) throws {
        try timeline.write { txn in _ = try txn.append([Self.newTurn(turn)], to: session) }
    }

    func appendConcurrently(_ jobs: [(UUID, TurnData)]) async throws {
        let timeline = self.timeline
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (session, turn) in jobs {
                let new = Self.newTurn(turn)
                group.addTask { _ = try await timeline.append(new, to: session) }
            }
            try await group.waitForAll()
        }
    }

    // Reads go through views, reading the columns the SQLite backends select (content, role,
    // created and input tokens of a turn; id, title, last activity and turn count of a session)
    // in place, as a service that needs only those would; `Benchmarks/instructions.sh timeline`
    // compares them with building whole records.
    func latestTurns(of session: UUID, limit: Int) throws -> Int {
        try turnColumns(of: session, reverse: true, limit: limit)
    }

    func history(of session: UUID) throws -> Int {
        try turnColumns(of: session, reverse: false, limit: .max)
    }

    func latestTurnsJSON(of session: UUID, limit: Int) throws -> Int {
        try timeline.turnsJSON(of: session, reverse: true, limit: limit).count
    }

    private func turnColumns(of session: UUID, reverse: Bool, limit: Int) throws -> Int {
        var bytes = 0
        try timeline.forEachTurn(of: session, reverse: reverse, limit: limit) { turn in
            _ = try turn.role
            bytes += try turn.withContentUTF8 { $0.count }
            _ = try turn.created
            _ = try turn.inputTokens
        }
        return bytes
    }

    func recentSessions(project: String, limit: Int, after cursor: Any?) throws -> (bytes: Int, next: Any?) {
        var bytes = 0
        let next = try timeline.forEachSession(filter: SessionFilter(project: project), limit: limit, after: cursor as? PageCursor) { session in
            bytes += try session.withTitleUTF8 { $0.count }
            _ = try session.lastActivity
            _ = try session.turnCount
        }
        return (bytes, next)
    }

    func turn(of session: UUID, sequence: Int) throws -> Int {
        try timeline.read { txn in try txn.turn(session: session, sequence: sequence).content.utf8.count }
    }

    func fork(_ session: UUID, at point: Int) throws -> UUID {
        try timeline.write { txn in try txn.fork(session: session, at: point).id }
    }

    func delete(_ session: UUID) throws {
        try timeline.write { txn in _ = try txn.deleteSession(session) }
    }

    func makeSession(turns: [TurnData]) throws -> UUID {
        try timeline.write { txn in
            let session = try txn.createSession(NewSession(title: "to delete", project: "scratch"))
            _ = try txn.append(turns.map(Self.newTurn), to: session.id)
            return session.id
        }
    }

    func reopenAndList() async throws -> Int {
        await timeline.close()
        timeline = try TimelineStore(path: directory, configuration: configuration, compression: Self.compression)
        return try timeline.read { txn in try txn.listSessions(limit: 20).items.count }
    }

    func commits() throws -> Int { try timeline.environment.info().lastTransactionID }

    func diskBytes() throws -> Int { directoryBytes(directory) }

    func close() async throws {
        await timeline.close()
    }
}
