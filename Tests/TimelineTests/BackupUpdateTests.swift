import Foundation
import TestSupport
import Testing
import Timeline
import TimelineLMDB

@Suite("Incremental backups: bringing a copy up to date from the change log")
struct BackupUpdateTests {
    /// Every entry of every database of the store at `path`, by database name.
    static func contents(_ environment: Environment) throws -> [String: [[UInt8]: [UInt8]]] {
        var result: [String: [[UInt8]: [UInt8]]] = [:]
        for name in try environment.databaseNames() {
            let database = try environment.openDatabase(name, create: false)
            var entries: [[UInt8]: [UInt8]] = [:]
            try environment.read { txn in try database.forEachEntry(in: txn) { entry in entries[Array(entry.key)] = Array(entry.value) } }
            result[name] = entries
        }
        return result
    }

    static func contents(ofStoreAt path: String) throws -> [String: [[UInt8]: [UInt8]]] {
        let environment = try Environment(path: path, configuration: .init(readOnly: true))
        defer { try? environment.close() }
        return try contents(environment)
    }

    /// Where the two stores differ: database names, then keys, at most a few.
    static func differences(_ mine: [String: [[UInt8]: [UInt8]]], _ theirs: [String: [[UInt8]: [UInt8]]]) -> [String] {
        var found: [String] = []
        for name in Set(mine.keys).union(theirs.keys).sorted() {
            let (a, b) = (mine[name] ?? [:], theirs[name] ?? [:])
            for key in Set(a.keys).union(b.keys) where a[key] != b[key] {
                found.append("\(name): key \(key.map { String(format: "%02x", $0) }.joined()) \(a[key] == nil ? "missing" : b[key] == nil ? "extra" : "differs")")
            }
        }
        return Array(found.prefix(8))
    }

