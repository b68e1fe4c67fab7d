import TestSupport
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing
import Timeline

@Suite("Checkpoints and crystals")
struct CheckpointCrystalTests {
    @Test("checkpoints: save, list newest first with pages, find by id, star, restore")
    func checkpoints() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession()
            var saved: [Checkpoint] = []
            for index in 0..<12 {
                try await timeline.append(sampleTurns(1), to: session.id)
                saved.append(try await timeline.saveCheckpoint(NewCheckpoint(kind: .auto, description: "cp\(index)", state: Data([UInt8(index)])), for: session.id))
            }
            #expect(saved.map(\.number) == Array(0..<12))
            #expect(saved.map(\.turnSequence) == Array(1...12))
            var listed: [Checkpoint] = []
            var page = try timeline.checkpoints(of: session.id, limit: 5)
            listed += page.items
            while let next = page.next {
                page = try timeline.checkpoints(of: session.id, limit: 5, after: next)
                listed += page.items
            }
            #expect(listed == saved.reversed())
            #expect(try await timeline.checkpoint(saved[3].id) == saved[3])
            #expect(try await timeline.checkpoint(UUID()) == nil)

            let starred = try await timeline.setStarred(true, checkpoint: saved[3].id)
            #expect(starred.starred)
            #expect(try await timeline.checkpoint(saved[3].id)?.starred == true)

            let restored = try await timeline.restore(checkpoint: saved[3].id)
            #expect(restored.session.parentID == session.id && restored.session.turnCount == 4)
            #expect(restored.checkpoint.state == Data([3]) && restored.checkpoint.kind == .system)
            #expect(try await timeline.checkpoints(of: restored.session.id).items == [restored.checkpoint])
            #expect(try await history(timeline, session.id).count == 12)

            let duplicate = await #expect(throws: TimelineError.self) { try await timeline.saveCheckpoint(NewCheckpoint(id: saved[0].id), for: session.id) }
            #expect(duplicate == .checkpointExists(saved[0].id))
            let past = await #expect(throws: TimelineError.self) { try await timeline.saveCheckpoint(NewCheckpoint(turnSequence: 13), for: session.id) }
            #expect(past == .sequenceOutOfRange(sequence: 13, count: 12))
            let missing = UUID()
            let notFound = await #expect(throws: TimelineError.self) { try await timeline.restore(checkpoint: missing) }
            #expect(notFound == .checkpointNotFound(missing))
        }
    }

    @Test("prune deletes old checkpoints and keeps starred ones")
    func prune() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession()
            let start = Date(timeIntervalSince1970: 1_700_000_000)
            var checkpoints: [Checkpoint] = []
            for day in 0..<40 {
                let created = start.addingTimeInterval(Double(day) * 86_400)
                checkpoints.append(try await timeline.saveCheckpoint(NewCheckpoint(starred: day % 10 == 0, created: created), for: session.id))
            }
            let cutoff = start.addingTimeInterval(30 * 86_400)
            #expect(try await timeline.pruneCheckpoints(olderThan: cutoff) == 27)
            let left = try timeline.checkpoints(of: session.id).items.map(\.id)
            let expected = checkpoints.enumerated().filter { $0.offset >= 30 || $0.offset % 10 == 0 }.map(\.element.id)
            #expect(Set(left) == Set(expected))
            #expect(try await timeline.pruneCheckpoints(olderThan: cutoff, keepStarred: false) == 3)
            #expect(try await timeline.checkpoints(of: session.id).items.count == 10)
        }
    }

    @Test("crystals: a new one becomes current, earlier versions stay addressable")
    func crystals() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession()
            #expect(try await timeline.crystal(of: session.id) == nil)
            try await timeline.append(sampleTurns(10), to: session.id)
            let first = try await timeline.saveCrystal(NewCrystal(text: "first", tokens: 12), for: session.id)
            #expect(first.version == 0 && first.coveredTurns == 0..<10)
            try await timeline.append(sampleTurns(5), to: session.id)
            let second = try await timeline.saveCrystal(NewCrystal(text: "second", coveredTurns: 5..<15), for: session.id)
            #expect(try await timeline.crystal(of: session.id) == second)
            #expect(try await timeline.crystal(of: session.id, version: 0) == first)
            #expect(try await timeline.crystals(of: session.id) == [first, second])
            let past = await #expect(throws: TimelineError.self) { try await timeline.saveCrystal(NewCrystal(text: "x", coveredTurns: 0..<16), for: session.id) }
            #expect(past == .sequenceOutOfRange(sequence: 16, count: 15))
            let negative = await #expect(throws: TimelineError.self) { try await timeline.saveCrystal(NewCrystal(text: "x", coveredTurns: -1..<2), for: session.id) }
            #expect(negative == .sequenceOutOfRange(sequence: -1, count: 15) && negative?.description.contains("is negative") == true)
            #expect(try await timeline.crystals(of: session.id) == [first, second])
            let missing = UUID()
            await #expect(throws: TimelineError.self) { try await timeline.crystal(of: missing) }
        }
    }
}
