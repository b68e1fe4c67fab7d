import Foundation
import Timeline

/// What the `timeline-child` workload's acknowledged operations say a store must hold, read from
/// its `try`/`ack` lines (the format is in the child's header comment), and the check of a store
/// against it.
///
/// Each task of the child works on sessions of its own, one operation at a time, so within a
/// task the acknowledgement order is the commit order, and at a crash at most one operation per
/// task is in flight (tried, not acknowledged): it may or may not have happened, never half.
struct WorkloadModel {
    /// The turn contents of each live session's whole history, as acknowledged.
    var histories: [UUID: [String]] = [:]
    /// Sessions whose delete was acknowledged.
    var deleted: Set<UUID> = []
    /// The last acknowledged title of each session that was renamed.
    var titles: [UUID: String] = [:]
    /// Starred checkpoints (acknowledged as saved starred, or starred), with their sessions.
    var starred: [UUID: UUID] = [:]
    /// Every checkpoint acknowledged as saved, with its session.
    var checkpointSessions: [UUID: UUID] = [:]
    /// The highest acknowledged crystal version of each session.
    var crystals: [UUID: Int] = [:]
    /// The operation each task tried and has not acknowledged, as its tokens after the task number.
    var inFlight: [Int: [String]] = [:]
    /// Acknowledged operations, all runs together.
    var acknowledged = 0

    /// The content the child writes for turn `sequence` of `session` (its `content` function).
    static func content(session: UUID, sequence: Int) -> String {
        "\(session.uuidString.prefix(8))-\(sequence) " + String(repeating: "x", count: sequence * 37 % 400)
    }

    /// Reads one output line of the child.
    mutating func read(_ line: Substring) {
        let tokens = line.split(separator: " ").map(String.init)
        guard tokens.count >= 3, let task = Int(tokens[1]) else { return }
        let operation = Array(tokens[2...])
        if tokens[0] == "try" {
            inFlight[task] = operation
            return
        }
        guard tokens[0] == "ack" else { return }
        inFlight[task] = nil
        acknowledged += 1
        apply(operation)
    }

    /// Applies an operation that is known to have happened.
    mutating func apply(_ operation: [String]) {
        func id(_ index: Int) -> UUID { UUID(uuidString: operation[index])! }
        switch operation[0] {
        case "create":
            histories[id(1)] = []
        case "append":
            let session = id(1)
            let start = histories[session]?.count ?? 0
            histories[session, default: []] += (start..<start + Int(operation[2])!).map { Self.content(session: session, sequence: $0) }
        case "pair":
            for session in [id(1), id(2)] {
                let next = histories[session]?.count ?? 0
                histories[session, default: []].append(Self.content(session: session, sequence: next))
            }
        case "fork":
            histories[id(1)] = Array((histories[id(2)] ?? []).prefix(Int(operation[3])!))
        case "title":
            titles[id(1)] = operation[2]
        case "delete":
            histories[id(1)] = nil
            deleted.insert(id(1))
        case "checkpoint":
            checkpointSessions[id(2)] = id(1)
            if operation[3] == "1" { starred[id(2)] = id(1) }
        case "star":
            if let session = checkpointSessions[id(1)] { starred[id(1)] = session }
        case "crystal":
            if operation.count >= 3 { crystals[id(1)] = max(crystals[id(1)] ?? 0, Int(operation[2])!) }
        default:
            break
        }
    }

    /// The operation in flight on `session`, if any.
    func inFlight(on session: UUID) -> [String]? {
        inFlight.values.first { $0.count >= 2 && ($0[1] == session.uuidString || ($0[0] == "pair" && $0[2] == session.uuidString)) }
    }

    /// Everything in `timeline` that contradicts the model: a lost or half-applied operation.
    /// Then adopts what the in-flight operations did, so that the next check starts exact.
    mutating func verify(_ timeline: TimelineStore) async throws -> [String] {
        var problems: [String] = []
        for (session, expected) in histories.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            let pending = inFlight(on: session)
            guard let stored = try timeline.session(session) else {
                if pending?[0] != "delete" { problems.append("session \(session) with \(expected.count) acknowledged turns is missing") }
                continue
            }
            let history = try timeline.turns(of: session).items.map(\.content)
            var allowed = [expected]
            if let pending, pending[0] == "append" {
                allowed.append(expected + (expected.count..<expected.count + Int(pending[2])!).map { Self.content(session: session, sequence: $0) })
            }
            if let pending, pending[0] == "pair" {
                allowed.append(expected + [Self.content(session: session, sequence: expected.count)])
            }
            if !allowed.contains(history) {
                problems.append("session \(session): \(history.count) turns stored, \(expected.count) acknowledged\(pending.map { " (in flight: \($0.joined(separator: " ")))" } ?? ""); first difference at turn \(zip(history, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(history.count, expected.count))")
            }
            if let title = titles[session], stored.title != title, !(pending?[0] == "title" && pending?[2] == stored.title) {
                problems.append("session \(session): title \(stored.title), acknowledged \(title)")
            }
            if let version = crystals[session], try timeline.crystal(of: session, version: version) == nil {
                problems.append("session \(session): acknowledged crystal version \(version) is missing")
            }
        }
        for session in deleted where try timeline.session(session) != nil {
            problems.append("session \(session) was deleted (acknowledged) but is still there")
        }
        for (checkpoint, session) in starred where histories[session] != nil && inFlight(on: session)?[0] != "delete" {
            if try timeline.checkpoint(checkpoint)?.starred != true {
                problems.append("starred checkpoint \(checkpoint) of session \(session) is missing or unstarred")
            }
        }
        problems += try timeline.check().map { "check: \($0)" }
        // Every operation acknowledged above has its entry in the log, and no entry lacks its change.
        problems += try changeLogProblems(timeline).map { "change log: \($0)" }
        try await adoptInFlight(timeline)
        return problems
    }

    /// Applies each in-flight operation that the store shows happened, then forgets them all.
    private mutating func adoptInFlight(_ timeline: TimelineStore) async throws {
        for (_, operation) in inFlight.sorted(by: { $0.key < $1.key }) {
            func id(_ index: Int) -> UUID { UUID(uuidString: operation[index])! }
            let happened: Bool
            switch operation[0] {
            case "create": happened = try timeline.session(id(1)) != nil
            case "fork": happened = try timeline.session(id(1)) != nil
            case "append", "pair": happened = try timeline.session(id(1))?.turnCount ?? 0 > (histories[id(1)]?.count ?? 0)
            case "delete": happened = try timeline.session(id(1)) == nil
            case "title": happened = try timeline.session(id(1))?.title == operation[2]
            case "checkpoint": happened = try timeline.checkpoint(id(2)) != nil
            case "star": happened = try timeline.checkpoint(id(1))?.starred == true
            case "crystal":
                if let current = try timeline.crystal(of: id(1)) { crystals[id(1)] = max(crystals[id(1)] ?? 0, current.version) }
                happened = false
            default: happened = false
            }
            if happened { apply(operation) }
        }
        inFlight = [:]
    }
}
