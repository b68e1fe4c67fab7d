import Foundation
import BenchFixtures

/// One turn as every backend stores it.
struct TurnData {
    var role: String
    var content: String
    var created: Date
    var inputTokens: Int
    var outputTokens: Int
    var cost: Double
    /// A tool call on some assistant turns: name and arguments.
    var toolName: String?
    var toolArguments: String?
}

/// The synthetic timeline every backend is loaded with: seeded, so every backend and every run
/// holds the same data.
///
/// Session lengths are skewed (Pareto, most short, a few thousands of turns long) and sum to
/// exactly `turnCount`; half the sessions belong to `project-0` (so its listing has 50 pages of
/// 100 at the default size), the rest to nine more projects; 5 % of the sessions are forks of an
/// earlier one; one chain of five forks, each of the one before, holds the "deep fork". Turn
/// content is 50 B–4 KiB (log-uniform), with 1 % tool outputs of 10–100 KiB. Each session has a
/// checkpoint every 50 turns and a crystal from 20 turns on.
struct Fixture {
    struct Session {
        var id: UUID
        var title: String
        var project: String
        /// Index of the parent session, for a fork.
        var parent: Int?
        /// For a fork: how many of the parent's turns it inherits.
        var branchPoint: Int
        /// Turns written under this session's own id.
        var ownTurns: Int
        /// Turns of the whole history (inherited ones included).
        var historyLength: Int { branchPoint + ownTurns }
    }

    let seed: UInt64
    let turnCount: Int
    var sessions: [Session] = []
    /// The deepest fork of the chain (a fork of a fork… five deep).
    var deepFork = 0
    /// A session of about 1,000 turns (its own), and sessions of at least 100.
    var thousandTurnSession = 0
    var longSessions: [Int] = []
    static let projects = (0..<10).map { "project-\($0)" }
    /// Text the contents are cut from: made-up prose that compresses as English does (`Prose`).
    static let text = Prose.text

    init(turns: Int, seed: UInt64 = 2026) {
        self.seed = seed
        turnCount = turns
        var random = SplitMix64(state: seed)
        let count = max(turns / 100, 10)
        // Pareto(α = 1.5) weights, scaled so that the lengths sum to `turns`.
        let weights = (0..<count).map { _ in min(1 / pow(max(random.unit(), 1e-9), 1 / 1.5), 400) }
        let total = weights.reduce(0, +)
        var lengths = weights.map { max(1, Int(($0 / total * Double(turns)).rounded())) }
        var difference = turns - lengths.reduce(0, +)
        var index = 0
        while difference != 0 {
            let step = difference > 0 ? 1 : -1
            if lengths[index % count] + step >= 1 { lengths[index % count] += step; difference -= step }
            index += 1
        }
        for (index, length) in lengths.enumerated() {
            let project = random.unit() < 0.5 ? Self.projects[0] : Self.projects[1 + random.below(9)]
            var session = Session(id: Self.uuid(&random), title: "Session \(index)", project: project, parent: nil, branchPoint: 0, ownTurns: length)
            // 5 % forks of an earlier root session, at a random point of its history.
            if index > 10, random.unit() < 0.05 {
                let parent = random.below(index)
                if sessions[parent].parent == nil {
                    session.parent = parent
                    session.project = sessions[parent].project
                    session.branchPoint = random.below(sessions[parent].historyLength + 1)
                }
            }
            sessions.append(session)
        }
        // The deep fork: a chain of five forks hanging off the longest root session.
        var parent = lengths.indices.filter { sessions[$0].parent == nil }.max { lengths[$0] < lengths[$1] } ?? 0
        for depth in 1...5 {
            // Taken from the turns of the last sessions, so the total stays exact.
            let own = 20
            if let donor = sessions.indices.last(where: { sessions[$0].ownTurns > own + 1 }) { sessions[donor].ownTurns -= own }
            sessions.append(Session(id: Self.uuid(&random), title: "Deep fork \(depth)", project: sessions[parent].project, parent: parent,
                                    branchPoint: sessions[parent].historyLength - 5, ownTurns: own))
            parent = sessions.count - 1
        }
        deepFork = parent
        thousandTurnSession = sessions.indices.min { abs(sessions[$0].ownTurns - 1_000) < abs(sessions[$1].ownTurns - 1_000) } ?? 0
        longSessions = sessions.indices.filter { sessions[$0].parent == nil && sessions[$0].ownTurns >= 100 }
    }

    static func uuid(_ random: inout SplitMix64) -> UUID {
        var bytes = (0..<16).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// The start time of the timeline; turn `n` of the whole fixture is `n` seconds later.
    static let epoch = Date(timeIntervalSince1970: 1_780_000_000)

    /// Turn `sequence` of session `index` (one of its own): derived from the seed, never stored.
    func turn(session index: Int, sequence: Int) -> TurnData {
        var random = SplitMix64(state: seed ^ (UInt64(index) &* 0x9E37_79B9) ^ (UInt64(sequence) &* 0x85EB_CA6B))
        let size = random.unit() < 0.01 ? 10_240 + random.below(92_160) : Int(exp(log(50.0) + random.unit() * log(4096.0 / 50.0)))
        let start = random.below(Self.text.count - size)
        let isTool = random.unit() < 0.25
        return TurnData(
            role: sequence % 2 == 0 ? "user" : "assistant",
            content: String(decoding: Self.text[start..<start + size], as: UTF8.self),
            created: Self.epoch.addingTimeInterval(Double(index * 100 + sequence)),
            inputTokens: size / 4, outputTokens: sequence % 2 == 0 ? 0 : size / 4, cost: Double(size) * 0.000_002,
            toolName: isTool ? "search" : nil, toolArguments: isTool ? #"{"query":"deployment plan"}"# : nil
        )
    }

    /// A session index for a skewed (Zipf-like) choice among the sessions of ≥ 100 turns.
    func skewedLongSession(_ random: inout SplitMix64) -> Int {
        let rank = Int(Double(longSessions.count) * pow(random.unit(), 3))
        return longSessions[min(rank, longSessions.count - 1)]
    }
}
