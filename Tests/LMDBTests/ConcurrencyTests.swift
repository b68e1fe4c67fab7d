import TestSupport
import TimelineLMDB
import Synchronization
import Testing

@Suite("Concurrency from Swift tasks")
struct ConcurrencyTests {
    final class Progress: Sendable {
        let writersDone = Atomic<Int>(0)
        let snapshots = Atomic<Int>(0)
    }

    static let writes = 1_500
    static let value = [UInt8](repeating: 0x5A, count: 2_000)

    static func key(writer: Int, _ index: Int) -> [UInt8] { bytes("w\(writer)-\(index + 1_000_000)") }
    static func counter(writer: Int) -> [UInt8] { bytes("count-w\(writer)") }

    /// Reads writer `writer`'s counter and checks that exactly that many of its keys are visible.
    static func checkSnapshot(_ db: Database, writer: Int, in txn: borrowing Transaction<some TransactionAccess>) throws -> Int {
        let count = try db.get(counter(writer: writer), in: txn).map { Int(String(decoding: $0, as: UTF8.self)) ?? -1 } ?? 0
        let visible = try collect(db, .prefix(bytes("w\(writer)-")), in: txn).count
        #expect(visible == count, "writer \(writer): counter says \(count), \(visible) keys visible")
        return count
    }

    @Test("8 reader tasks and 2 writer tasks, while the map grows: consistent snapshots, no lost writes")
    func readersAndWriters() async throws {
        try await withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(mapSize: 1 << 20, durability: .noSync))
            let db = try env.openDatabase("shared")
            let progress = Progress()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<2 {
                    group.addTask {
                        defer { progress.writersDone.add(1, ordering: .relaxed) }
                        for index in 0..<Self.writes {
                            try env.write { txn throws in
                                try db.put(Self.value, for: Self.key(writer: writer, index), in: txn)
                                try db.put(bytes("\(index + 1)"), for: Self.counter(writer: writer), in: txn)
                            }
                            if index % 100 == 0 { await Task.yield() }
                        }
                    }
                }
                for _ in 0..<8 {
                    group.addTask {
                        var last = [0, 0]
                        while progress.writersDone.load(ordering: .relaxed) < 2 {
                            try env.read { txn throws in
                                for writer in 0..<2 {
                                    let seen = try Self.checkSnapshot(db, writer: writer, in: txn)
                                    #expect(seen >= last[writer], "a later snapshot saw fewer writes")
                                    last[writer] = seen
                                }
                            }
                            progress.snapshots.add(1, ordering: .relaxed)
                            await Task.yield()
                        }
                    }
                }
                try await group.waitForAll()
            }
            try env.read { txn throws in
                for writer in 0..<2 { #expect(try Self.checkSnapshot(db, writer: writer, in: txn) == Self.writes) }
            }
            #expect(env.mapSize > 1 << 20)
            #expect(progress.snapshots.load(ordering: .relaxed) > 0)
        }
    }

    @Test("writers on several threads that swallow a full map still grow it and land every write")
    func swallowedMapFullUnderContention() async throws {
        try await withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir), configuration: .init(mapSize: 1 << 20, durability: .noSync))
            let db = try env.openDatabase("big")
            let value = [UInt8](repeating: 7, count: 32 << 10)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<3 {
                    group.addTask {
                        for index in 0..<150 {
                            try env.write { txn throws in
                                // The closure ignores the error; the environment must not.
                                try? db.put(value, for: bytes("w\(writer)-\(index + 1000)"), in: txn)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            try env.read { txn throws in #expect(try db.count(in: txn) == 450) }
        }
    }

    @Test("many tasks open the same database handle at once")
    func concurrentOpen() async throws {
        try await withTemporaryDirectory { dir in
            let env = try Environment(path: storePath(dir))
            let handles = try await withThrowingTaskGroup(of: Database.self) { group in
                for _ in 0..<16 { group.addTask { try env.openDatabase("same") } }
                return try await group.reduce(into: [Database]()) { $0.append($1) }
            }
            #expect(Set(handles).count == 1)
        }
    }
}
