import Foundation
import TestSupport
import Timeline

/// The stores checked in under `Tests/Fixtures/release-1` (record version 1 of sessions and turns,
/// `Double` costs) and `release-2` (version 2: exact costs, fields by name): each written by the
/// code of its release with ``write(to:)``, so that every later format change is tested against a
/// store as that release left it. Everything in it is
/// fixed — ids, times, contents — so the tests know exactly what it holds.
enum FormatFixture {
    /// The directory in the source tree of the fixture written by `release` (1: record version 1;
    /// 2: record version 2, the text form, before the compact form).
    static func directory(release: Int = 1) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/release-\(release)").path
    }

    static let root = UUID(uuidString: "00000000-0000-4000-8000-000000000001")!
    static let fork = UUID(uuidString: "00000000-0000-4000-8000-000000000002")!
    static let archived = UUID(uuidString: "00000000-0000-4000-8000-000000000003")!
    static let checkpoint = UUID(uuidString: "00000000-0000-4000-8000-0000000000c1")!
    /// The root session's turn costs, which a `Double` sum does not add up exactly
    /// (0.0001 + 0.0817 + 0.1 + 0.2 = 0.38180000000000003).
    static let rootCosts = [0.0001, 0.0817, 0.1, 0.2]
    /// The fork's own turn costs.
    static let forkCosts = [0.3, 0.0003]
    static func turnID(_ session: Int, _ sequence: Int) -> UUID {
        UUID(uuidString: String(format: "00000000-0000-4000-8000-%06d%06d", session, sequence))!
    }

    /// Writes the fixture with the code being built (run once per format: see Docs/migrations.md).
    static func write(to path: String) async throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let ticks = LockedCounter()
        let timeline = try TimelineStore(path: path, clock: { start.addingTimeInterval(Double(ticks.next())) })
        _ = try await timeline.createSession(NewSession(id: root, title: "Fixture root", project: "fixture", model: "m1",
                                                        provider: "p", metadata: ["k": "v"]))
        for (index, cost) in rootCosts.enumerated() {
            try await timeline.append(NewTurn(id: turnID(1, index), role: index % 2 == 0 ? .user : .assistant,
                                              content: "root \(index)", duration: 0.25, inputTokens: 10 + index,
                                              outputTokens: 20 + index, cost: Cost(rounding: cost),
                                              toolCalls: index == 1 ? [Turn.ToolCall(id: "c1", name: "search", arguments: "{}")] : []),
                                      to: root)
        }
        _ = try await timeline.fork(session: root, at: 3, branchName: "branch", newID: fork)
        for (index, cost) in forkCosts.enumerated() {
            try await timeline.append(NewTurn(id: turnID(2, 3 + index), role: .user, content: "fork \(3 + index)",
                                              inputTokens: 5, cost: Cost(rounding: cost)), to: fork)
        }
        try await timeline.saveCheckpoint(NewCheckpoint(id: checkpoint, turnSequence: 2, kind: .manual, starred: true,
                                                        description: "cp", state: Data("{\"s\":1}".utf8)), for: root)
        try await timeline.saveCrystal(NewCrystal(text: "summary", tokens: 3), for: root)
        _ = try await timeline.createSession(NewSession(id: archived, title: "Old", project: "fixture"))
        try await timeline.append(NewTurn(id: turnID(3, 0), role: .user, content: "old", cost: 1.5), to: archived)
        try await timeline.updateSession(archived) { $0.archived = true }
        await timeline.close()
    }
}

/// A counter for the fixture's clock.
private final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}

import Testing

@Suite("Format fixture")
struct FormatFixtureWriter {
    /// Writes a new fixture when TIMELINESTORE_WRITE_FIXTURE names a directory that does not exist.
    @Test("write the fixture (only when TIMELINESTORE_WRITE_FIXTURE is set)",
          .enabled(if: ProcessInfo.processInfo.environment["TIMELINESTORE_WRITE_FIXTURE"] != nil))
    func writeFixture() async throws {
        let path = try #require(ProcessInfo.processInfo.environment["TIMELINESTORE_WRITE_FIXTURE"])
        try await FormatFixture.write(to: path)
    }
}
