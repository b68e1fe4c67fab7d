import TestSupport
import TimelineCBOR
import TimelineDocumentStore
import Foundation
import TimelineLMDB
import Testing
import Synchronization
@testable import Timeline

/// Inputs a careless or hostile caller can send, and damaged records: each gets a clear error,
/// writes nothing, and never traps or hangs the process (defects D1–D3 and D6 of the
/// hostile-input probe).
@Suite("Hostile input: clear errors, nothing written, no trap")
struct HostileInputTests {
    /// Whether `error` is `TimelineError.invalidValue` for `field`.
    private func isInvalidValue(_ error: any Error, _ field: String) -> Bool {
        if let error = error as? TimelineError, case .invalidValue(let name, _) = error { return name == field }
        return false
    }

    @Test("D1: a total that would overflow is refused; the session and the other callers of the batch are unaffected")
    func overflowingTotals() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "tokens"))
            try await timeline.append(NewTurn(role: .user, content: "a", inputTokens: .max), to: session.id)
            let before = try #require(try await timeline.session(session.id))
            // The probe's crash: the second append made `inputTokens += .max` trap on the writer thread.
            await #expect { try await timeline.append(NewTurn(role: .user, content: "a", inputTokens: .max), to: session.id) }
                throws: { isInvalidValue($0, "inputTokens") }
            try await timeline.append(NewTurn(role: .user, content: "b", outputTokens: .max), to: session.id)
            await #expect { try await timeline.append(NewTurn(role: .user, content: "b", outputTokens: 1), to: session.id) }
                throws: { isInvalidValue($0, "outputTokens") }
            try await timeline.append(NewTurn(role: .user, content: "c", cost: Cost(nanos: .max)), to: session.id)
            await #expect { try await timeline.append(NewTurn(role: .user, content: "c", cost: Cost(nanos: 1)), to: session.id) }
                throws: { isInvalidValue($0, "cost") }
            let after = try #require(try await timeline.session(session.id))
            #expect(after.turnCount == before.turnCount + 2)
            #expect(after.inputTokens == .max && after.outputTokens == .max)

            // Good and bad appends in one group-committed burst: only the bad ones fail.
            let others = try await (0..<8).asyncMap { _ in try await timeline.createSession(NewSession()) }
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for (index, other) in others.enumerated() {
                    group.addTask {
                        let bad = index % 2 == 0
                        let turn = NewTurn(role: .user, content: "x", inputTokens: bad ? -1 : 3)
                        do { try await timeline.append(turn, to: other.id); return (index, true) } catch { return (index, false) }
                    }
                    group.addTask {
                        do { try await timeline.append(NewTurn(role: .user, content: "y", inputTokens: .max), to: session.id); return (-1, true) }
                        catch { return (-1, false) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for (index, succeeded) in outcomes where index >= 0 { #expect(succeeded == (index % 2 == 1), "session \(index)") }
            #expect(outcomes.filter { $0.0 == -1 }.allSatisfy { !$0.1 })
            for (index, other) in others.enumerated() {
                #expect(try await timeline.session(other.id)?.turnCount == (index % 2 == 1 ? 1 : 0))
            }
            #expect(try timeline.check().isEmpty)
            await timeline.close()
        }
    }

    @Test("D1: negative, NaN, infinite and out-of-range values are refused before anything is written")
    func outOfRangeValues() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "values"))
            let bad: [(NewTurn, String)] = [
                (NewTurn(role: .user, content: "", inputTokens: -1), "inputTokens"),
                (NewTurn(role: .user, content: "", outputTokens: .min), "outputTokens"),
                (NewTurn(role: .user, content: "", cost: -0.5), "cost"),
                (NewTurn(role: .user, content: "", cost: Cost(nanos: .min)), "cost"),
                (NewTurn(role: .user, content: "", duration: -.infinity), "duration"),
                (NewTurn(role: .user, content: "", created: Date(timeIntervalSince1970: .nan)), "created"),
                (NewTurn(role: .user, content: "", created: .distantFuture), "created"),
                (NewTurn(role: .user, content: "", created: Date(timeIntervalSince1970: -1e12)), "created"),
            ]
            for (number, (turn, field)) in bad.enumerated() {
                // In a batch with a good turn first: the whole append is refused. (Caught by hand:
                // Swift Testing would print the turn, and `Date.description` traps on a NaN date.)
                var refusal: (any Error)?
                do { try await timeline.append([NewTurn(role: .user, content: "ok"), turn], to: session.id) } catch { refusal = error }
                #expect(refusal.map { isInvalidValue($0, field) } == true, "bad turn \(number): \(refusal.map { "\($0)" } ?? "accepted")")
            }
            #expect(try await timeline.session(session.id)?.turnCount == 0)
            let infinite = NewSession(created: Date(timeIntervalSince1970: .infinity))
            var refusal: (any Error)?
            do { _ = try await timeline.createSession(infinite) } catch { refusal = error }
            #expect(refusal.map { isInvalidValue($0, "created") } == true)
            await #expect { try await timeline.createSession(NewSession(project: String(repeating: "p", count: 201))) }
                throws: { isInvalidValue($0, "project") }
            await #expect { try await timeline.updateSession(session.id) { $0.project = String(repeating: "\u{0}", count: 300) } }
                throws: { isInvalidValue($0, "project") }
            await #expect { try await timeline.saveCrystal(NewCrystal(text: "s", tokens: -5), for: session.id) }
                throws: { isInvalidValue($0, "tokens") }
            await #expect { try await timeline.saveCheckpoint(NewCheckpoint(created: Date(timeIntervalSince1970: 1e11)), for: session.id) }
                throws: { isInvalidValue($0, "created") }
            // The longest project accepted still indexes (every byte escaped: 400 bytes of key).
            let longest = try await timeline.createSession(NewSession(project: String(repeating: "\u{0}", count: 200)))
            #expect(try await timeline.listSessions(filter: SessionFilter(project: longest.project)).items.map(\.id) == [longest.id])
            let stored = try #require(try await timeline.session(session.id))
            #expect(stored.turnCount == 0 && stored.crystalCount == 0 && stored.checkpointCount == 0)
            #expect(try await timeline.listSessions().items.count == 2)
            #expect(try timeline.check().isEmpty)
            await timeline.close()
        }
    }

    @Test("D2: a damaged turn count (≥ 2^63) gives a corrupted error naming the session, not a trap")
    func hugeTurnCount() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "damaged"))
            try await timeline.append(sampleTurns(3), to: session.id)
            // A counter at Int.max: reads stop at the missing turns, an append refuses to go past it.
            try timeline.store.write { txn in
                var damaged = try #require(try timeline.sessions.get(KeyBytes(session.id), in: txn))
                damaged.turnCount = .max
                try timeline.sessions.put(damaged, in: txn)
            }
            for reverse in [false, true] {
                #expect { try timeline.read { txn in try txn.turns(of: session.id, reverse: reverse) } }
                    throws: { ($0 as? DocumentStoreError)?.kind == .corrupted && "\($0)".contains("\(session.id)") }
            }
            #expect(try timeline.read { txn in try txn.turns(of: session.id, limit: 2) }.items.count == 2)
            await #expect { try await timeline.append(NewTurn(role: .user, content: "x"), to: session.id) }
                throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
            #expect(try timeline.check().contains { $0.kind == "turnGap" })
            // Past Int.max (and negative), the stored record no longer decodes: corrupted, naming the session.
            for count in [CBORValue.unsigned(1 << 63), .unsigned(.max), .negative(0)] {
                try editStoredRecord(timeline, timeline.sessions, key: KeyBytes(session.id), version: Session.recordVersion) { $0["turnCount"] = count }
                for reverse in [false, true] {
                    #expect { try timeline.read { txn in try txn.turns(of: session.id, reverse: reverse) } }
                        throws: { ($0 as? DocumentStoreError)?.kind == .corrupted && ($0 as? DocumentStoreError)?.key == KeyBytes(session.id).description }
                }
                await #expect { try await timeline.append(NewTurn(role: .user, content: "x"), to: session.id) }
                    throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
                #expect(try timeline.check().contains { $0.kind == "undecodable" })
            }
            await timeline.close()
        }
    }

    @Test("D7: a damaged date or duration in a stored record never ends the process: NaN is corrupted, and an export's error is safe to describe")
    func damagedDates() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "dates"))
            try await timeline.append(sampleTurns(2), to: session.id)
            func damage(turnField field: UInt64, _ value: CBORValue) throws {
                try editStoredRecord(timeline, timeline.turnRecords, key: KeyBytes(session.id, UInt64(1)), version: Turn.recordVersion) {
                    $0[fieldID: field] = value
                }
            }
            // A NaN `created` (field 3) was read as a Date that trapped when described: the error of
            // exportJSON, logged, ended the process. Now every read refuses the record, and check names it.
            try damage(turnField: 3, .tagged(1, .float(.nan)))
            #expect { try timeline.turns(of: session.id) } throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
            #expect { try timeline.forEachTurn(of: session.id) { turn in _ = try turn.created } }
                throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
            #expect { try timeline.exportJSON(session.id) } throws: { "\($0)".contains("NaN") }
            #expect(try timeline.check().contains { $0.kind == "undecodable" && $0.location.contains("turns") })
            // Far out of range (1e300 s), an infinite or negative duration (field 4): reads go on, an
            // export refuses the first two with an error that describes, and check names each value
            // (it said the store was consistent).
            for (field, value) in [(UInt64(3), CBORValue.tagged(1, .float(1e300))), (4, .float(.infinity)), (4, .float(-1))] {
                try damage(turnField: field, value)
                #expect(try timeline.turns(of: session.id).items.count == 2)
                if value != .float(-1) {
                    let error = #expect(throws: (any Error).self) { try timeline.exportJSON(session.id) }
                    #expect(!"\(String(describing: error))".isEmpty)
                }
                let problems = try timeline.check()
                #expect(problems.count == 1 && problems.allSatisfy { $0.kind == "invalidValue" && $0.location == "turns \(session.id) 1"
                    && $0.detail.hasPrefix(field == 3 ? "created: " : "duration: ") }, "\(problems)")
                try damage(turnField: field, field == 3 ? .tagged(1, .unsigned(1_800_000_000)) : .float(1))
            }
            #expect(try timeline.check().isEmpty)
            // A session's and a crystal's dates alike.
            let crystal = try await timeline.saveCrystal(NewCrystal(text: "s"), for: session.id)
            try timeline.store.write { txn in
                var damaged = try #require(try timeline.sessions.get(KeyBytes(session.id), in: txn))
                damaged.created = Date(timeIntervalSince1970: 1e300)
                try timeline.sessions.put(damaged, in: txn)
                var far = crystal
                far.created = Date(timeIntervalSince1970: -1e12)
                try timeline.crystalRecords.put(far, in: txn)
            }
            #expect(Set(try timeline.check().map { "\($0.kind) \($0.location)" })
                    == ["invalidValue sessions \(session.id)", "invalidValue crystals \(session.id) 0"])
            await timeline.close()
        }
    }

    @Test("D8: an id index entry that names a record of another id is corrupted, not that record — and an append of the id is not taken for a retry")
    func staleIDEntries() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "ids"))
            let turns = try await timeline.append(sampleTurns(2), to: session.id)
            let checkpoint = try await timeline.saveCheckpoint(NewCheckpoint(state: Data()), for: session.id)
            // Each record rewritten with another id, its index entries left as they were.
            try timeline.store.write { txn in
                var turn = turns[1]
                turn.id = UUID()
                try timeline.turnRecords.database.put(
                    Envelope.header(recordVersion: Turn.recordVersion) + CBOREncoder().encode(turn), for: KeyBytes(session.id, UInt64(1)).bytes, in: txn)
                var renamed = checkpoint
                renamed.id = UUID()
                try timeline.checkpointRecords.database.put(
                    Envelope.header(recordVersion: Checkpoint.recordVersion) + CBOREncoder().encode(renamed), for: KeyBytes(session.id, UInt64(0)).bytes, in: txn)
            }
            // Both returned the record of the other id; the append returned it as the stored turn and wrote nothing.
            #expect { try timeline.turn(id: turns[1].id, in: session.id) } throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
            await #expect { try await timeline.append(NewTurn(id: turns[1].id, role: .user, content: "again"), to: session.id) }
                throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
            #expect { try timeline.checkpoint(checkpoint.id) } throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
            #expect(try timeline.session(session.id)?.turnCount == 2)
            #expect(try timeline.check().contains { $0.kind == "missingIndexEntry" })
            await timeline.close()
        }
    }

    @Test("a clock that gives NaN or a time outside 1678–2261 fails each write with invalidValue(clock), nothing written: its records would not read back or export")
    func badClocks() async throws {
        for seconds in [Double.nan, .infinity, 32_503_680_000, -30_610_224_000] {   // NaN, ∞, the years 3000 and 1000
            try await withTemporaryDirectory { dir in
                let good = SteppingClock()
                let bad = Atomic<Bool>(false)
                let timeline = try TimelineStore(path: dir + "/t", configuration: .init(durability: .noSync),
                                                 clock: { bad.load(ordering: .relaxed) ? Date(timeIntervalSince1970: seconds) : good.now() })
                let session = try await timeline.createSession(NewSession(title: "before"))
                bad.store(true, ordering: .relaxed)
                let position = try timeline.currentPosition()
                for write in [{ _ = try await timeline.createSession(NewSession(title: "x")) },
                              { _ = try await timeline.append(NewTurn(role: .user, content: "x"), to: session.id) },
                              { _ = try await timeline.updateSession(session.id) { $0.title = "y" } },
                              { _ = try await timeline.saveCrystal(NewCrystal(text: "s"), for: session.id) }] as [@Sendable () async throws -> Void] {
                    await #expect {
                        try await write()
                    } throws: { error in
                        guard case TimelineError.invalidValue(let field, _) = error else { return false }
                        return field == "clock"
                    }
                }
                // (A NaN creation time made records that no read could decode.)
                #expect(try timeline.currentPosition() == position && timeline.countSessions() == 1 && timeline.check().isEmpty)
                bad.store(false, ordering: .relaxed)
                _ = try await timeline.append(NewTurn(role: .user, content: "after"), to: session.id)
                await timeline.close()
            }
        }
    }

    @Test("D9: a session record that says it is another session is corrupted: an append to it wrote its turn and record over the other session")
    func sessionUnderAnotherID() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let a = try await timeline.createSession(NewSession(title: "A"))
            let b = try await timeline.createSession(NewSession(title: "B"))
            try await timeline.append(NewTurn(role: .user, content: "b0", inputTokens: 5), to: b.id)
            try editStoredRecord(timeline, timeline.sessions, key: KeyBytes(a.id), version: Session.recordVersion) {   // A's record given B's id, as a hand-made load could
                $0["id"] = .tagged(37, .bytes(withUnsafeBytes(of: b.id.uuid) { Array($0) }))
            }
            let corrupted: @Sendable (any Error) -> Bool = { ($0 as? DocumentStoreError)?.kind == .corrupted }
            #expect(performing: { try timeline.session(a.id) }, throws: corrupted)
            await #expect(performing: { try await timeline.append(NewTurn(role: .user, content: "a0"), to: a.id) }, throws: corrupted)
            await #expect(performing: { try await timeline.updateSession(a.id) { $0.title = "A2" } }, throws: corrupted)
            #expect(try await timeline.repairTotals().isEmpty)   // A's record, read as B, does not sum to B's turns
            // B is as it was.
            #expect(try timeline.session(b.id)?.title == "B")
            #expect(try timeline.turns(of: b.id).items.map(\.content) == ["b0"])
            #expect(try timeline.check().contains { $0.kind == "keyMismatch" })
            await timeline.close()
        }
    }

    @Test("D3: a cycle of parents gives a corrupted error and a check problem, never a hang")
    func parentCycle() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let root = try await timeline.createSession(NewSession(title: "root"))
            try await timeline.append(sampleTurns(4), to: root.id)
            let fork = try await timeline.fork(session: root.id, at: 2)
            try await timeline.append(sampleTurns(2), to: fork.id)
            // Self-parent, then a two-session cycle.
            for (child, parent) in [(root.id, root.id), (root.id, fork.id)] {
                try timeline.store.write { txn in
                    var damaged = try #require(try timeline.sessions.get(KeyBytes(child), in: txn))
                    damaged.parentID = parent
                    damaged.branchPoint = 1
                    try timeline.sessions.put(damaged, in: txn)
                }
                for id in [root.id, fork.id] {
                    #expect { try timeline.read { txn in try txn.turns(of: id) } }
                        throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
                }
                #expect(try timeline.check().contains { $0.kind == "parentCycle" })
            }
            await timeline.close()
        }
    }

    @Test("D6: a turn stored under another sequence fails check and reads, instead of showing at the wrong place")
    func turnUnderWrongKey() async throws {
        try await withTemporaryDirectory { dir in
            let timeline = try openTimeline(dir)
            let session = try await timeline.createSession(NewSession(title: "moved"))
            let turns = try await timeline.append(sampleTurns(3), to: session.id)
            var moved = turns[2]
            moved.sequence = 999
            try timeline.store.write { txn in
                try timeline.turnRecords.database.put(
                    Envelope.header(recordVersion: Turn.recordVersion) + CBOREncoder().encode(moved), for: KeyBytes(session.id, UInt64(2)).bytes, in: txn)
            }
            let problems = try timeline.check()
            #expect(problems.contains { $0.kind == "keyMismatch" && $0.location.contains("turns") })
            #expect { try timeline.read { txn in try txn.turns(of: session.id) } }
                throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
            #expect { try timeline.read { txn in try txn.turn(session: session.id, sequence: 2) } }
                throws: { ($0 as? DocumentStoreError)?.kind == .corrupted }
            // Checkpoints and crystals alike.
            let crystal = try await timeline.saveCrystal(NewCrystal(text: "s"), for: session.id)
            var renumbered = crystal
            renumbered.version = 7
            try timeline.store.write { txn in
                try timeline.crystalRecords.database.put(
                    Envelope.header(recordVersion: Crystal.recordVersion) + CBOREncoder().encode(renumbered), for: KeyBytes(session.id, UInt64(0)).bytes, in: txn)
            }
            #expect(try timeline.check().contains { $0.kind == "keyMismatch" && $0.location.contains("crystals") })
            await timeline.close()
        }
    }
}
