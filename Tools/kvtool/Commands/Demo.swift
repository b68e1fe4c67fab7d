import ArgumentParser
import SeededRandom
import Foundation
import TimelineLMDB
import Synchronization
import Timeline

/// `kvtool demo`: builds a realistic timeline — projects, sessions of varied length with tool
/// calls, forks, checkpoints and crystals — through the `Timeline` API, and shows what it made.
/// It doubles as the example program of `Docs/guide.md`.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build an example timeline (sessions, turns, forks, checkpoints, crystals) and show it.",
        discussion: """
            Writes SESSIONS sessions spread over four projects and the last 30 days, each with \
            between half and all of TURNS turns (some with tool calls), forks every fifth session, \
            saves checkpoints every 20 turns and a crystal (summary) per long session. Then reads \
            back the newest sessions of a project and a fork's history, which runs through its \
            parent's turns. The content is generated from SEED, so runs are repeatable.

            Example:
              kvtool demo /tmp/demo.timeline --sessions 20 --turns-per-session 50
            """
    )

    @Argument(help: "The store directory to create; it must not already hold a store.")
    var path: String

    @Option(parsing: .unconditional, help: ArgumentHelp("How many sessions to write.", valueName: "count"))
    var sessions = 40

    @Option(parsing: .unconditional, help: ArgumentHelp("The most turns a session gets (each gets between half and all of them).", valueName: "count"))
    var turnsPerSession = 150

    @Option(help: ArgumentHelp("Seed for the generated content, so runs are repeatable.", valueName: "number"))
    var seed: UInt64 = 42

    func validate() throws {
        guard sessions > 0, sessions <= 1_000_000 else { throw ValidationError("--sessions must be between 1 and 1000000") }
        guard turnsPerSession > 0, turnsPerSession <= 1_000_000 else {
            throw ValidationError("--turns-per-session must be between 1 and 1000000")
        }
        if StoreFiles.holdsStore(path) {
            throw ValidationError("\(path) already holds a store; choose a new path or remove it first")
        }
    }

    func run() async throws {
        var random = SeededGenerator(seed: seed)
        let clock = DemoClock(start: Date(timeIntervalSince1970: 1_795_000_000))
        // Starts with a 1 MiB map, to show it growing as the data needs.
        let timeline = try TimelineStore(path: path, configuration: .init(mapSize: 1 << 20), clock: { clock.now })
        let projects = ["billing", "search", "mobile-app", "infra"]
        let topics = ["a flaky test", "the release notes", "an LMDB map resize", "the onboarding flow",
                      "a memory leak", "the search ranking", "a migration plan", "the invoice export"]
        var made = (sessions: 0, forks: 0, turns: 0, checkpoints: 0, crystals: 0)
        var ids: [UUID] = []
        let bar = ProgressBar("demo", total: sessions)

        for index in 0..<sessions {
            bar.update(index)
            clock.advance(by: Double(random.next() % 60_000))
            let project = projects[Int(random.next() % UInt64(projects.count))]
            let topic = topics[Int(random.next() % UInt64(topics.count))]
            let count = turnsPerSession / 2 + Int(random.next() % UInt64(turnsPerSession - turnsPerSession / 2 + 1))
            let turns = (0..<count).map { Self.turn($0, topic: topic, random: &random) }
            let sessionID = random.uuid()
            let checkpointIDs = stride(from: 0, to: turns.count, by: 20).map { _ in random.uuid() }
            // One transaction per session: the session, its turns, checkpoints and summary land together.
            // (Everything random is drawn before: the closure runs again if the map has to grow.)
            let id = try await timeline.write { txn in
                let session = try txn.createSession(
                    NewSession(id: sessionID, title: "Session \(index): \(topic)", project: project,
                               model: "demo-model-1", provider: "demo"))
                for (batch, start) in stride(from: 0, to: turns.count, by: 20).enumerated() {
                    try txn.append(Array(turns[start..<min(start + 20, turns.count)]), to: session.id)
                    try txn.saveCheckpoint(NewCheckpoint(id: checkpointIDs[batch], kind: .auto, starred: start == 0,
                                                              description: "after \(min(start + 20, turns.count)) turns",
                                                              state: Data("{\"step\":\(start)}".utf8)), for: session.id)
                }
                if turns.count >= 40 {
                    try txn.saveCrystal(NewCrystal(text: "Discussed \(topic) over \(turns.count) turns; settled on a fix.",
                                                        tokens: 14), for: session.id)
                }
                return session.id
            }
            made.checkpoints += checkpointIDs.count
            made.crystals += turns.count >= 40 ? 1 : 0
            ids.append(id)
            made.sessions += 1
            made.turns += turns.count
            // Every fifth session gets a fork from its middle, through the async API.
            if index % 5 == 4 {
                let fork = try await timeline.fork(session: id, at: turns.count / 2, branchName: "try another approach", newID: random.uuid())
                try await timeline.append([NewTurn(id: random.uuid(), role: .user, content: "Let's try a different approach to \(topic)."),
                                           NewTurn(id: random.uuid(), role: .assistant, content: "Sure — starting from turn \(turns.count / 2).",
                                                   outputTokens: 12)], to: fork.id)
                made.forks += 1
                made.turns += 2
            }
        }
        bar.finish()
        print("wrote \(made.sessions) sessions (+\(made.forks) fork\(made.forks == 1 ? "" : "s")), \(made.turns) turns, \(made.checkpoints) checkpoints and \(made.crystals) crystals to \(path)")

        let project = try timeline.listSessions(limit: 1).items.first?.project ?? projects[0]
        let recent = try timeline.listSessions(filter: SessionFilter(project: project), limit: 5)
        print("\nnewest sessions of project \"\(project)\" (by last activity):")
        for session in recent.items {
            let fork = session.parentID.map { " fork of \($0.uuidString.prefix(8)) at \(session.branchPoint ?? 0)" } ?? ""
            print("  \(session.id.uuidString.prefix(8))  \(Table.time(session.lastActivity))  \(String(session.turnCount).padding(toLength: 4, withPad: " ", startingAt: 0)) turns  \(session.title)\(fork)")
        }
        if let fork = try timeline.listSessions(limit: 1_000).items.first(where: { $0.parentID != nil }) {
            let history = try timeline.turns(of: fork.id, range: (fork.branchPoint ?? 0) - 2..<fork.turnCount)
            print("\nthe end of fork \(fork.id.uuidString.prefix(8))'s history — the first two turns are its parent's:")
            for turn in history.items {
                let origin = turn.sessionID == fork.id ? "own      " : "inherited"
                print("  #\(turn.sequence) \(origin) \(turn.role): \(turn.content.prefix(60))")
            }
        }
        if let crystal = try timeline.crystal(of: ids[0]) {
            print("\ncrystal of session \(ids[0].uuidString.prefix(8)): \(crystal.text)")
        }
        let statistics = try timeline.statistics()
        let grown = statistics.mapSize > 1 << 20 ? " (grown from 1024 KiB as the data needed)" : ""
        print("\n\(statistics.sessions) sessions, \(statistics.turns) turns stored (forks share their parents'), \(statistics.usedBytes / 1024) KiB used, map \(statistics.mapSize / 1024) KiB\(grown)")
        await timeline.close()
    }

    /// Turn `sequence` of a session about `topic`: user and assistant alternate; some assistant
    /// turns call a tool, and the tool's answer follows.
    static func turn(_ sequence: Int, topic: String, random: inout SeededGenerator) -> NewTurn {
        let words = String(repeating: "lorem ipsum ", count: 1 + Int(random.next() % 20))
        switch sequence % 4 {
        case 0: return NewTurn(id: random.uuid(), role: .user, content: "Question \(sequence / 4 + 1) about \(topic): \(words)", inputTokens: 40)
        case 1 where random.next() % 3 == 0:
            let call = Turn.ToolCall(id: "call-\(sequence)", name: "search_code", arguments: "{\"query\":\"\(topic)\"}",
                                     result: "3 matches", isError: false)
            return NewTurn(id: random.uuid(), role: .assistant, content: "Let me look that up.", duration: 0.8,
                           outputTokens: 12, cost: 0.0004, toolCalls: [call])
        case 2: return NewTurn(id: random.uuid(), role: .user, content: "Follow-up on \(topic): \(words)", inputTokens: 25)
        default:
            return NewTurn(id: random.uuid(), role: .assistant, content: "Here is what I found about \(topic): \(words)",
                           duration: 2.5, outputTokens: 180, cost: 0.0021,
                           blocks: [Turn.Block(kind: "thinking", text: "Consider \(topic) step by step.")])
        }
    }
}

/// The demo's time: starts at a fixed date and moves forward as sessions are written, so the
/// store looks like weeks of use and every run prints the same.
final class DemoClock: Sendable {
    private let current: Mutex<Date>
    init(start: Date) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: Double) { current.withLock { $0 += seconds } }
}
