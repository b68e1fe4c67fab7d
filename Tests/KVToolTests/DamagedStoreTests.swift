import TestSupport
import TimelineCBOR
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing
import Timeline

/// A test's own failure, with what went wrong.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The bytes of `path`.
func contents(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

/// The permission bits of `path`.
func mode(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

@Suite("Damaged stores and hostile files: clear errors, no signal, no hang, nothing changed")
struct DamagedStoreTests {
    /// Every read-only kvtool command on `path` (and a backup into `scratch`).
    static func readCommands(_ path: String, session: String, scratch: String) -> [[String]] {
        [["stat", path], ["stat", path, "--json"], ["check", path], ["dump", path], ["sessions", path], ["sessions", path, "--json"],
         ["turns", path, session], ["get", path, "sessions", session], ["backup", path, scratch + "/backup-\(UUID().uuidString)"],
         ["migrate", path, "--dry-run"]]
    }

    /// A demo store at `dir/store` and the id of one of its sessions.
    static func demoStore(_ dir: String, sessions: Int = 8) throws -> (path: String, session: String) {
        let path = dir + "/store"
        #expect(try kvtool(["demo", path, "--sessions", "\(sessions)", "--turns-per-session", "30"]).status == 0)
        let listing = try kvtool(["sessions", path, "--json"]).output
        guard let first = listing.split(separator: "\n").first, let id = try CBORValue(json: String(first))["id"]?.textValue else {
            throw TestFailure("no session in the demo store's listing: \(listing)")
        }
        return (path, id)
    }

    @Test("D4: a truncated data.mdb is refused by every command and the API with a clear error, never SIGBUS")
    func truncated() throws {
        try withTemporaryDirectory { dir in
            let (path, session) = try Self.demoStore(dir)
            let original = try contents(path + "/data.mdb")
            let pageSize = 4096
            for size in [pageSize, 2 * pageSize, original.count / 2, original.count - pageSize] {
                try original.prefix(size).write(to: URL(fileURLWithPath: path + "/data.mdb"))
                for command in Self.readCommands(path, session: session, scratch: dir) {
                    let outcome = try kvtool(command)
                    #expect(!outcome.signaled && !outcome.hung && outcome.status != 0, "\(command) at \(size) bytes: \(outcome)")
                    #expect(outcome.errors.contains("truncated") || outcome.errors.contains("is \(size) bytes"), "\(command): \(outcome.errors)")
                }
                let refused = #expect(throws: LMDBError.self) { _ = try TimelineStore(path: path) }
                #expect(refused?.code == .corrupted && refused?.description.contains("truncated") == true, "\(String(describing: refused))")
                #expect(try contents(path + "/data.mdb") == original.prefix(size), "the file was changed at \(size) bytes")
            }
        }
    }

    @Test("D5: backups, migration backups and dumps are 0600; dump --output refuses an existing file without --force")
    func fileModes() throws {
        try withTemporaryDirectory { dir in
            let (path, _) = try Self.demoStore(dir, sessions: 3)
            let oldMask = umask(0o022)
            defer { umask(oldMask) }
            #expect(try kvtool(["backup", path, dir + "/copy"]).status == 0)
            #expect(try mode(dir + "/copy/data.mdb") == 0o600)
            #expect(try kvtool(["backup", path, dir + "/compact", "--compact"]).status == 0)
            #expect(try mode(dir + "/compact/data.mdb") == 0o600)
            #expect(try kvtool(["dump", path, "--output", dir + "/dump.jsonl"]).status == 0)
            #expect(try mode(dir + "/dump.jsonl") == 0o600)
            let dump = try contents(dir + "/dump.jsonl")
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: dir + "/precious.txt"))
            let refused = try kvtool(["dump", path, "--output", dir + "/precious.txt"])
            #expect(refused.status != 0 && refused.errors.contains("--force"))
            #expect(try contents(dir + "/precious.txt") == Data("keep me".utf8))
            chmod(dir + "/precious.txt", 0o644)
            #expect(try kvtool(["dump", path, "--output", dir + "/precious.txt", "--force"]).status == 0)
            #expect(try contents(dir + "/precious.txt") == dump)
            #expect(try mode(dir + "/precious.txt") == 0o600)
            // The migration runner's backup goes through the same copy.
            let env = try Environment(path: path)
            try env.copy(to: dir + "/premigration", compact: true)
            try env.close()
            #expect(try mode(dir + "/premigration/data.mdb") == 0o600)
        }
    }

    @Test("D5b: dump and export --output never write over a store's own files, even with --force, by any name")
    func outputNeverAStoreFile() throws {
        try withTemporaryDirectory { dir in
            let (path, session) = try Self.demoStore(dir, sessions: 3)
            let other = dir + "/other"
            #expect(try kvtool(["backup", path, other]).status == 0)
            #expect(symlink(path + "/data.mdb", dir + "/link") == 0)
            #expect(link(path + "/lock.mdb", dir + "/hard") == 0)
            let before = try contents(path + "/data.mdb"), otherBefore = try contents(other + "/data.mdb")
            let targets = [path + "/data.mdb", path + "/lock.mdb", path + "/data.wal", path + "/../store/data.mdb",
                           dir + "/link", dir + "/hard", other + "/data.mdb", other + "/data.wal"]
            for target in targets {
                for command in [["dump", path], ["export", path, session]] {
                    let refused = try kvtool(command + ["--output", target, "--force"])
                    #expect(refused.status == 1, "\(command[0]) --output \(target)")
                    #expect(refused.errors.contains("is a file of the store at"), "\(refused.errors)")
                }
            }
            #expect(try contents(path + "/data.mdb") == before)
            #expect(try contents(other + "/data.mdb") == otherBefore)
            #expect(!FileManager.default.fileExists(atPath: path + "/data.wal") && !FileManager.default.fileExists(atPath: other + "/data.wal"))
            #expect(try kvtool(["check", path]).status == 0)
            #expect(try kvtool(["check", other]).status == 0)
            // Any other file in a store's directory is an ordinary output.
            #expect(try kvtool(["dump", path, "--output", path + "/dump.jsonl"]).status == 0)
        }
    }

    @Test("D7: dump and check name a damaged entry and exit 1")
    func damagedEntry() throws {
        try withTemporaryDirectory { dir in
            let (path, _) = try Self.demoStore(dir, sessions: 4)
            var bytes = [UInt8](try contents(path + "/data.mdb"))
            // A turn's envelope: 'T', format 1, the record version, a map, whose first key is field
            // 0 (the turn's id: tag 37 over 16 bytes).
            let key: [UInt8] = [0x00, 0xD8, 0x25, 0x50]
            func isRecordStart(_ offset: Int) -> Bool {
                guard bytes[offset] == 0x54, bytes[offset + 1] == 0x01, bytes[offset + 2] == UInt8(Turn.recordVersion), bytes[offset + 3] & 0xE0 == 0xA0 else { return false }
                return Array(bytes[(offset + 4)..<(offset + 8)]) == key
            }
            // Every copy: the live record's page and any stale copies in free pages.
            let found = (0..<(bytes.count - 14)).filter(isRecordStart)
            try #require(!found.isEmpty)
            for at in found { bytes[at] = 0x00 }
            try Data(bytes).write(to: URL(fileURLWithPath: path + "/data.mdb"))
            let dump = try kvtool(["dump", path])
            #expect(dump.status == 1 && dump.errors.contains("damaged entry in ") && dump.errors.contains(" at key "), "\(dump)")
            #expect(dump.errors.contains("damaged entr") && dump.errors.contains("run `kvtool check`"))
            let check = try kvtool(["check", path])
            #expect(check.status == 1 && check.output.contains("undecodable at "), "\(check)")
            #expect(!check.output.contains("  :"), "a problem without its key: \(check.output)")
        }
    }

    @Test("damaged stores: random bytes flipped in data pages and garbage lock files — no signal, no hang, nothing changed by read-only tools")
    func randomDamage() throws {
        try withTemporaryDirectory { dir in
            let (path, session) = try Self.demoStore(dir, sessions: 6)
            let original = [UInt8](try contents(path + "/data.mdb"))
            var random = SeededGenerator(seed: 14)
            // 12 rounds in CI; TIMELINESTORE_DAMAGE_ROUNDS=N for a long run (Docs/reliability.md).
            let rounds = ProcessInfo.processInfo.environment["TIMELINESTORE_DAMAGE_ROUNDS"].flatMap(Int.init) ?? 12
            var faults = 0, damagedRounds = 0
            for round in 0..<rounds {
                var damaged = original
                let flips = 1 + Int(random.next() % 16)
                // Data pages only (the meta pages are 0 and 1): what a bad sector or a stray write does.
                for _ in 0..<flips {
                    let offset = 8192 + Int(random.next() % UInt64(damaged.count - 8192))
                    damaged[offset] = UInt8(truncatingIfNeeded: random.next())
                }
                try Data(damaged).write(to: URL(fileURLWithPath: path + "/data.mdb"))
                if round % 3 == 2 {
                    try Data((0..<8192).map { _ in UInt8(truncatingIfNeeded: random.next()) }).write(to: URL(fileURLWithPath: path + "/lock.mdb"))
                }
                let pagesDamaged = try kvtool(["check", path]).output.contains("damagedPage")
                for command in Self.readCommands(path, session: session, scratch: dir) {
                    let outcome = try kvtool(command)
                    #expect(!outcome.signaled && !outcome.hung, "round \(round), \(command): \(outcome)")
                    // The commands that verify pages first never reach the fault handler (exit 3).
                    if ["check", "dump", "migrate"].contains(command[0]) {
                        #expect(outcome.status != 3, "round \(round), \(command) faulted: \(outcome)")
                    }
                    if outcome.status == 3 {
                        #expect(pagesDamaged, "round \(round), \(command) faulted on a store whose pages verify: \(outcome)")
                        faults += 1
                    }
                }
                #expect([UInt8](try contents(path + "/data.mdb")) == damaged, "round \(round): a read-only tool changed the file")
                if pagesDamaged { damagedRounds += 1 }
            }
            print("damaged stores: \(rounds) rounds, \(damagedRounds) with damaged pages found by the page walk, \(faults) quick-command faults reported by the handler")
        }
    }

    @Test("hostile CBOR inside records — deep nesting, huge declared lengths, wrong types, invalid UTF-8 — gives errors naming the key in the API and every command")
    func hostileRecords() async throws {
        try await withTemporaryDirectory { dir in
            let (path, session) = try Self.demoStore(dir, sessions: 4)
            let header = Envelope.header(recordVersion: 1)
            func text(_ string: String) -> [UInt8] { [0x60 | UInt8(string.utf8.count)] + Array(string.utf8) }
            let hostile: [[UInt8]] = [
                header + [UInt8](repeating: 0x81, count: 100_000) + [0x00],                                   // arrays nested 100,000 deep
                header + [0xA1] + text("content") + [0x7B, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],   // a text of 2^63-1 bytes
                header + [0xA1] + text("sequence") + text("x"),                                             // a field of the wrong type
                header + [0xA1] + text("content") + [0x62, 0xFF, 0xFE],                                       // invalid UTF-8
                header + [0xBF] + text("role"),                                                               // an indefinite map cut short
            ]
            let env = try Environment(path: path)
            let turns = try env.openDatabase("turns")
            let sessionID = try #require(UUID(uuidString: session))
            let turnKeys = (0..<UInt64(hostile.count)).map { KeyBytes(sessionID, $0).bytes }
            try env.write { txn in
                for (key, value) in zip(turnKeys, hostile) { try turns.put(value, for: key, in: txn) }
            }
            try env.close()
            let timeline = try TimelineStore(path: path)
            let error = await #expect(throws: DocumentStoreError.self) { try await timeline.turns(of: sessionID) }
            #expect(error?.kind == .corrupted && error?.key == KeyBytes(sessionID, UInt64(0)).description, "\(String(describing: error))")
            for sequence in 0..<hostile.count {
                let refused = await #expect(throws: DocumentStoreError.self) { try await timeline.turn(session: sessionID, sequence: sequence) }
                #expect(refused?.key == KeyBytes(sessionID, UInt64(sequence)).description)
            }
            #expect(throws: (any Error).self) { try timeline.exportJSON(sessionID) }
            let problems = try timeline.check()
            #expect(problems.filter { $0.kind == "undecodable" }.count == hostile.count, "\(problems)")
            // A hostile session record too: listings name it.
            try timeline.store.write { txn in try timeline.sessions.database.put(hostile[2], for: KeyBytes(sessionID).bytes, in: txn) }
            await #expect(throws: DocumentStoreError.self) { try await timeline.session(sessionID) }
            await timeline.close()
            for command in Self.readCommands(path, session: session, scratch: dir) {
                let outcome = try kvtool(command)
                #expect(!outcome.signaled && !outcome.hung, "\(command): \(outcome)")
            }
            let check = try kvtool(["check", path])
            #expect(check.status == 1 && check.output.contains(KeyBytes(sessionID, UInt64(1)).description), "\(check)")
        }
    }

    @Test("D8: a refused load writes nothing — no databases, no directory")
    func refusedLoadWritesNothing() throws {
        try withTemporaryDirectory { dir in
            let (path, _) = try Self.demoStore(dir, sessions: 3)
            let dump = try kvtool(["dump", path]).output
            // More databases than a store holds: refused before anything exists.
            let names = (0..<70).map { "\"db\($0)\"" }.joined(separator: ",")
            let many = #"{"dump":"timelinestore","version":1,"recordVersions":{},"databases":[\#(names)]}"# + "\n" + #"{"end":true,"entries":0}"# + "\n"
            let refused = try kvtool(["load", dir + "/new"], input: Data(many.utf8))
            #expect(refused.status != 0 && refused.errors.contains("at most 64"), "\(refused.errors)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/new"))
            // Into a store whose databases are not empty, without --replace: no new database appears.
            let target = dir + "/target"
            let env = try Environment(path: target)
            let other = try env.openDatabase("other")
            try env.write { txn in try other.put(Array("v".utf8), for: Array("k".utf8), in: txn) }
            try env.close()
            let extended = dump.replacingOccurrences(of: #""databases":["#, with: #""databases":["other","#)
            let before = try mdbDump(target)
            let busy = try kvtool(["load", target], input: Data(extended.utf8))
            #expect(busy.status != 0 && busy.errors.contains("already holds entries in other"), "\(busy.errors)")
            #expect(try mdbDump(target) == before)
            #expect(!FileManager.default.fileExists(atPath: dir + "/.target.kvtool-load-\(getpid())"))
        }
    }

    @Test("D9: a load that would leave a bad store is refused, naming the problem, and the target stays as it was")
    func loadValidatedLikeCheck() throws {
        try withTemporaryDirectory { dir in
            let (path, session) = try Self.demoStore(dir, sessions: 3)
            let lines = try kvtool(["dump", path]).output.split(separator: "\n").map(String.init)
            func edited(_ change: (inout [String]) throws -> Void) rethrows -> Data {
                var copy = lines
                try change(&copy)
                return Data((copy.joined(separator: "\n") + "\n").utf8)
            }
            func index(_ prefix: String) throws -> Int { try #require(lines.firstIndex { $0.hasPrefix(prefix) }) }
            let metaFormat = try index(#"{"db":"meta","key":"format""#)
            let firstTurn = try index(#"{"db":"turns""#)
            let firstIndexEntry = try index(#"{"db":"idx.sessions.activity""#)
            let cases: [(String, Data, String)] = [
                ("meta format 99", edited { $0[metaFormat] = $0[metaFormat].replacingOccurrences(of: #"\{"cbor":[0-9]+\}"#, with: #"{"cbor":99}"#, options: .regularExpression) }, "format"),
                ("record version 99", edited { $0[firstTurn] = $0[firstTurn].replacingOccurrences(of: "{\"v\":\(Turn.recordVersion),", with: #"{"v":99,"#) }, "recordVersionTooNew"),
                ("a record that does not decode", edited { $0[firstTurn] = $0[firstTurn].replacingOccurrences(of: #"[1,""#, with: #"[1,7],[99,""#) }, "undecodable"),
                ("an index entry without its record", edited {
                    $0[firstIndexEntry] = $0[firstIndexEntry].replacingOccurrences(of: session.prefix(8), with: "00000000")
                }, "Index"),
                ("a number out of range", edited { $0[firstTurn] = $0[firstTurn].replacingOccurrences(of: #"[1,""#, with: #"[4,1e400],[1,""#) }, "too large"),
            ]
            for (name, dump, expected) in cases {
                for target in [dir + "/fresh", path] {
                    let before = FileManager.default.fileExists(atPath: target) ? try contents(target + "/data.mdb") : nil
                    let outcome = try kvtool(["load", target, "--replace"], input: dump)
                    #expect(outcome.status != 0, "\(name) into \(target) was accepted")
                    #expect(outcome.errors.contains(expected) && outcome.errors.contains("nothing was written"), "\(name): \(outcome.errors)")
                    if let before {
                        #expect(try contents(target + "/data.mdb") == before, "\(name): \(target) changed")
                    } else {
                        #expect(!FileManager.default.fileExists(atPath: target), "\(name): \(target) was created")
                    }
                }
            }
            // The unedited dump still loads, and the result checks clean.
            #expect(try kvtool(["load", dir + "/fresh"], input: edited { _ in }).status == 0)
            #expect(try kvtool(["check", dir + "/fresh"]).status == 0)
        }
    }

    @Test("D10: unusual files get errors that say what happened to which file")
    func clearFileErrors() throws {
        try withTemporaryDirectory { dir in
            // A zero-length data.mdb: read-only tools say it is empty; a writable open starts a new store there.
            let empty = dir + "/empty"
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: empty + "/data.mdb", contents: nil)
            let emptyStat = try kvtool(["stat", empty])
            #expect(emptyStat.status != 0 && emptyStat.errors.contains("is empty (0 bytes)"), "\(emptyStat)")
            let readOnly = #expect(throws: LMDBError.self) { _ = try Environment(path: empty, configuration: .init(readOnly: true)) }
            #expect(readOnly?.description.contains("empty (0 bytes)") == true)
            // data.mdb is a directory.
            let directory = dir + "/directory"
            try FileManager.default.createDirectory(atPath: directory + "/data.mdb", withIntermediateDirectories: true)
            for readOnly in [true, false] {
                let error = #expect(throws: LMDBError.self) { _ = try Environment(path: directory, configuration: .init(readOnly: readOnly)) }
                #expect(error?.description.contains("data.mdb is a directory") == true, "\(String(describing: error))")
            }
            #expect(try kvtool(["check", directory]).errors.contains("is a directory"))
            // A backup onto a dangling symbolic link.
            let (path, _) = try Self.demoStore(dir, sessions: 2)
            try FileManager.default.createSymbolicLink(atPath: dir + "/dangling", withDestinationPath: dir + "/nowhere/at/all")
            let backup = try kvtool(["backup", path, dir + "/dangling"])
            #expect(backup.status != 0 && backup.errors.contains("symbolic link"), "\(backup)")
            // A loop of symbolic links.
            try FileManager.default.createSymbolicLink(atPath: dir + "/loop-a", withDestinationPath: dir + "/loop-b")
            try FileManager.default.createSymbolicLink(atPath: dir + "/loop-b", withDestinationPath: dir + "/loop-a")
            #expect(try kvtool(["stat", dir + "/loop-a"]).errors.contains("loop of symbolic links"))
            // A store's file given where the store's directory is wanted.
            for command in ["stat", "check", "dump", "sessions"] {
                let file = try kvtool([command, path + "/data.mdb"])
                #expect(file.status == 64 && file.errors.contains("is a file, not a store") && file.errors.contains("here, \(path)"), "\(file)")
            }
            let loop = #expect(throws: LMDBError.self) { _ = try Environment(path: dir + "/loop-a") }
            #expect(loop?.code == .symbolicLinkLoop && loop?.description.contains("loop of symbolic links") == true)
            // Another user on a 0700 store: permission denied, not "no data.mdb".
            chmod(path, 0o700)
            for command in [["stat", path], ["check", path], ["dump", path]] {
                let denied = try kvtool(command, asUser: 65534)
                #expect(denied.status != 0 && denied.errors.contains("permission denied"), "\(command): \(denied)")
            }
        }
    }

    @Test("D11: an unrelated LMDB environment is refused and nothing is written into it")
    func foreignEnvironment() async throws {
        try await withTemporaryDirectory { dir in
            for variant in ["named database", "plain key", "meta without format"] {
                let path = dir + "/" + variant.replacingOccurrences(of: " ", with: "-")
                let env = try Environment(path: path)
                let name: String? = switch variant { case "named database": "sessions"; case "meta without format": "meta"; default: nil }
                let db = try env.openDatabase(name)
                try env.write { txn in try db.put(Array("someone else's".utf8), for: Array("data".utf8), in: txn) }
                try env.close()
                let before = try contents(path + "/data.mdb")
                let error = #expect(throws: DocumentStoreError.self) { _ = try TimelineStore(path: path) }
                #expect(error?.kind == .foreignStore, "\(variant)")
                #expect(error?.description.contains("not a TimelineStore") == true)
                #expect(try contents(path + "/data.mdb") == before, "\(variant): the environment was written to")
            }
            // An empty environment becomes a store.
            let fresh = try Environment(path: dir + "/empty-env")
            try fresh.close()
            let timeline = try TimelineStore(path: dir + "/empty-env")
            #expect(try await timeline.listSessions().items.isEmpty)
            await timeline.close()
        }
    }
}
