import TestSupport
import TimelineCBOR
import KVToolCore
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Synchronization
import Testing
import Timeline

/// How a kvtool run ended: its exit status or the signal that killed it, or a hang.
struct Outcome: CustomStringConvertible {
    var status: Int32
    var signaled: Bool
    var hung: Bool
    var output: String
    var errors: String

    var description: String {
        hung ? "hung" : signaled ? "killed by signal \(status)" : "exit \(status): \(errors.prefix(300))"
    }
}

/// Runs the `kvtool` built next to the test bundle (optionally as another user, in `directory`,
/// with `input` on its standard input, or the file at `inputPath` as it; its standard output or
/// error written to the file at `outputPath` or `errorsPath` instead of read) and kills it after
/// `timeout` seconds: a hang fails a test instead of stalling the run.
func kvtool(_ arguments: [String], input: Data? = nil, timeout: Double = 120, asUser uid: Int? = nil, directory: String? = nil,
            inputPath: String? = nil, outputPath: String? = nil, errorsPath: String? = nil) throws -> Outcome {
    let process = Process()
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let executable = try helperExecutable("kvtool")
    if let uid {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", executable] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
    }
    process.environment = ["COLUMNS": "100", "PATH": "/usr/bin:/bin"]
    let output = Pipe(), errors = Pipe()
    let stdin = Pipe()
    process.standardOutput = try outputPath.map { try FileHandle(forWritingTo: URL(fileURLWithPath: $0)) } ?? output
    process.standardError = try errorsPath.map { try FileHandle(forWritingTo: URL(fileURLWithPath: $0)) } ?? errors
    process.standardInput = try inputPath.map { FileHandle(fileDescriptor: open($0, O_RDONLY), closeOnDealloc: true) } ?? stdin
    if outputPath != nil { try output.fileHandleForWriting.close() }
    if errorsPath != nil { try errors.fileHandleForWriting.close() }
    try process.run()
    // Read both pipes while the process runs (a full pipe would stall it).
    nonisolated(unsafe) var out = Data(), err = Data()
    let readers = [Thread { out = output.fileHandleForReading.readDataToEndOfFile() }, Thread { err = errors.fileHandleForReading.readDataToEndOfFile() }]
    readers.forEach { $0.start() }
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(timeout)
    var hung = false
    while process.isRunning {
        if Date() > deadline {
            hung = true
            kill(process.processIdentifier, SIGKILL)
            break
        }
        usleep(2_000)
    }
    process.waitUntilExit()
    while readers.contains(where: { !$0.isFinished }) { usleep(1_000) }
    return Outcome(status: process.terminationStatus, signaled: !hung && process.terminationReason == .uncaughtSignal, hung: hung,
                   output: String(decoding: out, as: UTF8.self), errors: String(decoding: err, as: UTF8.self))
}

/// `mdb_dump -a` of a store without its `mapsize=` lines: every entry of every database, as the
/// stock tool prints them.
func mdbDump(_ path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/mdb_dump")
    process.arguments = ["-a", path]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return String(decoding: data, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("mapsize=") }.joined(separator: "\n")
}

@Suite("kvtool")
struct KVToolTests {
    static let commands = ["", "demo", "stat", "check", "dump", "load", "get", "sessions", "turns", "changes", "export", "import", "backup", "migrate", "compress", "repair-totals"]

    @Test("--help of every command matches its golden file", arguments: commands)
    func help(_ command: String) throws {
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/\(command.isEmpty ? "kvtool" : command).txt")
        let expected = try String(contentsOf: golden, encoding: .utf8)
        let result = try kvtool(command.isEmpty ? ["--help"] : [command, "--help"])
        #expect(result.status == 0)
        #expect(result.output == expected, "kvtool \(command) --help differs from \(golden.path); if the change is meant, regenerate it")
    }

