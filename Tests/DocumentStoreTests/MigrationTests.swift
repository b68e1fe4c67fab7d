import TestSupport
import TimelineDocumentStore
import Foundation
import MigrationFixtures
import Testing

@Suite("Migrations")
struct MigrationTests {
    static let count = 10_000

    /// Every record of the version-3 collection is what the two steps make of its version-1
    /// original, and the index holds exactly one entry per record, keyed by the new value.
    func verifyV3(_ path: String, count: Int = MigrationTests.count) throws {
        let store = try Store(path: path, migrationPolicy: .failIfNeeded)
        let people = try People.openV3(store)
        try store.read { txn throws in
            let all = try people.scan(in: txn).items
            #expect(all.count == count)
            #expect(all == (0..<count).map(People.v3))
            var entries = 0
            for city in People.cities {
                let code = city.uppercased()
                let listed = try people.scan(index: "byCity", matching: KeyBytes(code), in: txn).items
                #expect(listed == all.filter { $0.cityCode == code }, "index entries for \(code)")
                entries += listed.count
                #expect(try people.scan(index: "byCity", matching: KeyBytes(city), in: txn).items.isEmpty)
            }
            #expect(entries == count)
            #expect(try people.index("byCity").database.map { try $0.count(in: txn) } == count)
        }
        #expect(try MigrationRunner(store: store).plan().allSatisfy { !$0.needsMigration })
    }

