import TimelineCBOR
import TimelineDocumentStore
import TimelineLMDB
import Foundation
import TestSupport
import Testing
@testable import Timeline

@Suite("Record versions 2 and 3: exact costs and the compact form, migrated from the first release's store")
struct FormatMigrationTests {
    /// A copy of the checked-in store of `release`, to open and migrate.
    static func copyOfFixture(in dir: String, release: Int = 1) throws -> String {
        let path = dir + "/store"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: FormatFixture.directory(release: release) + "/data.mdb", toPath: path + "/data.mdb")
        return path
    }

    @Test("opening the release-1 or release-2 store migrates sessions and turns to version 3 after a backup; costs exact, records compact",
          arguments: [1, 2])
    func migratesTheFixture(release: Int) async throws {
        try await withTemporaryDirectory { dir in
            let path = try Self.copyOfFixture(in: dir, release: release)
            #expect(try Self.storedVersions(path) == ["sessions": release, "turns": release])
            let timeline = try TimelineStore(path: path)
            #expect(try timeline.store.storedVersion(of: "sessions") == 3)
            #expect(try timeline.store.storedVersion(of: "turns") == 3)
            // Every record was written again in the compact form: field ids, no key fields.
            try timeline.store.read { txn in
                for database in [timeline.turnRecords.database, timeline.sessions.database] {
                    try database.forEachEntry(in: txn) { entry in
                        let value = Array(entry.value)
                        let header = Envelope.header(recordVersion: 3)
                        #expect(value.starts(with: header))
                        guard case .map(let entries) = try CBORValue(decoding: Array(value.dropFirst(header.count))) else { Issue.record("not a map"); return }
                        #expect(entries.allSatisfy { if case .unsigned = $0.key { true } else { false } })
                    }
                }
            }
            // The migration runner took a backup of each collection before rewriting it, openable as the old store.
            for collection in ["sessions", "turns"] {
                #expect(FileManager.default.fileExists(atPath: "\(path).backup-\(collection)-v\(release)/data.mdb"), "\(collection)")
            }

            let root = try #require(try timeline.session(FormatFixture.root))
            #expect(root.cost == Cost(nanos: 381_800_000) && root.cost.description == "0.3818")
            let rootTurns = try timeline.turns(of: FormatFixture.root).items
            #expect(rootTurns.map { $0.cost?.nanos } == [100_000, 81_700_000, 100_000_000, 200_000_000])
            #expect(rootTurns.compactMap(\.cost).reduce(Cost.zero, +) == root.cost)
            #expect(rootTurns.map(\.content) == ["root 0", "root 1", "root 2", "root 3"])
            #expect(rootTurns[1].toolCalls.map(\.name) == ["search"] && rootTurns[0].duration == 0.25)
            #expect(root.inputTokens == 46 && root.outputTokens == 86 && root.turnCount == 4)

            let fork = try #require(try timeline.session(FormatFixture.fork))
            #expect(fork.cost == Cost(nanos: 300_300_000) && fork.branchPoint == 3 && fork.parentID == FormatFixture.root)
            #expect(try timeline.turns(of: FormatFixture.fork).items.map(\.content) == ["root 0", "root 1", "root 2", "fork 3", "fork 4"])
            let archived = try #require(try timeline.session(FormatFixture.archived))
            #expect(archived.archived && archived.cost == 1.5)

            // The turn id index was built for the old turns; checkpoints and crystals read as before.
            #expect(try timeline.turn(id: FormatFixture.turnID(1, 2), in: FormatFixture.fork)?.content == "root 2")
            #expect(try timeline.checkpoint(FormatFixture.checkpoint)?.state == Data("{\"s\":1}".utf8))
            #expect(try timeline.crystal(of: FormatFixture.root)?.text == "summary")
            #expect(try timeline.check().isEmpty)

            // New appends add exactly; a reopen finds nothing left to migrate.
            try await timeline.append(NewTurn(role: .user, content: "new", cost: 0.0001), to: FormatFixture.root)
            #expect(try timeline.session(FormatFixture.root)?.cost.description == "0.3819")
            await timeline.close()
            let again = try TimelineStore(path: path, migrationPolicy: .failIfNeeded)
            #expect(try again.session(FormatFixture.root)?.turnCount == 5)
            await again.close()
        }
    }

    /// The record versions `meta` gives for sessions and turns, read with LMDB alone.
    static func storedVersions(_ path: String) throws -> [String: Int] {
        let env = try Environment(path: path, configuration: .init(readOnly: true))
        defer { try? env.close() }
        let meta = try env.openDatabase("meta", create: false)
        return try env.read { txn in
            var versions: [String: Int] = [:]
            for name in ["sessions", "turns"] {
                let value = try #require(try meta.get(Array("collection.\(name).version".utf8), in: txn))
                versions[name] = Int(try CBORValue(decoding: Array(value)).int64Value ?? 0)
            }
            return versions
        }
    }

    @Test("read lazily (as kvtool does, read-only), the release-1 and release-2 stores show exact costs without being written",
          arguments: [1, 2])
    func lazyReadOnly(release: Int) async throws {
        try await withTemporaryDirectory { dir in
            let path = try Self.copyOfFixture(in: dir, release: release)
            let before = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
            let timeline = try TimelineStore(path: path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
            #expect(try timeline.session(FormatFixture.root)?.cost == Cost(nanos: 381_800_000))
            #expect(try timeline.turns(of: FormatFixture.fork).items.compactMap(\.cost).map(\.description) == ["0.0001", "0.0817", "0.1", "0.3", "0.0003"])
            // The index the first release lacks reads as empty rather than failing; release 2 has it.
            #expect(try timeline.turn(id: FormatFixture.turnID(1, 2), in: FormatFixture.root)?.content == (release == 1 ? nil : "root 2"))
            // Text-form records carry their key fields themselves: each object names them once.
            let json = String(decoding: try timeline.turnsJSON(of: FormatFixture.root).json, as: UTF8.self)
            #expect(json.components(separatedBy: #""sessionID":"#).count == 5 && json.components(separatedBy: #""sequence":"#).count == 5, "\(json)")
            await timeline.close()
            #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == before)
        }
    }

    @Test("a version 1 export document imports with its costs made exact; exports are version 2")
    func versionOneExport() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let id = UUID()
            let document = """
                {"format": "timelinestore.session", "version": 1, "checkpoints": [], "crystals": [],
                 "session": {"id": "\(id)", "title": "old", "created": "2027-01-15T08:00:00.000000Z",
                   "updated": "2027-01-15T08:00:02.000000Z", "lastActivity": "2027-01-15T08:00:02.000000Z",
                   "turnCount": 2, "inputTokens": 0, "outputTokens": 0, "cost": 0.38180000000000003,
                   "archived": false, "metadata": {}, "checkpointCount": 0, "crystalCount": 0},
                 "turns": [
                   {"sessionID": "\(id)", "sequence": 0, "id": "\(UUID())", "role": "user", "content": "a",
                    "created": "2027-01-15T08:00:01.000000Z", "cost": 0.0817, "toolCalls": [], "blocks": [], "metadata": {}},
                   {"sessionID": "\(id)", "sequence": 1, "id": "\(UUID())", "role": "assistant", "content": "b",
                    "created": "2027-01-15T08:00:02.000000Z", "cost": 0.3001, "toolCalls": [], "blocks": [], "metadata": {}}]}
                """
            let imported = try await timeline.importJSON(Data(document.utf8))
            #expect(imported.cost == Cost(nanos: 381_800_000))
            // (0.0817 + 0.3001 in floating point is the session's 0.38180000000000003; the import adds
            // up the exact turn costs.)
            #expect(try timeline.turns(of: id).items.map(\.cost) == [Cost(nanos: 81_700_000), Cost(nanos: 300_100_000)])
            let exported = String(decoding: try timeline.exportJSON(id), as: UTF8.self)
            #expect(exported.contains("\"costNanos\" : 381800000") && exported.contains("\"version\" : 2") && !exported.contains("\"cost\""))
            for (cost, reason) in [("\"lots\"", "cost is not a number"), ("1e10", "not an amount in range"),
                                   ("1e400", "past the range of a 64-bit float")] {   // 1e400 was "Key '[13]' not found"
                let bad = document.replacingOccurrences(of: "\"cost\": 0.0817", with: "\"cost\": \(cost)")
                await #expect { try await timeline.importJSON(Data(bad.utf8), options: ImportOptions(newIDs: true)) }
                    throws: { "\($0)".contains(reason) }
            }
            #expect(try timeline.countSessions() == 1)
        }
    }

    @Test("Cost: decimal text and literals exactly, sums without drift, no trap on any input")
    func costArithmetic() {
        #expect(Cost("0.0818") == Cost(nanos: 81_800_000) && Cost("12") == 12 && Cost("-0.000000001")?.nanos == -1)
        #expect(Cost("1.0000000001") == nil && Cost("abc") == nil && Cost("") == nil && Cost(".") == nil && Cost("99999999999") == nil)
        #expect(Cost(".5") == 0.5 && Cost("+3.25")?.description == "3.25")
        let parts: [Cost] = [0.0001, 0.0817, 0.1, 0.2]
        #expect(parts.reduce(.zero, +).description == "0.3818")
        #expect(Cost(rounding: .nan) == nil && Cost(rounding: .infinity) == nil && Cost(rounding: 1e30) == nil)
        #expect(Cost(nanos: .max).adding(Cost(nanos: 1)) == nil)
        #expect(Cost(nanos: .min).description == "-9223372036.854775808" && Cost(integerLiteral: .max).nanos == .max)
        #expect(Cost(floatLiteral: .infinity).nanos == .max && Cost(floatLiteral: -.infinity).nanos == .min)
    }
}
