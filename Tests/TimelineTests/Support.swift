import TestSupport
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Synchronization
import Timeline
import TimelineCBOR
import Testing

/// A clock that moves one millisecond forward every time it is read: distinct, ordered
/// activity times without sleeping.
final class SteppingClock: Sendable {
    private let ticks = Atomic<Int64>(0)
    let start: Date

    init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { self.start = start }

    func now() -> Date {
        let tick = ticks.add(1, ordering: .relaxed).newValue
        return start.addingTimeInterval(Double(tick) / 1000)
    }
}

/// Opens a timeline in `dir` with a stepping clock (and `.noSync` unless asked: tests check
/// behaviour, not fsync).
func openTimeline(_ dir: String, clock: SteppingClock = SteppingClock(), durability: Environment.Durability = .noSync) throws -> TimelineStore {
    try TimelineStore(path: dir + "/timeline", configuration: .init(durability: durability), clock: { clock.now() })
}

/// `count` user/assistant turns with distinct content.
func sampleTurns(_ count: Int, tag: String = "t") -> [NewTurn] {
    (0..<count).map { index in
        NewTurn(role: index % 2 == 0 ? .user : .assistant, content: "\(tag) \(index)", inputTokens: 10, outputTokens: 20, cost: 0.5)
    }
}

/// The contents of a session's whole history, in order.
func history(_ timeline: TimelineStore, _ id: UUID) async throws -> [String] {
    try timeline.turns(of: id).items.map(\.content)
}

extension Sequence {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

/// Where the change log and the store disagree: the log replayed onto an empty model — sessions
/// with their turn counts, checkpoints, crystals — must give what the store holds, so there is no
/// committed change without its entry and no entry without its change. Positions must be
/// gapless from the oldest kept entry (which must be 1: nothing trimmed).
func changeLogProblems(_ timeline: TimelineStore) throws -> [String] {
    let log = try timeline.changes(limit: .max)
    var problems: [String] = []
    if log.map(\.position) != Array(1..<(log.count + 1)) { problems.append("log positions are not 1…\(log.count) without gaps") }
    var turnCounts: [UUID: Int] = [:]
    var checkpoints: [UUID: Set<UUID>] = [:]
    var crystals: [UUID: Set<Int>] = [:]
    var imported: Set<UUID> = []
    for change in log {
        let session = change.session
        switch change.kind {
        case .sessionCreated: turnCounts[session] = change.sequences?.upperBound ?? 0
        case .turnsAppended, .sessionImported:
            guard let sequences = change.sequences else { problems.append("position \(change.position): no sequences"); continue }
            if change.kind == .turnsAppended, turnCounts[session] != sequences.lowerBound {
                problems.append("position \(change.position): turns \(sequences) appended to \(session), which had \(turnCounts[session].map(String.init) ?? "no session")")
            }
            if change.kind == .sessionImported { imported.insert(session) }
            turnCounts[session] = sequences.upperBound
        case .sessionDeleted:
            turnCounts[session] = nil
            checkpoints[session] = nil
            crystals[session] = nil
        case .checkpointSaved: if let id = change.checkpoint { checkpoints[session, default: []].insert(id) }
        case .checkpointDeleted: if let id = change.checkpoint { checkpoints[session]?.remove(id) }
        case .crystalSaved: if let version = change.number { crystals[session, default: []].insert(version) }
        case .sessionUpdated, .sessionReparented, .checkpointStarred: break
        }
    }
    let stored = try timeline.listSessions(filter: SessionFilter(archived: nil), limit: .max).items
    let storedCounts = Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0.turnCount) })
    for id in Set(storedCounts.keys).union(turnCounts.keys) where storedCounts[id] != turnCounts[id] {
        problems.append("session \(id): \(storedCounts[id].map { "\($0) turns" } ?? "absent") in the store, \(turnCounts[id].map { "\($0) turns" } ?? "absent") by the log")
    }
    for session in stored where !imported.contains(session.id) {
        let ids = Set(try timeline.checkpoints(of: session.id).items.map(\.id))
        if ids != checkpoints[session.id] ?? [] { problems.append("session \(session.id): \(ids.count) checkpoints in the store, \(checkpoints[session.id]?.count ?? 0) by the log") }
        let versions = Set(try timeline.crystals(of: session.id).map(\.version))
        if versions != crystals[session.id] ?? [] { problems.append("session \(session.id): crystals \(versions.sorted()) in the store, \(crystals[session.id]?.sorted() ?? []) by the log") }
    }
    return problems
}

/// Rewrites the CBOR record stored under `key` in `collection` with `edit`, its envelope kept,
/// around the collection (no index entry moves): how the tests damage a record.
func editStoredRecord<Record>(_ timeline: TimelineStore, _ collection: DocumentCollection<Record>, key: KeyBytes, version: Int,
                              _ edit: (inout CBORValue) -> Void) throws {
    try timeline.store.write { txn in
        let header = Envelope.header(recordVersion: version)
        let stored = try #require(try collection.database.get(key.bytes, in: txn))
        var record = try CBORValue(decoding: Array(stored.dropFirst(header.count)))
        edit(&record)
        try collection.database.put(header + record.encoded(), for: key.bytes, in: txn)
    }
}