    @Test("v1 → v2 → v3 over 10,000 records: rename, derive, change the indexed value; a backup of each")
    func twoMigrations() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/people"
            try People.writeV1Store(path, count: Self.count)
            do {
                let store = try Store(path: path)                                  // migrateNow, with a backup
                let people = try People.openV2(store)
                try store.read { txn throws in
                    #expect(try people.get(KeyBytes(Int64(5)), in: txn) == PersonV2(id: 5, fullName: "Person 5 Ünï", city: "coimbra"))
                    #expect(try people.scan(index: "byCity", matching: KeyBytes("porto"), in: txn).items.count == 1_429)
                }
                #expect(try store.storedVersion(of: "people") == 2)
            }
            // The backup is the version-1 store, openable as such.
            do {
                let backup = try Store(path: path + ".backup-people-v1", migrationPolicy: .failIfNeeded)
                #expect(try backup.storedVersion(of: "people") == 1)
                let people = try People.openV1(backup)
                #expect(try backup.read { txn in try people.get(KeyBytes(Int64(5)), in: txn) } == People.v1(5))
                #expect(try backup.read { txn in try people.count(in: txn) } == Self.count)
            }
            // Opened through a path with a trailing slash, the backup still goes next to the store,
            // not inside it as `.backup-…`.
            do { _ = try People.openV3(Store(path: path + "/")) }
            #expect(FileManager.default.fileExists(atPath: path + ".backup-people-v2/data.mdb"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: path).sorted() == ["data.mdb", "lock.mdb"])
            try verifyV3(path)
        }
    }

    @Test("dry run counts records per version and writes nothing; failIfNeeded refuses; downgrade is refused")
    func planAndRefusals() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/people"
            try People.writeV1Store(path, count: 1_000)
            let before = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
            do {
                let refused = #expect(throws: DocumentStoreError.self) { try People.openV3(Store(path: path, migrationPolicy: .failIfNeeded)) }
                #expect(refused?.kind == .migrationNeeded(stored: 1, current: 3))
                let store = try Store(path: path, migrationPolicy: .lazy)
                _ = try People.openV3(store)
                let plan = try #require(try MigrationRunner(store: store).plan().first)
                #expect(plan.storedVersion == 1 && plan.currentVersion == 3 && plan.recordsByVersion == [1: 1_000])
                #expect(plan.recordsToMigrate == 1_000 && plan.needsMigration)
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == before)

            do {
                let store = try Store(path: path, migrationPolicy: .lazy)
                _ = try People.openV3(store)
                try MigrationRunner(store: store, backup: false).run()
            }
            let migrated = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
            let downgrade = #expect(throws: DocumentStoreError.self) { try People.openV2(Store(path: path)) }
            #expect(downgrade?.kind == .recordVersionTooNew(stored: 3, supported: 2))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")) == migrated)
        }
    }

    @Test("a failing step stops the run naming the record; lazy reads see both versions; a fixed step resumes")
    func failingStepAndLazyReads() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/people"
            try People.writeV1Store(path, count: 3_000)
            do {
                let store = try Store(path: path, migrationPolicy: .lazy)
                let people = try People.openV3(store, failingAt: 1_234)
                let failure = #expect(throws: DocumentStoreError.self) {
                    try MigrationRunner(store: store, backup: false, batchSize: 100).run()
                }
                #expect(failure?.kind == .migrationFailed(version: 2))
                #expect(failure?.key == KeyBytes(Int64(1_234)).description)
                #expect((failure?.underlying as? StepFailure) == StepFailure(id: 1_234))
                // Batches before the failing one are committed at version 3; the rest are still version 1.
                let plan = try #require(try MigrationRunner(store: store).plan().first)
                #expect(plan.recordsByVersion == [3: 1_200, 1: 1_800] && plan.inProgress)
                // Lazy reads return current records from both.
                try store.read { txn throws in
                    #expect(try people.get(KeyBytes(Int64(10)), in: txn) == People.v3(10))
                    #expect(try people.get(KeyBytes(Int64(2_500)), in: txn) == People.v3(2_500))
                }
                #expect(throws: DocumentStoreError.self) { try store.read { txn throws in try people.get(KeyBytes(Int64(1_234)), in: txn) } }
            }
            do {
                let store = try Store(path: path, migrationPolicy: .lazy)
                _ = try People.openV3(store)
                // A batch size set to 0 after `init` (which clamps its argument) used to loop forever.
                var runner = MigrationRunner(store: store, backup: false, batchSize: 100)
                runner.batchSize = 0
                let report = try #require(try runner.run().first)
                #expect(report.fromVersion == 1 && report.toVersion == 3 && report.rewritten == 1_800)
            }
            try verifyV3(path, count: 3_000)
        }
    }

    @Test("lazy: a service reads and writes while the runner migrates in the background")
    func lazyWhileRunning() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/people"
            try People.writeV1Store(path, count: 5_000)
            let store = try Store(path: path, configuration: .init(durability: .noSync), migrationPolicy: .lazy)
            let people = try People.openV3(store)
            let runner = Task.detached { try MigrationRunner(store: store, backup: false, batchSize: 50).run() }
            var random = SeededGenerator(seed: 9)
            var reads = 0
            while try MigrationRunner(store: store).plan().first?.needsMigration ?? false || reads < 200 {
                let id = Int.random(in: 0..<5_000, using: &random)
                #expect(try store.read { txn throws in try people.get(KeyBytes(Int64(id)), in: txn) } == People.v3(id))
                // New records are written at the current version, whatever the runner is doing.
                let fresh = PersonV3(id: Int64(10_000 + reads), fullName: "New \(reads)", initial: "N", cityCode: "LISBON")
                try store.write { txn in try people.put(fresh, in: txn) }
                reads += 1
            }
            _ = try await runner.value
            try store.read { txn throws in
                #expect(try people.count(in: txn) == 5_000 + reads)
                #expect(try people.check(in: txn).isEmpty)
                #expect(try people.scan(index: "byCity", matching: KeyBytes("LISBON"), in: txn).items.count == 715 + reads)
            }
        }
    }

    @Test("a migration killed mid-run, several times, resumes where it stopped and loses nothing")
    func killedAndResumed() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/people"
            try People.writeV1Store(path, count: Self.count)
            var positions: [Int] = []
            for _ in 0..<3 {
                // Let it commit a few batches, then kill it without warning.
                let run = try runUntilKilled("migration-child", [path, "250", "20000"], afterLines: 3)
                #expect(run.killed)
                let store = try Store(path: path, migrationPolicy: .lazy)
                _ = try People.openV3(store)
                let plan = try #require(try MigrationRunner(store: store).plan().first)
                #expect(plan.inProgress)
                positions.append(plan.recordsByVersion[3] ?? 0)
            }
            // Each run went further than the one before.
            #expect(positions == positions.sorted() && Set(positions).count == 3 && positions[0] > 0)
            do {
                let store = try Store(path: path, migrationPolicy: .lazy)
                _ = try People.openV3(store)
                try MigrationRunner(store: store, backup: false).run()
            }
            try verifyV3(path)
        }
    }

    @Test("records moved onto one key are merged by the collection's merge, or the run stops")
    func merge() throws {
        struct Day: Codable { var id: String; var amount: Int }
        struct Month: Codable, Equatable { var id: String; var total: Int }
        let toMonths = MigrationStep.update(from: 1) { day in
            day["total"] = day["amount"]
            day["amount"] = nil
            day["id"] = day["id"]?.textValue.map { .text(String($0.prefix(7))) }
        }
        try withTemporaryDirectory { dir in
            let path = dir + "/ledger"
            do {
                let store = try Store(path: path)
                let days = try store.collection("ledger", primaryKey: { (day: Day) in KeyBytes(day.id) })
                try store.write { txn in
                    for (id, amount) in [("2026-10-30", 1), ("2026-11-01", 2), ("2026-11-02", 3), ("2026-11-15", 4), ("2026-12-01", 5)] {
                        try days.put(Day(id: id, amount: amount), in: txn)
                    }
                }
            }
            let refused = #expect(throws: DocumentStoreError.self) {
                _ = try Store(path: path, migrationPolicy: .migrateNow(backup: false))
                    .collection("ledger", version: 2, primaryKey: { (month: Month) in KeyBytes(month.id) }, migrations: [toMonths])
            }
            #expect(refused?.kind == .migrationKeyCollision)
            let store = try Store(path: path, migrationPolicy: .migrateNow(backup: false))
            let months = try store.collection("ledger", version: 2, primaryKey: { (month: Month) in KeyBytes(month.id) },
                                              migrations: [toMonths], merge: { kept, more in Month(id: kept.id, total: kept.total + more.total) })
            #expect(try store.read { txn in try months.scan(in: txn).items } == [
                Month(id: "2026-10", total: 1), Month(id: "2026-11", total: 9), Month(id: "2026-12", total: 5),
            ])
        }
    }

    @Test("a step can split a record, remove one, and move one to a new key")
    func splitRemoveMove() throws {
        struct Item: Codable, Equatable { var id: Int64; var text: String }
        try withTemporaryDirectory { dir in
            let path = dir + "/items"
            do {
                let store = try Store(path: path)
                let items = try store.collection("items", primaryKey: { (item: Item) in KeyBytes(item.id) })
                try store.write { txn in for id in 1...4 { try items.put(Item(id: Int64(id), text: "t\(id)"), in: txn) } }
            }
            let step = MigrationStep.split(from: 1) { item in
                switch item["id"]?.int64Value {
                case 1: return []                                                   // removed
                case 2: return [item, .map([.init(.text("id"), CBORValue(20)), .init(.text("text"), .text("t2b"))])]  // split
                case 3:                                                             // moved to a new key
                    var moved = item
                    moved["id"] = CBORValue(30)
                    return [moved]
                default: return [item]
                }
            }
            let store = try Store(path: path, migrationPolicy: .migrateNow(backup: false))
            let items = try store.collection("items", version: 2, primaryKey: { (item: Item) in KeyBytes(item.id) }, migrations: [step])
            let all = try store.read { txn throws in try items.scan(in: txn).items }
            #expect(all == [Item(id: 2, text: "t2"), Item(id: 4, text: "t4"), Item(id: 20, text: "t2b"), Item(id: 30, text: "t3")])
        }
    }
}
