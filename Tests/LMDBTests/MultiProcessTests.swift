import TestSupport
import Foundation
import TimelineLMDB
import Testing

/// Tests that share a store with a real child process (`lmdb-child`), and kill it.
@Suite("Several processes on one store", .serialized)
struct MultiProcessTests {
    static let count = 300

    static func key(_ index: Int) -> [UInt8] {
        let digits = String(index)
        return bytes("k" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits)
    }

    static func value(_ index: Int) -> [UInt8] {
        bytes("value of \(index) ") + [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 100)
    }

    /// How many keys from k00000000 on are present, checking each value; records a gap.
    static func contiguousCount(_ db: Database, in txn: borrowing Transaction<some TransactionAccess>) throws -> Int {
        var index = 0
        for (key, value) in try collect(db, in: txn) {
            guard key == Self.key(index), value == Self.value(index) else {
                Issue.record("entry \(index) is not the expected one")
                return -1
            }
            index += 1
        }
        return index
    }

    @Test("the parent reads consistent, growing snapshots while a child writes")
    func childWrites() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let env = try Environment(path: path)
            let db = try env.openDatabase("data")
            let child = try Child(["write", path, "\(Self.count)"])
            var seen = 0
            var snapshots = 0
            while child.process.isRunning {
                let now = try env.read { txn throws in try Self.contiguousCount(db, in: txn) }
                #expect(now >= seen)
                seen = now
                snapshots += 1
            }
            let result = child.finish()
            #expect(result.status == 0, "\(result.errors)")
            #expect(try env.read { txn throws in try Self.contiguousCount(db, in: txn) } == Self.count)
            #expect(snapshots > 1)
        }
    }

    @Test("a child reads consistent snapshots while the parent writes")
    func parentWrites() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let env = try Environment(path: path)
            let db = try env.openDatabase("data")
            let child = try Child(["read", path, "\(Self.count)"])
            for index in 0..<Self.count {
                try env.write { txn throws in try db.put(Self.value(index), for: Self.key(index), in: txn) }
            }
            let result = child.finish()
            #expect(result.status == 0, "\(result.errors)")
            #expect(result.output.contains("saw \(Self.count)"))
        }
    }

    @Test("a map grown by another process is adopted (MDB_MAP_RESIZED)")
    func mapResizedElsewhere() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let env = try Environment(path: path, configuration: .init(mapSize: 1 << 20))
            let db = try env.openDatabase("data")
            try env.write { txn throws in try db.put(Self.value(0), for: Self.key(0), in: txn) }
            #expect(env.mapSize == 1 << 20)
            let result = try Child(["grow", path, "40"]).finish()
            #expect(result.status == 0, "\(result.errors)")
            try env.read { txn throws in
                let big = try #require(try db.get(bytes("big39"), in: txn))
                #expect(big.count == 1 << 20 && big.allSatisfy { $0 == 0xAB })
            }
            #expect(env.mapSize >= 40 << 20)
            try env.write { txn throws in try db.put(Self.value(1), for: Self.key(1), in: txn) }
            try env.read { txn throws in #expect(try db.count(in: txn) == 42) }
        }
    }

    @Test("a child killed mid-write (SIGKILL) leaves every committed batch and nothing else")
    func killedWriter() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            let child = try Child(["write-forever", path])
            var lastBatch = -1
            var pending = Data()
            let reader = child.output.fileHandleForReading
            while lastBatch < 15 {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                let lines = String(decoding: pending, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                if let complete = lines.dropLast().last, let batch = Int(complete) { lastBatch = batch }
            }
            kill(child.process.processIdentifier, SIGKILL)
            child.process.waitUntilExit()
            #expect(child.process.terminationReason == .uncaughtSignal)
            #expect(lastBatch >= 15)

            let env = try Environment(path: path)
            let db = try env.openDatabase("data", create: false)
            let present = try env.read { txn throws in try Self.contiguousCount(db, in: txn) }
            #expect(present % 100 == 0, "a batch was half written: \(present) keys")
            #expect(present >= (lastBatch + 1) * 100, "an acknowledged batch was lost")
        }
    }

    @Test("reader slots of a killed process are cleared at open")
    func staleReaders() throws {
        try withTemporaryDirectory { dir in
            let path = storePath(dir)
            do {
                let env = try Environment(path: path)
                let db = try env.openDatabase("data")
                try env.write { txn throws in try db.put(Self.value(0), for: Self.key(0), in: txn) }
            }
            // LMDB resets the reader table when a process opens an environment nobody else has
            // open, so a second, living reader keeps the table (and the stale slot) in place.
            let living = try Child(["hold-read", path])
            let dying = try Child(["hold-read", path])
            for child in [living, dying] {
                #expect(String(decoding: child.output.fileHandleForReading.availableData, as: UTF8.self).contains("holding"))
            }
            kill(dying.process.processIdentifier, SIGKILL)
            dying.process.waitUntilExit()
            let env = try Environment(path: path)
            #expect(env.staleReadersClearedAtOpen == 1)
            kill(living.process.processIdentifier, SIGKILL)
            living.process.waitUntilExit()
            #expect(try env.clearStaleReaders() == 1)
            #expect(try env.clearStaleReaders() == 0)
        }
    }
}
