import TestSupport
import Foundation
import Testing
import Timeline
import TimelineLMDB

@Suite("Crashes")
struct CrashTests {
    /// Kills per run: 50 in CI; `TIMELINESTORE_CRASH_KILLS=N` for the long mode (Docs/reliability.md).
    static let kills = ProcessInfo.processInfo.environment["TIMELINESTORE_CRASH_KILLS"].flatMap(Int.init) ?? 50

    /// With the default durability, and with the write-ahead log: then the store is reopened
    /// with the log in odd rounds (a checkpoint of what the killed writer left) and without it in
    /// even ones (the log folded into `data.mdb` and removed, then created again by the next writer).
    @Test("a writer doing every kind of write, SIGKILLed at random moments: every acknowledged operation is there with its change-log entry, nothing half-applied, no entry without its change, check clean",
          arguments: ["durable", "wal"])
    func killedWriter(durability: String) async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/timeline"
            var model = WorkloadModel()
            var random = SeededGenerator(seed: 2026)
            var killed = 0
            for round in 0..<Self.kills {
                let lines = 10 + Int(random.next() % 150)
                let run = try runUntilKilled("timeline-child", [path, "--seed", "\(round + 1)", "--durability", durability], afterLines: lines)
                if run.killed { killed += 1 }
                for line in run.output.split(separator: "\n") { model.read(line) }
                let reopen: Environment.Durability = durability == "wal" && round % 2 == 1 ? .writeAheadLog : .durable
                let timeline = try TimelineStore(path: path, configuration: .init(durability: reopen))
                let problems = try await model.verify(timeline)
                #expect(problems.isEmpty, "after kill \(round + 1): \(problems.prefix(5))")
                await timeline.close()
                if !problems.isEmpty { break }
            }
            #expect(killed == Self.kills)
            #expect(model.acknowledged > Self.kills * 5)
            print("crash harness (\(durability)): \(killed) kills, \(model.acknowledged) acknowledged operations verified, \(model.histories.count) live sessions")
        }
    }

    @Test("the verifier fails when one byte of one acknowledged turn is changed")
    func verifierCatchesOneByte() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/timeline"
            var model = WorkloadModel()
            let run = try runUntilKilled("timeline-child", [path, "--seed", "7"], afterLines: 80)
            for line in run.output.split(separator: "\n") { model.read(line) }
            let timeline = try TimelineStore(path: path)
            var copy = model
            #expect(try await copy.verify(timeline).isEmpty)
            // One byte of one acknowledged turn, rewritten in place (same length, valid UTF-8).
            let (session, history) = try #require(model.histories.first { !$0.value.isEmpty })
            let stored = try timeline.turns(of: session).items[history.count - 1]
            var changed = stored
            changed.content = String(changed.content.dropFirst()) + "#"
            try timeline.store.write { txn in try timeline.turnRecords.put(changed, in: txn) }
            var again = model
            let problems = try await again.verify(timeline)
            #expect(problems.contains { $0.contains("session \(session)") }, "\(problems)")
            await timeline.close()
        }
    }

    @Test("kvtool load killed at random moments: the target is absent or holds the whole dump")
    func killedLoad() throws {
        try withTemporaryDirectory { dir in
            let source = dir + "/source"
            #expect(try runHelper("kvtool", ["demo", source, "--sessions", "40", "--turns-per-session", "60"]) == 0)
            let dumpPath = dir + "/dump.jsonl"
            #expect(try runHelper("kvtool", ["dump", source, "--output", dumpPath]) == 0)
            let expected = try TimelineStore(path: source, configuration: .init(readOnly: true)).statistics()
            var random = SeededGenerator(seed: 27)
            var complete = 0, absent = 0
            // The kills land at random moments up to 1.5 times as long as a whole load takes on this
            // machine right now (measured first, and checked like the others), so that both outcomes
            // occur however fast or loaded the machine is.
            var loadNanoseconds: UInt64 = 0
            for round in -1..<10 {
                let target = dir + "/target\(round)"
                let process = Process()
                process.executableURL = URL(fileURLWithPath: try helperExecutable("kvtool"))
                process.arguments = ["load", target, "--input", dumpPath]
                process.standardError = FileHandle.nullDevice
                let started = DispatchTime.now().uptimeNanoseconds
                try process.run()
                if round < 0 {
                    process.waitUntilExit()
                    loadNanoseconds = DispatchTime.now().uptimeNanoseconds - started
                } else {
                    usleep(useconds_t(random.next() % max(1, loadNanoseconds * 3 / 2 / 1_000)))
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                }
                if FileManager.default.fileExists(atPath: target + "/data.mdb") {
                    let timeline = try TimelineStore(path: target, configuration: .init(readOnly: true))
                    #expect(try timeline.check().isEmpty, "round \(round)")
                    let loaded = try timeline.statistics()
                    #expect(loaded.sessions == expected.sessions && loaded.turns == expected.turns && loaded.checkpoints == expected.checkpoints,
                            "round \(round): a partial load")
                    complete += 1
                } else {
                    absent += 1
                }
            }
            print("kvtool load kills: \(complete) complete, \(absent) absent")
            #expect(complete > 0 && absent > 0, "the kills should land both before and after the load finished")
        }
    }
}
