import TestSupport
import Foundation
import TimelineLMDB
import Testing

@Suite("Bad input gives clear errors")
struct BadInputTests {
    @Test("a directory whose data.mdb is a text file: invalid, and the file is untouched")
    func textFileAsData() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let text = String(repeating: "these are my notes, not a database\n", count: 300)
            try text.write(toFile: path + "/data.mdb", atomically: false, encoding: .utf8)
            let error = #expect(throws: LMDBError.self) { try Environment(path: path) }
            #expect(error?.code == .invalid)
            #expect(error?.description.contains("not an LMDB data file") == true)
            #expect(try String(contentsOfFile: path + "/data.mdb", encoding: .utf8) == text)
        }
    }

    @Test("a lock.mdb that is not a regular file (a named pipe, a directory): invalid, naming it, in every mode; data.mdb untouched", arguments: ["pipe", "directory"])
    func lockNotAFile(_ kind: String) throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            do {
                let env = try Environment(path: path)
                let db = try env.openDatabase("d")
                try env.write { txn in try db.put(bytes("v"), for: bytes("k"), in: txn) }
                try env.close()
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
            try FileManager.default.removeItem(atPath: path + "/lock.mdb")
            if kind == "pipe" {
                #expect(mkfifo(path + "/lock.mdb", 0o600) == 0)
            } else {
                try FileManager.default.createDirectory(atPath: path + "/lock.mdb", withIntermediateDirectories: false)
            }
            for configuration in [Environment.Configuration(), .init(durability: .writeAheadLog), .init(readOnly: true)] {
                let error = #expect(throws: LMDBError.self) { try Environment(path: path, configuration: configuration) }
                #expect(error?.code == .invalid && error?.description.contains("lock.mdb is not a regular file") == true, "\(String(describing: error))")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == data)
        }
    }

    @Test("a store already open in this process is refused under any spelling, and the open one keeps working")
    func alreadyOpen() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let env = try Environment(path: path)
            let db = try env.openDatabase("d")
            try env.write { txn in try db.put(bytes("v"), for: bytes("k"), in: txn) }
            try FileManager.default.createSymbolicLink(atPath: dir + "/alias", withDestinationPath: path)
            for spelling in [path, path + "/.", dir + "/alias", dir + "/../" + URL(fileURLWithPath: dir).lastPathComponent + "/store"] {
                let refused = #expect(throws: LMDBError.self) { _ = try Environment(path: spelling, configuration: .init(readOnly: true)) }
                #expect(refused?.code == .alreadyOpen, "\(spelling)")
            }
            // The first environment's locks are intact: it still reads and writes.
            try env.write { txn in try db.put(bytes("w"), for: bytes("k2"), in: txn) }
            #expect(try env.read { txn in copy(try db.get(bytes("k"), in: txn)) } == bytes("v"))
            try env.close()
            let again = try Environment(path: path)
            let reopened = try again.openDatabase("d")
            #expect(try again.read { txn in copy(try reopened.get(bytes("k2"), in: txn)) } == bytes("w"))
        }
    }

    @Test("a path that is a file, and a missing directory opened read-only")
    func wrongPaths() throws {
        try withTemporaryDirectory { dir in
            let file = dir + "/plain-file"
            try "x".write(toFile: file, atomically: false, encoding: .utf8)
            let notDirectory = #expect(throws: LMDBError.self) { try Environment(path: file) }
            #expect(notDirectory?.code == .notADirectory)
            let missing = #expect(throws: LMDBError.self) {
                try Environment(path: dir + "/missing", configuration: .init(readOnly: true))
            }
            #expect(missing?.code == .noSuchFile)
            #expect(!FileManager.default.fileExists(atPath: dir + "/missing"))
        }
    }

    @Test("an empty path is refused in every mode, and no store appears in / (LMDB would put its files there)")
    func emptyPath() throws {
        let before = ["/data.mdb", "/lock.mdb"].map { FileManager.default.fileExists(atPath: $0) }
        for configuration in [Environment.Configuration(), .init(readOnly: true), .init(durability: .writeAheadLog)] {
            let refused = #expect(throws: LMDBError.self) { try Environment(path: "", configuration: configuration) }
            #expect(refused?.code == .invalidArgument && refused?.description.contains("the path is empty") == true, "\(String(describing: refused))")
        }
        #expect(["/data.mdb", "/lock.mdb"].map { FileManager.default.fileExists(atPath: $0) } == before)
    }

    @Test("a path with a NUL in it and limits out of range (readers, databases, map size, file mode) are refused, naming the problem; nothing is created")
    func nulAndReaders() throws {
        try withTemporaryDirectory { dir in
            let nul = #expect(throws: LMDBError.self) { try Environment(path: dir + "/a\u{0}b") }
            #expect(nul?.code == .invalidArgument && nul?.description.contains("NUL") == true, "\(String(describing: nul))")
            var configuration = Environment.Configuration()
            configuration.maxReaders = 0
            let readers = #expect(throws: LMDBError.self) { try Environment(path: dir + "/r", configuration: configuration) }
            #expect(readers?.code == .invalidArgument && readers?.description.contains("maxReaders") == true, "\(String(describing: readers))")
            // Limits past what LMDB sizes safely: `Int.max` databases wrapped LMDB's count and
            // crashed the first open of one; `Int.max` readers made a 256 GB lock file.
            let limits: [(String, Environment.Configuration)] = [
                ("maxDatabases", .init(maxDatabases: Int.max)), ("maxDatabases", .init(maxDatabases: -1)),
                ("maxReaders", .init(maxReaders: Int.max)), ("maxMapSize", .init(maxMapSize: 0)), ("fileMode", .init(fileMode: 0o4600)),
            ]
            for (field, configuration) in limits {
                let error = #expect(throws: LMDBError.self) { try Environment(path: dir + "/r", configuration: configuration) }
                #expect(error?.code == .invalidArgument && error?.description.contains(field) == true, "\(String(describing: error))")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
            // Copies: the same refusals for the destination.
            let env = try Environment(path: dir + "/store")
            defer { try? env.close() }
            for destination in ["", dir + "/copy\u{0}x"] {
                for repack in [false, true] {
                    let copy = #expect(throws: LMDBError.self) { repack ? try env.copyRepacked(to: destination) : try env.copy(to: destination) }
                    #expect(copy?.code == .invalidArgument, "\(String(describing: copy))")
                }
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["store"])
        }
    }

    @Test("read-only environments: no writes, no new databases")
    func readOnly() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            do {
                let env = try Environment(path: path)
                let db = try env.openDatabase("present")
                try env.write { txn throws in try db.put(bytes("v"), for: bytes("k"), in: txn) }
            }
            let env = try Environment(path: path, configuration: .init(readOnly: true))
            let missing = #expect(throws: LMDBError.self) { try env.openDatabase("absent") }
            #expect(missing?.code == .notFound)
            #expect(missing?.description.contains("absent") == true)
            let db = try env.openDatabase("present")
            try env.read { txn throws in #expect(copy(try db.get(bytes("k"), in: txn)) == bytes("v")) }
            let write = #expect(throws: LMDBError.self) { try env.write { _ in } }
            #expect(write?.code == .readOnly)
        }
    }

    @Test("a directory without write permission: permissionDenied")
    func readOnlyDirectory() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            chmod(path, 0o555)
            defer { chmod(path, 0o755) }
            if getuid() == 0 {
                // Root ignores permission bits: ask an unprivileged child process instead.
                let result = try Child(["open", path], wrapper: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]).finish()
                #expect(result.status == 0, "\(result.errors)")
                #expect(result.output.contains("error permissionDenied"), "\(result.output)")
            } else {
                let error = #expect(throws: LMDBError.self) { try Environment(path: path) }
                #expect(error?.code == .permissionDenied)
            }
        }
    }

    @Test("errors describe themselves with a Swift name, LMDB's message and advice")
    func descriptions() {
        let error = LMDBError(.mapFull, operation: "put into database \"turns\"")
        #expect(error.description.contains("mapFull"))
        #expect(error.description.contains("MDB_MAP_FULL"))
        #expect(error.description.contains("maxMapSize"))
        #expect(LMDBError.Code.keyExists.description == "keyExists")
        #expect(LMDBError.Code(rawValue: 12345).description == "code(12345)")
        // System errors a store's files can meet are named, with advice (they were "code(30)"…).
        for code in [LMDBError.Code.readOnlyFileSystem, .nameTooLong, .tooManyOpenFiles] {
            let named = LMDBError(code, operation: "open environment at /x")
            #expect(!named.description.contains("code(") && named.recovery != nil, "\(named)")
        }
    }

    @Test("a path with a name past 255 bytes is nameTooLong")
    func longName() throws {
        try withTemporaryDirectory { dir in
            let error = #expect(throws: LMDBError.self) { try Environment(path: dir + "/" + String(repeating: "n", count: 300)) }
            #expect(error?.code == .nameTooLong, "\(String(describing: error))")
        }
    }
}