    @Test("random operations of every kind, with updates at random points: the backup always equals a full copy, entry for entry")
    func randomOperations() async throws {
        try await withTemporaryDirectory { dir in
            var random = SeededGenerator(seed: 13)
            let timeline = try openTimeline(dir)
            // One backup starts from the empty store (position 0), one is copied half-way through.
            try timeline.environment.copy(to: dir + "/early")
            try await timeline.acknowledge(0, consumer: "early")          // trimming keeps what its updates need
            var late: String?
            var sessions: [UUID] = []
            var checkpoints: [UUID] = []
            var updates = 0
            var kinds: Set<Change.Kind> = []
            for step in 0..<400 {
                let pick = sessions.isEmpty ? 0 : Int.random(in: 0..<100, using: &random)
                let session = sessions.isEmpty ? nil : sessions[Int.random(in: 0..<sessions.count, using: &random)]
                switch (pick, session) {
                case (0..<8, _), (_, nil):
                    sessions.append(try await timeline.createSession(NewSession(title: "s\(step)", project: ["a", "b", nil][step % 3])).id)
                case (8..<45, let id?):
                    let turns = sampleTurns(Int.random(in: 1...3, using: &random), tag: "\(step)")
                    try await timeline.append(turns, to: id)
                case (45..<52, let id?):
                    try await timeline.updateSession(id) { $0.title = "renamed \(step)"; $0.archived = step % 4 == 0 }
                case (52..<60, let id?):
                    let count = try #require(try timeline.session(id)).turnCount
                    sessions.append(try await timeline.fork(session: id, at: Int.random(in: 0...count, using: &random)).id)
                case (60..<68, let id?):
                    checkpoints.append(try await timeline.saveCheckpoint(NewCheckpoint(description: "c\(step)"), for: id).id)
                case (68..<72, _) where !checkpoints.isEmpty:
                    let checkpoint = checkpoints[Int.random(in: 0..<checkpoints.count, using: &random)]
                    if try timeline.checkpoint(checkpoint) != nil { _ = try await timeline.setStarred(step % 2 == 0, checkpoint: checkpoint) }
                case (72..<75, _) where !checkpoints.isEmpty:
                    let checkpoint = checkpoints[Int.random(in: 0..<checkpoints.count, using: &random)]
                    if try timeline.checkpoint(checkpoint) != nil { sessions.append(try await timeline.restore(checkpoint: checkpoint).session.id) }
                case (75..<78, _):
                    _ = try await timeline.pruneCheckpoints(olderThan: Date(timeIntervalSince1970: 1_800_000_000 + Double(step) / 2000))
                case (78..<84, let id?):
                    try await timeline.saveCrystal(NewCrystal(text: "summary \(step)"), for: id)
                case (84..<90, let id?):
                    try await timeline.deleteSession(id)
                    sessions.removeAll { $0 == id }
                case (90..<94, let id?):
                    let document = try timeline.read { tx in try tx.exportSession(id, includeInherited: step % 2 == 0) }
                    let replace = document.session.parentID == nil && step % 2 == 0
                    let imported = try await timeline.write { tx in
                        try tx.importSession(document, options: ImportOptions(newIDs: !replace, replace: replace))
                    }
                    if !replace { sessions.append(imported.id) }
                case (94..<96, _):
                    try await timeline.acknowledge(try timeline.currentPosition(), consumer: "c\(step % 3)")
                    try await timeline.trimChanges(keepingAtMost: 1_000)
                default:
                    let previous = try timeline.read { tx in try BackupUpdateTests.position(ofStoreAt: dir + "/early") }
                    kinds.formUnion(try timeline.changes(after: previous, limit: .max).map(\.kind))
                    let update = try timeline.updateBackup(at: dir + "/early")
                    #expect(update.previousPosition == previous)
                    #expect(update.position == (try timeline.currentPosition()))
                    updates += 1
                    let differences = Self.differences(try Self.contents(timeline.environment), try Self.contents(ofStoreAt: dir + "/early"))
                    #expect(differences == [], "after step \(step)")
                    try await timeline.acknowledge(update.position, consumer: "early")
                }
                if step == 200 {
                    late = dir + "/late"
                    let position = try timeline.currentPosition()            // nothing else writes meanwhile
                    try timeline.environment.copy(to: late!, compact: true)
                    try await timeline.acknowledge(position, consumer: "late")
                }
            }
            try timeline.updateBackup(at: dir + "/early")
            try timeline.updateBackup(at: try #require(late))
            let expected = try Self.contents(timeline.environment)
            #expect(Self.differences(expected, try Self.contents(ofStoreAt: dir + "/early")) == [])
            #expect(Self.differences(expected, try Self.contents(ofStoreAt: late!)) == [])
            #expect(updates > 5 && kinds == Set(Change.Kind.allCases))
            // A second update right after has nothing to do.
            let again = try timeline.updateBackup(at: dir + "/early")
            #expect(again.changesApplied == 0 && again.recordsWritten == 0 && again.recordsRemoved == 0)
            // The backup opens as a timeline and checks clean.
            await timeline.close()
            let backup = try TimelineStore(path: dir + "/early")
            #expect(try backup.check().isEmpty)
            await backup.close()
        }
    }

    /// The last change position of the timeline at `path`, read without writing.
    static func position(ofStoreAt path: String) throws -> Int {
        let store = try TimelineStore(path: path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
        return try store.currentPosition()
    }

    @Test("what cannot be brought up to date is refused with the reason, and nothing is written to it")
    func refusals() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "a"))
            try await timeline.append(sampleTurns(3), to: session.id)
            try timeline.environment.copy(to: dir + "/backup")
            try await timeline.append(sampleTurns(1), to: session.id)

            func refusal(_ path: String, isOwn: Bool = false) throws -> String {
                let compare = !isOwn && FileManager.default.fileExists(atPath: path + "/data.mdb")
                let before = compare ? try Self.contents(ofStoreAt: path) : [:]
                do {
                    try timeline.updateBackup(at: path)
                    return "updated"
                } catch TimelineError.backupNotUpdatable(let why) {
                    let after = compare ? try Self.contents(ofStoreAt: path) : [:]
                    #expect(Self.differences(before, after) == [], "\(why)")
                    return why
                }
            }
            #expect(try refusal(dir + "/nothing-here").contains("holds no store"))
            #expect(try refusal(dir + "/timeline", isOwn: true).contains("this store itself"))
            try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/timeline")
            #expect(try refusal(dir + "/link", isOwn: true).contains("this store itself"))

