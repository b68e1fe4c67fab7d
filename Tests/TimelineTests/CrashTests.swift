import TestSupport
import Foundation
import Testing
import Timeline

@Suite("Crashes")
struct CrashTests {
    @Test("a writer killed mid-append loses no acknowledged turn and leaves a consistent store, three times over")
    func killedWriter() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/timeline"
            var acknowledged: [UUID: UInt64] = [:]
            for _ in 0..<3 {
                let run = try runUntilKilled("timeline-child", [path], afterLines: 300)
                #expect(run.killed)
                for line in run.output.split(separator: "\n") {
                    let parts = line.split(separator: " ")
                    guard parts.count == 3, parts[0] == "ack", let id = UUID(uuidString: String(parts[1])), let sequence = UInt64(parts[2]) else { continue }
                    acknowledged[id] = max(acknowledged[id] ?? 0, sequence)
                }
                let timeline = try TimelineStore(path: path)
                for (id, last) in acknowledged {
                    let session = try #require(try await timeline.session(id))
                    #expect(session.turnCount > last, "session \(id) lost acknowledged turns")
                    #expect(try await timeline.turns(of: id).items.map(\.sequence) == Array(0..<session.turnCount))
                }
                #expect(try timeline.check().isEmpty)
                await timeline.close()
            }
            #expect(acknowledged.count == 12)
        }
    }
}
