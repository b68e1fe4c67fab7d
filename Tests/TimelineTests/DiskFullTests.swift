import TestSupport
import Foundation
import TimelineLMDB
import Testing
import Timeline

@Suite("A full disk")
struct DiskFullTests {
    /// Mounts a tmpfs of `megabytes` at a new directory and runs `body` there; returns why not when
    /// it cannot (not root, no mount permission in this container).
    static func withSmallDisk(megabytes: Int, _ body: (String) async throws -> Void) async throws -> String? {
        guard getuid() == 0 else { return "not running as root: cannot mount a tmpfs" }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("timelinestore-full-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", dir]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { return "mount -t tmpfs failed (status \(mount.terminationStatus)): no mount permission here" }
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = ["-l", dir]
            try? umount.run()
            umount.waitUntilExit()
        }
        try await body(dir)
        return nil
    }

    /// With the write-ahead log, a full disk also stops the log's growth, and the checkpoints that
    /// run beside the commits meet it.
    @Test("writes fail with noSpace, every acknowledged write is kept, writing resumes once space is freed, check clean",
          arguments: [Environment.Durability.durable, .writeAheadLog])
    func diskFull(durability: Environment.Durability) async throws {
        let skipped = try await Self.withSmallDisk(megabytes: 8) { dir in
            let path = dir + "/timeline"
            // A filler file takes most of the disk; deleting it is "freeing space".
            try Data(count: 3 << 20).write(to: URL(fileURLWithPath: dir + "/filler"))
            let configuration = Environment.Configuration(durability: durability)
            let timeline = try TimelineStore(path: path, configuration: configuration)
            let session = try await timeline.createSession(NewSession(title: "filling"))
            var acknowledged = 0
            var failure: (any Error)?
            // Random letters: LZ4 cannot shrink them, so each turn takes its 60 KB on the disk.
            var random = SeededGenerator(seed: 60)
            let letters = Array("abcdefghijklmnopqrstuvwxyz")
            let content = String((0..<60_000).map { _ in letters[Int.random(in: 0..<letters.count, using: &random)] })
            while failure == nil && acknowledged < 1_000 {
                do {
                    try await timeline.append(NewTurn(role: .user, content: "\(acknowledged) " + content), to: session.id)
                    acknowledged += 1
                } catch {
                    failure = error
                }
            }
            let error = try #require(failure as? LMDBError, "\(String(describing: failure))")
            #expect(error.code == .noSpace, "\(error)")
            #expect(error.description.contains("free disk space"))
            #expect(acknowledged > 10)
            // Every acknowledged turn is there; the failed append left nothing.
            #expect(try await timeline.session(session.id)?.turnCount == acknowledged)
            try FileManager.default.removeItem(atPath: dir + "/filler")
            // Space freed: writing resumes on the same open store.
            try await timeline.append(NewTurn(role: .user, content: "after"), to: session.id)
            #expect(try await timeline.turns(of: session.id).items.map(\.content).last == "after")
            #expect(try timeline.check().isEmpty)
            await timeline.close()
            let reopened = try TimelineStore(path: path, configuration: configuration)
            #expect(try await reopened.session(session.id)?.turnCount == acknowledged + 1)
            #expect(try reopened.check().isEmpty)
            await reopened.close()
        }
        if let skipped { print("disk-full test not run: \(skipped)") }
    }

    @Test("a store on a read-only file system: a writable open is .readOnlyFileSystem with advice, a read-only open reads")
    func readOnlyFileSystem() async throws {
        let skipped = try await Self.withSmallDisk(megabytes: 8) { dir in
            let path = dir + "/timeline"
            do {
                let timeline = try TimelineStore(path: path)
                let session = try await timeline.createSession(NewSession(title: "kept"))
                try await timeline.append(NewTurn(role: .user, content: "hello"), to: session.id)
                await timeline.close()
            }
            let remount = Process()
            remount.executableURL = URL(fileURLWithPath: "/bin/mount")
            remount.arguments = ["-o", "remount,ro", dir]
            try remount.run()
            remount.waitUntilExit()
            try #require(remount.terminationStatus == 0)
            // It used to be "LMDB error code(30)", without advice.
            let error = #expect(throws: LMDBError.self) { try TimelineStore(path: path) }
            #expect(error?.code == .readOnlyFileSystem && error?.recovery?.contains("readOnly: true") == true, "\(String(describing: error))")
            let reader = try TimelineStore(path: path, configuration: .init(readOnly: true))
            #expect(try reader.listSessions(limit: 5).items.map(\.title) == ["kept"])
            await reader.close()
        }
        if let skipped { print("read-only file system test not run: \(skipped)") }
    }
}