            // Another store altogether.
            let other = try TimelineStore(path: dir + "/other", configuration: .init(durability: .noSync))
            _ = try await other.createSession(NewSession())
            await other.close()
            #expect(try refusal(dir + "/other").contains("another store"))

            // A backup written to after it was copied: its history left the store's.
            try timeline.environment.copy(to: dir + "/diverged")
            let diverged = try TimelineStore(path: dir + "/diverged", configuration: .init(durability: .noSync))
            try await diverged.append(sampleTurns(2, tag: "elsewhere"), to: session.id)
            await diverged.close()
            try await timeline.append(sampleTurns(2, tag: "here"), to: session.id)
            #expect(try refusal(dir + "/diverged").contains("written to after it was copied"))
            try await timeline.append(sampleTurns(1), to: session.id)
            let ahead = try TimelineStore(path: dir + "/diverged", configuration: .init(durability: .noSync))
            for turn in sampleTurns(3, tag: "more") { try await ahead.append(turn, to: session.id) }   // one change each
            await ahead.close()
            #expect(try refusal(dir + "/diverged").contains("past the store's last change"))

            // The log was trimmed past the backup's position: the reason says how to keep it.
            try await timeline.trimChanges()
            #expect(try refusal(dir + "/backup").contains("no longer holds the changes after the backup's position 2"))
            await timeline.close()
        }
    }

    @Test("a store opened with compression since its backup was copied: the update compresses as the store does, and equals a full copy")
    func compressedSince() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/timeline"
            let session: UUID
            do {
                let plain = try TimelineStore(path: path, configuration: .init(durability: .noSync))
                session = try await plain.createSession(NewSession(title: "before")).id
                try await plain.append(NewTurn(role: .user, content: "short"), to: session)
                try plain.environment.copy(to: dir + "/backup")
                await plain.close()
            }
            let long = String(repeating: "an answer long enough to be compressed, and it repeats itself; ", count: 80)
            let timeline = try TimelineStore(path: path, configuration: .init(durability: .noSync), compression: .lz4)
            try await timeline.append(NewTurn(role: .assistant, content: long), to: session)
            let update = try timeline.updateBackup(at: dir + "/backup")
            #expect(update.recordsWritten > 0)
            try timeline.environment.copy(to: dir + "/full")
            await timeline.close()
            let (backup, full) = (try Self.contents(ofStoreAt: dir + "/backup"), try Self.contents(ofStoreAt: dir + "/full"))
            #expect(Self.differences(backup, full).isEmpty, "\(Self.differences(backup, full))")
            let reopened = try TimelineStore(path: dir + "/backup", configuration: .init(readOnly: true))
            #expect(try reopened.turns(of: session).items.map(\.content) == ["short", long])
            await reopened.close()
        }
    }

    @Test("a store migrated since its backup was copied: the backup's records are older, so it is refused")
    func migratedSince() async throws {
        try await withTemporaryDirectory { dir in
            let path = try FormatMigrationTests.copyOfFixture(in: dir)
            // Opened writable without migrating: it gains its id and its log, its records stay at version 1.
            let lazy = try TimelineStore(path: path, configuration: .init(durability: .noSync), migrationPolicy: .lazy)
            try lazy.environment.copy(to: dir + "/backup")
            await lazy.close()
            let timeline = try TimelineStore(path: path, configuration: .init(durability: .noSync))
            await #expect(throws: TimelineError.self) { try timeline.updateBackup(at: dir + "/backup") }
            do {
                try timeline.updateBackup(at: dir + "/backup")
            } catch TimelineError.backupNotUpdatable(let why) {
                #expect(why.contains("record versions"))
            }
            await timeline.close()
        }
    }
}
