import TestSupport
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Synchronization
import Timeline

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