    @Test("output that cannot be written (a full disk) or input that cannot be read is an error, exit 1, never a crash; an unwritable standard error loses only the message")
    func unwritableOutput() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/a"
            #expect(try kvtool(["demo", path, "--sessions", "3", "--turns-per-session", "10"]).status == 0)
            let session = try #require(try kvtool(["sessions", path]).output.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init))
            // dump and export trapped in FileHandle.write; the printing commands exited 0 with nothing written.
            for arguments in [["dump", path], ["export", path, session], ["sessions", path], ["turns", path, session], ["stat", path, "--json"]] {
                let result = try kvtool(arguments, outputPath: "/dev/full")
                #expect(result.status == 1 && !result.signaled && result.errors.contains("No space left on device"), "\(arguments): \(result)")
            }
            let toFile = try kvtool(["dump", path, "--output", "/dev/full", "--force"])
            #expect(toFile.status == 1 && !toFile.signaled && toFile.errors.contains("cannot write to /dev/full"), "\(toFile)")
            let follow = try kvtool(["changes", path, "--follow"], timeout: 30, outputPath: "/dev/full")
            #expect(follow.status == 1 && !follow.hung, "\(follow)")
            let quiet = try kvtool(["check", dir + "/none"], errorsPath: "/dev/full")
            #expect(quiet.status == 64 && !quiet.signaled, "\(quiet)")
            // A standard input that cannot be read (a directory) is refused; readDataToEndOfFile trapped.
            for arguments in [["import", path, "-"], ["load", dir + "/b"]] {
                let result = try kvtool(arguments, inputPath: "/")
                #expect(result.status == 1 && !result.signaled && result.errors.contains("standard input is a directory"), "\(arguments): \(result)")
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/b"))
        }
    }

    @Test("dump → load → dump is byte-identical, and mdb_dump sees the same entries")
    func roundTrip() throws {
        try withTemporaryDirectory { dir in
            #expect(try kvtool(["demo", dir + "/a", "--sessions", "12", "--turns-per-session", "40"]).status == 0)
            let first = try kvtool(["dump", dir + "/a"])
            #expect(first.status == 0)
            #expect(try kvtool(["load", dir + "/b"], input: Data(first.output.utf8)).status == 0)
            let second = try kvtool(["dump", dir + "/b"])
            #expect(second.output == first.output)
            #expect(try mdbDump(dir + "/a") == mdbDump(dir + "/b"))
            // --output and --input, and --replace over a store that has data.
            #expect(try kvtool(["dump", dir + "/a", "--output", dir + "/a.jsonl"]).status == 0)
            #expect(try String(contentsOfFile: dir + "/a.jsonl", encoding: .utf8) == first.output)
            #expect(try kvtool(["load", dir + "/b", "--input", dir + "/a.jsonl", "--replace"]).status == 0)
            #expect(try kvtool(["dump", dir + "/b"]).output == first.output)
            #expect(try kvtool(["check", dir + "/b"]).status == 0)
            // A partial dump holds only the databases asked for.
            let part = try kvtool(["dump", dir + "/a", "--db", "sessions", "--db", "meta"])
            #expect(part.output.split(separator: "\n").dropFirst().dropLast().allSatisfy { $0.hasPrefix(#"{"db":"meta""#) || $0.hasPrefix(#"{"db":"sessions""#) })
            // A database the store lacks is a usage mistake of that command, not of kvtool.
            let unknown = try kvtool(["dump", dir + "/a", "--db", "nosuch"])
            #expect(unknown.status == 64 && unknown.errors.contains(#"has no database "nosuch""#) && unknown.errors.contains("kvtool dump --help"), "\(unknown)")
        }
    }

    @Test("load --input and import read a pipe (`<(gunzip -c …)`) to its end; a directory or a missing file is named")
    func inputFromPipe() throws {
        try withTemporaryDirectory { dir in
            #expect(try kvtool(["demo", dir + "/a", "--sessions", "3", "--turns-per-session", "5"]).status == 0)
            let dump = try kvtool(["dump", dir + "/a"]).output
            let fifo = dir + "/dump.fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            // The writer opens the pipe once kvtool opens it for reading, as a shell's `<(…)` does.
            let writer = Thread {
                if let handle = FileHandle(forWritingAtPath: fifo) { handle.write(Data(dump.utf8)); try? handle.close() }
            }
            writer.start()
            let loaded = try kvtool(["load", dir + "/b", "--input", fifo])
            #expect(loaded.status == 0, "\(loaded)")
            #expect(try kvtool(["dump", dir + "/b"]).output == dump)

            let directory = try kvtool(["load", dir + "/c", "--input", dir])
            #expect(directory.status == 1 && directory.errors.contains("\(dir) is a directory, not a file"), "\(directory)")
            let missing = try kvtool(["import", dir + "/a", dir + "/none.json"])
            #expect(missing.status == 1 && missing.errors.contains("\(dir)/none.json does not exist"), "\(missing)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/c"))
        }
    }

    /// The text of a turn LZ4 shrinks, over 2,000 bytes.
    static let long = String(repeating: "a long answer that repeats itself, as long answers do; ", count: 60)

    /// A store at `path` with one session of two turns, a short one and ``long``; returns the session.
    static func storeWithLongTurn(_ path: String, compression: ValueCompression) async throws -> UUID {
        let timeline = try TimelineStore(path: path, configuration: .init(durability: .noSync), compression: compression)
        let session = try await timeline.createSession(NewSession(title: "long")).id
        try await timeline.append([NewTurn(role: .user, content: "short"), NewTurn(role: .assistant, content: long)], to: session)
        await timeline.close()
        return session
    }

    @Test("compressed records dump as their record marked \"compressed\", load back to the same bytes, and get reads them")
    func compressedRoundTrip() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/a", long = Self.long
            let session = try await Self.storeWithLongTurn(path, compression: .lz4)
            let first = try kvtool(["dump", path])
            #expect(first.status == 0)
            let lines = first.output.split(separator: "\n").filter { $0.hasPrefix(#"{"db":"turns""#) }
            #expect(lines.count == 2 && !lines[0].contains(#""compressed""#) && lines[1].hasSuffix(#","compressed":"lz4"}}"#), "\(lines)")
            #expect(try kvtool(["load", dir + "/b"], input: Data(first.output.utf8)).status == 0)
            #expect(try kvtool(["dump", dir + "/b"]).output == first.output)
            #expect(try mdbDump(path) == mdbDump(dir + "/b"))
            #expect(try kvtool(["check", dir + "/b"]).status == 0)
            let shown = try kvtool(["get", path, "turns", "\(session)/1"])
            #expect(shown.status == 0 && shown.output.contains(#""compressed":"lz4""#))
            let named = try kvtool(["get", path, "turns", "\(session)/1", "--names"])
            #expect(named.status == 0 && named.output.contains(long.prefix(40)))
            // A hand-written line may ask for compression; a record LZ4 cannot shrink is refused.
            let tiny = first.output.replacingOccurrences(of: lines[1], with: lines[0].dropLast(2) + #","compressed":"lz4"}}"#)
            let refused = try kvtool(["load", dir + "/c"], input: Data(tiny.utf8))
            #expect(refused.status != 0 && refused.errors.contains("does not shrink under LZ4"), "\(refused)")
        }
    }

    @Test("compress stores the large records compressed and --none stores them plain again: the same records, checked, the same bytes back")
    func compressCommand() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/a", long = Self.long
            let session = try await Self.storeWithLongTurn(path, compression: .none)
            func turnLines() throws -> [Substring] {
                try kvtool(["dump", path]).output.split(separator: "\n").filter { $0.hasPrefix(#"{"db":"turns""#) }
            }
            let plain = try turnLines()
            #expect(plain.count == 2 && !plain.contains { $0.contains("compressed") })
            let compressed = try kvtool(["compress", path])
            #expect(compressed.status == 0 && compressed.output.hasPrefix("1 record compressed"), "\(compressed)")
            let after = try turnLines()
            #expect(after.count == 2 && after[0] == plain[0] && after[1].hasSuffix(#","compressed":"lz4"}}"#), "\(after)")
            #expect(try kvtool(["check", path]).status == 0)
            #expect(try kvtool(["turns", path, "\(session)", "--json"]).output.contains(long.prefix(40)))
            #expect(try kvtool(["compress", path]).output.hasPrefix("0 records compressed"))   // nothing left to do
            let expanded = try kvtool(["compress", path, "--none"])
            #expect(expanded.status == 0 && expanded.output.hasPrefix("1 record stored plain again"), "\(expanded)")
            #expect(try turnLines() == plain)
            #expect(try kvtool(["compress", path, "--minimum-size", "8"]).status == 64)
            #expect(try kvtool(["compress", path, "--none", "--minimum-size", "4000"]).status == 64)
        }
    }

    @Test("a record as deep as the decoder allows is dumped in the record form and its line reads back (a fuzz finding)")
    func deepRecordLine() throws {
        for leaf in [CBORValue.simple(1), .bytes([1, 2]), .unsigned(0)] {
            var record = leaf
            for _ in 0..<255 { record = .array([record]) }
            let value = Envelope.header(recordVersion: 3) + record.encoded()
            let key = [UInt8](repeating: 1, count: 24)
            let line = DumpFormat.line(database: "turns", key: key, value: value)
            #expect(line.contains(#""record":"#), "\(leaf)")
            guard case .entry(let database, let readKey, let readValue) = try DumpFormat.parse(line, databases: ["turns"]) else {
                Issue.record("not an entry")
                continue
            }
            #expect(database == "turns" && readKey == key && readValue == value, "\(leaf)")
        }
    }

    @Test("a bad dump is refused with its line number and leaves the store exactly as it was")
    func badLoads() throws {
        try withTemporaryDirectory { dir in
            #expect(try kvtool(["demo", dir + "/a", "--sessions", "5", "--turns-per-session", "10"]).status == 0)
            let good = try kvtool(["dump", dir + "/a"]).output
            var lines = good.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines.removeLast()   // the empty string after the final newline
            let turn = try #require(lines.firstIndex { $0.hasPrefix(#"{"db":"turns""#) })
            func text(_ lines: [String]) -> String { lines.joined(separator: "\n") + "\n" }
            func replacing(_ index: Int, with line: String) -> String { var copy = lines; copy[index] = line; return text(copy) }
            let cases: [(String, String, String)] = [
                ("malformed JSON", replacing(turn, with: #"{"db":"turns","key":["#), "line \(turn + 1): malformed JSON"),
                ("unknown database", replacing(turn, with: lines[turn].replacingOccurrences(of: #"{"db":"turns""#, with: #"{"db":"nowhere""#)), "unknown database"),
                ("wrong key shape", replacing(turn, with: lines[turn].replacingOccurrences(of: #""key":["#, with: #""key":[1,"#)), "line \(turn + 1)"),
                ("wrong value shape", replacing(turn, with: #"{"db":"turns","key":{"hex":"00"},"value":{"v":1}}"#), "line \(turn + 1)"),
                ("duplicate key", text(Array(lines[...turn]) + [lines[turn]] + Array(lines[(turn + 1)...])), "duplicate key"),
                ("truncated mid-line", String(text(lines).dropLast(40)), "truncated"),
                ("no end line", text(Array(lines.dropLast())), "truncated"),
                ("wrong count", replacing(lines.count - 1, with: #"{"end":true,"entries":3}"#), "counts 3 entries"),
                ("no header", text(Array(lines.dropFirst())), "line 1"),
                ("empty", "", "empty"),
            ]
            let before = try mdbDump(dir + "/a")
            for (name, dump, message) in cases {
                let result = try kvtool(["load", dir + "/a", "--replace"], input: Data(dump.utf8))
                #expect(result.status != 0, "\(name)")
                #expect(result.errors.contains(message), "\(name): \(result.errors)")
                #expect(result.errors.contains("nothing was written") || name == "empty", "\(name): \(result.errors)")
                #expect(try mdbDump(dir + "/a") == before, "\(name) changed the store")
            }
            let occupied = try kvtool(["load", dir + "/a"], input: Data(good.utf8))
            #expect(occupied.status != 0 && occupied.errors.contains("--replace"))
            #expect(try mdbDump(dir + "/a") == before)
        }
    }

    @Test("check finds a deleted index entry, a garbage value and a gap in turns")
    func checkFindsCorruption() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/a"
            #expect(try kvtool(["demo", path, "--sessions", "6", "--turns-per-session", "30"]).status == 0)
            #expect(try kvtool(["check", path]).status == 0)
            do {
                let env = try Environment(path: path)
                let project = try env.openDatabase("idx.sessions.project", create: false)
                let turns = try env.openDatabase("turns", create: false)
                try env.write { txn in
                    let firstIndexKey = try project.withCursor(in: txn) { cursor in try cursor.first().map { Array($0.key) } }
                    try project.delete(try #require(firstIndexKey), in: txn)
                    let keys = try turns.withCursor(in: txn) { cursor in
                        var keys: [[UInt8]] = []
                        var entries = cursor.entries()
                        while let entry = try entries.next() { keys.append(Array(entry.key)) }
                        return keys
                    }
                    try turns.put([0x54, 0x01, 0x01, 0xFF, 0x00], for: keys[3], in: txn)     // garbage
                    try turns.delete(keys[keys.count - 10], in: txn)                          // a gap (and its id index entry dangles)
                }
            }
            let result = try kvtool(["check", path, "--json"])
            #expect(result.status == 1)
            let problems = try JSONDecoder().decode([TimelineProblem].self, from: Data(result.output.utf8))
            let kinds = Set(problems.map(\.kind))
            #expect(kinds == ["missingIndexEntry", "undecodable", "turnGap", "danglingIndexEntry"], "\(problems)")
            let text = try kvtool(["check", path])
            #expect(text.status == 1 && text.output.contains("\(problems.count) problems found"), "\(text.output)")
        }
    }

    @Test("a negative number reaches the command's own check instead of reading as a missing value")
    func negativeNumbers() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/store"
            #expect(try kvtool(["demo", path, "--sessions", "2", "--turns-per-session", "4"]).status == 0)
            let session = UUID().uuidString
            for (arguments, message) in [(["sessions", path, "--limit", "-1"], "--limit must not be negative"),
                                         (["turns", path, session, "--from", "-3"], "--from must not be negative"),
                                         (["changes", path, "--after", "-2"], "--after must not be negative"),
                                         (["demo", dir + "/other", "--sessions", "-4"], "--sessions must be between"),
                                         (["compress", path, "--batch-size", "-5"], "--batch-size must be at least 1")] {
                let refused = try kvtool(arguments)
                #expect(refused.status == 64 && refused.errors.contains(message), "\(arguments): \(refused)")
            }
        }
    }

    @Test("repair-totals on a consistent store changes nothing and says so")
    func repairTotalsNothing() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/store"
            #expect(try kvtool(["demo", path, "--sessions", "4", "--turns-per-session", "10"]).status == 0)
            let before = try kvtool(["dump", path]).output
            let repair = try kvtool(["repair-totals", path])
            #expect(repair.status == 0 && repair.output.contains("0 sessions repaired"), "\(repair)")
            #expect(try kvtool(["dump", path]).output == before)
            #expect(try kvtool(["check", path]).status == 0)
        }
    }

    @Test("stat, sessions, turns, get, backup and migrate on a demo store")
    func listingsAndMaintenance() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/a"
            #expect(try kvtool(["demo", path, "--sessions", "10", "--turns-per-session", "20"]).status == 0)
            struct Stat: Decodable { var recordVersions: [String: Int]; var databases: [Database]; struct Database: Decodable { var name: String; var entries: Int } }
            let stat = try JSONDecoder().decode(Stat.self, from: Data(try kvtool(["stat", path, "--json"]).output.utf8))
            #expect(stat.recordVersions == ["sessions": 3, "turns": 3, "checkpoints": 1, "crystals": 1, "changes": 1, "consumers": 1])
            #expect(stat.databases.first { $0.name == "sessions" }?.entries == 12)        // 10 + 2 forks
            // --space: where each database's bytes go, as JSON and as text.
            struct Space: Decodable {
                var databases: [Database]
                struct Database: Decodable { var name: String; var leafPages: Int; var space: Usage? }
                struct Usage: Decodable { var keyBytes: Int; var leafBytesUsed: Int; var leafFill: Double; var overflowBytesUnused: Int }
            }
            let space = try JSONDecoder().decode(Space.self, from: Data(try kvtool(["stat", path, "--json", "--space"]).output.utf8))
            let turnSpace = try #require(space.databases.first { $0.name == "turns" }?.space)
            #expect(turnSpace.keyBytes == (stat.databases.first { $0.name == "turns" }?.entries ?? 0) * 24 && turnSpace.leafFill > 0.3 && turnSpace.leafFill <= 1 && turnSpace.overflowBytesUnused >= 0)
            #expect(space.databases.allSatisfy { $0.space != nil })
            let spaceText = try kvtool(["stat", path, "--space"])
            #expect(spaceText.status == 0 && spaceText.output.contains("leaf fill") && spaceText.output.contains(" %"))
            #expect(try !kvtool(["stat", path]).output.contains("leaf fill"))

            let listed = try kvtool(["sessions", path, "--limit", "100", "--json"]).output.split(separator: "\n")
            #expect(listed.count == 12)
            // A root session: `get` reads keys as stored, and a fork's early turns are stored under its parent.
            let roots = try listed.map { try JSONDecoder().decode([String: CBORValueJSON].self, from: Data($0.utf8)) }.filter { $0["parentID"] == nil }
            let id = try #require(roots.first?["id"]?.text)
            let turns = try kvtool(["turns", path, id, "--from", "1", "--limit", "2"])
            #expect(turns.status == 0 && turns.output.hasPrefix("#1 ") && turns.output.contains("\n#2 "))
            let turn = try kvtool(["get", path, "turns", "\(id)/1"])
            // The compact form: field ids for names (0 is the turn's id), the key's fields not stored.
            #expect(turn.status == 0 && turn.output.hasPrefix(#"{"v":3,"record":{"$map":[[0,{"$uuid":"#), "\(turn.output)")
            // --names: the record as the library reads it, the key's fields included.
            struct Named: Decodable { var sessionID: String; var sequence: Int; var role: String }
            let named = try kvtool(["get", path, "turns", "\(id)/1", "--names"])
            let decoded = try JSONDecoder().decode(Named.self, from: Data(named.output.utf8))
            #expect(named.status == 0 && decoded.sessionID == id && decoded.sequence == 1 && !decoded.role.isEmpty, "\(named)")
            #expect(try kvtool(["get", path, "sessions", id, "--names"]).output.contains(#""id":"\#(id)""#))
            #expect(try kvtool(["get", path, "turns", "\(id)/99999", "--names"]).status == 1)
            #expect(try kvtool(["get", path, "crystals", "\(id)/0", "--names"]).status != 0)
            #expect(try kvtool(["get", path, "turns", "\(id)/99999"]).status == 1)
            #expect(try kvtool(["get", path, "turns", "not-a-key"]).status != 0)

            #expect(try kvtool(["backup", path, dir + "/copy", "--compact"]).status == 0)
            #expect(try kvtool(["dump", dir + "/copy"]).output == kvtool(["dump", path]).output)
            #expect(try kvtool(["backup", path, dir + "/copy"]).status != 0)            // never over a store
            let repacked = try kvtool(["backup", path, dir + "/repacked", "--repack"])
            #expect(repacked.status == 0 && repacked.output.contains("(repacked)"), "\(repacked)")
            #expect(try kvtool(["dump", dir + "/repacked"]).output == kvtool(["dump", path]).output)
            #expect(try kvtool(["check", dir + "/repacked"]).status == 0)
            #expect(try kvtool(["backup", path, dir + "/both", "--repack", "--compact"]).status != 0)

            // --update brings the copy up to date from the change log: afterwards it dumps as the store does.
            let timeline = try TimelineStore(path: path, configuration: .init(durability: .noSync))
            try timeline.write { tx in _ = try tx.createSession(NewSession(title: "after the backup"), turns: sampleTurns(3)) }
            try timeline.environment.close()
            let update = try kvtool(["backup", path, dir + "/copy", "--update"])
            #expect(update.status == 0 && update.output.contains(": 2 changes, 7 records written, 0 removed"), "\(update.output)")
            #expect(try kvtool(["dump", dir + "/copy"]).output == kvtool(["dump", path]).output)
            #expect(try kvtool(["backup", path, dir + "/new", "--update"]).status != 0)     // nothing to update
            // A load writes around the change log: the store's backups can no longer follow it.
            let dump = try kvtool(["dump", path, "--db", "crystals"]).output
            #expect(try kvtool(["load", path, "--replace"], input: Data(dump.utf8)).status == 0)
            let refused = try kvtool(["backup", path, dir + "/copy", "--update"])
            #expect(refused.status != 0 && refused.errors.contains("migrated or repaired since"), "\(refused)")

            #expect(try kvtool(["migrate", path, "--dry-run"]).output.contains("turns: v3 → v3, up to date"))
            #expect(try kvtool(["migrate", path]).output.contains("nothing to migrate"))
            #expect(try kvtool(["stat", dir + "/nothing-here"]).status != 0)
        }
    }

    @Test("dump reads one consistent snapshot while another process appends")
    func dumpWhileAppending() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/live"
            let timeline = try TimelineStore(path: path)
            var created: [UUID] = []
            for index in 0..<8 { created.append(try await timeline.createSession(NewSession(title: "s\(index)")).id) }
            let ids = created
            try await timeline.write { txn in for id in ids { try txn.append(sampleTurns(200), to: id) } }
            let appended = Atomic<Int>(0)
            let writing = Task.detached {
                while !Task.isCancelled {
                    try await timeline.append(sampleTurns(3), to: ids[appended.load(ordering: .relaxed) % ids.count])
                    appended.add(1, ordering: .relaxed)
                }
            }
            // The writer is under way before the first dump starts.
            while appended.load(ordering: .relaxed) < 5 { try await Task.sleep(for: .milliseconds(2)) }
            var dumps: [String] = []
            for _ in 0..<3 { dumps.append(try kvtool(["dump", path]).output) }
            writing.cancel()
            try await writing.value
            for dump in dumps {
                // In the snapshot, every session's turn count matches the turns stored for it.
                var counts: [String: UInt64] = [:], stored: [String: UInt64] = [:]
                for line in dump.split(separator: "\n") {
                    let value = try CBORValue(json: String(line))
                    guard case .array(let key)? = value["key"], let id = key.first?.textValue else { continue }
                    if value["db"]?.textValue == "sessions", case .unsigned(let count)? = value["value"]?["record"]?[fieldID: 2] { counts[id] = count }   // 2: turnCount
                    if value["db"]?.textValue == "turns" { stored[id, default: 0] += 1 }
                }
                #expect(counts.count == 8 && counts == stored)
            }
            await timeline.close()
        }
    }
}

/// `count` small turns.
func sampleTurns(_ count: Int) -> [NewTurn] {
    (0..<count).map { NewTurn(role: $0 % 2 == 0 ? .user : .assistant, content: "turn \($0)") }
}

/// A JSON value of which only strings matter here.
enum CBORValueJSON: Decodable {
    case text(String), other

    var text: String? { if case .text(let text) = self { text } else { nil } }

    init(from decoder: any Decoder) throws {
        self = (try? decoder.singleValueContainer().decode(String.self)).map(CBORValueJSON.text) ?? .other
    }
}

extension KVToolTests {
    @Test("export and import of one session; --json times carry microseconds like exports")
    func exportImport() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/a"
            #expect(try kvtool(["demo", path, "--sessions", "5", "--turns-per-session", "20"]).status == 0)
            let listed = try kvtool(["sessions", path, "--limit", "1", "--json"])
            let line = try #require(listed.output.split(separator: "\n").first.map(String.init))
            #expect(line.range(of: #""created":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z""#, options: .regularExpression) != nil, "\(line)")
            let id = try #require(try JSONDecoder().decode([String: CBORValueJSON].self, from: Data(line.utf8))["id"]?.text)

            let file = dir + "/session.json"
            #expect(try kvtool(["export", path, id, "--output", file]).status == 0)
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(try kvtool(["export", path, id, "--output", file]).status != 0)          // never over a file without --force
            let again = try kvtool(["import", path, file])
            #expect(again.status != 0 && again.errors.contains("already exists"), "\(again)")
            let copy = try kvtool(["import", path, file, "--new-ids"])
            #expect(copy.status == 0 && copy.output.hasPrefix("imported session "), "\(copy)")
            #expect(try kvtool(["sessions", path, "--limit", "100", "--json"]).output.split(separator: "\n").count == 7)   // 5 + 1 fork + the copy
            let piped = try kvtool(["import", path, "-", "--replace"], input: try Data(contentsOf: URL(fileURLWithPath: file)))
            #expect(piped.status == 0, "\(piped)")
            #expect(try kvtool(["check", path]).status == 0)
            #expect(try kvtool(["export", path, "not-a-uuid"]).status != 0)
        }
    }
}

extension KVToolTests {
    @Test("changes lists the log and --follow prints every change another process commits, in order, once")
    func changesCommand() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/a"
            #expect(try kvtool(["demo", path, "--sessions", "3", "--turns-per-session", "10"]).status == 0)
            // .noSync: 160 durable appends took over a minute under the whole suite's disk load, past the watchdog.
            let timeline = try TimelineStore(path: path, configuration: .init(durability: .noSync))
            let position = try timeline.currentPosition()
            let listed = try kvtool(["changes", path, "--limit", "1000", "--json"])
            #expect(listed.status == 0 && listed.output.split(separator: "\n").count == position)
            // A page that does not reach the end is still only JSON lines (the "… more" hint broke it).
            let partial = try kvtool(["changes", path, "--limit", "2", "--json"])
            #expect(partial.output.split(separator: "\n").count == 2)
            #expect(partial.output.split(separator: "\n").allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "\(partial.output)")
            let text = try kvtool(["changes", path, "--after", "1", "--limit", "2"])
            #expect(text.output.hasPrefix("#2  ") && text.output.contains("\n#3  ") && text.output.contains("… more: --after 3"), "\(text.output)")
            #expect(try kvtool(["changes", path, "--after", "-1"]).status != 0)

            // --follow in another process sees every change made here — 16 tasks appending — in order, each once.
            let process = Process()
            let pipe = Pipe()
            process.executableURL = URL(fileURLWithPath: try helperExecutable("kvtool"))
            process.arguments = ["changes", path, "--after", "\(position)", "--follow", "--json"]
            process.standardOutput = pipe
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let sessions = try timeline.listSessions(limit: 3).items.map(\.id)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<16 {
                    group.addTask {
                        for round in 0..<10 { try await timeline.append(NewTurn(role: .user, content: "live \(task) \(round)"), to: sessions[task % 3]) }
                    }
                }
                try await group.waitForAll()
            }
            // From now on kvtool has 60 s to print them all (it prints each as it reads it).
            let watchdog = DispatchWorkItem { kill(process.processIdentifier, SIGKILL) }
            DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: watchdog)
            var received = ""
            while received.split(separator: "\n").count < 160 {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                received += String(decoding: chunk, as: UTF8.self)
            }
            watchdog.cancel()
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            struct Line: Decodable { var position: Int; var kind: String }
            let lines = try received.split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(lines.map(\.position) == Array(position + 1...position + 160),
                    "exit \(process.terminationStatus), stderr: \(stderr.prefix(500)), stdout: \(received.prefix(300))")
            #expect(lines.allSatisfy { $0.kind == "turnsAppended" })

            // stat shows the log's extent and each consumer's lag.
            try await timeline.acknowledge(position - 1, consumer: "replica")
            struct Stat: Decodable {
                struct Log: Decodable { struct Consumer: Decodable { var name: String; var lag: Int }; var currentPosition: Int; var consumers: [Consumer] }
                var changeLog: Log
            }
            let stat = try JSONDecoder().decode(Stat.self, from: Data(try kvtool(["stat", path, "--json"]).output.utf8))
            #expect(stat.changeLog.currentPosition == position + 160 && stat.changeLog.consumers.map(\.name) == ["replica"])
            #expect(stat.changeLog.consumers.first?.lag == 161)
            #expect(try kvtool(["stat", path]).output.contains("consumers: replica at \(position - 1) (lag 161)"))
            await timeline.close()
        }
    }
}
