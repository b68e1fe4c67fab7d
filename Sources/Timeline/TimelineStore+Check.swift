#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import TimelineLMDB
internal import TimelineDocumentStore

/// Something wrong in a timeline, found by ``TimelineStore/check(progress:)``.
public struct TimelineProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A short name for the kind of problem, e.g. `turnGap`, `missingIndexEntry`.
    public var kind: String
    /// Where: the database and the key (hex) or session.
    public var location: String
    /// What exactly.
    public var detail: String

    /// One line: kind, where, what.
    public var description: String { "\(kind) at \(location): \(detail)" }

    /// A problem of `kind` at `location` (tools that find problems of their own, such as damaged
    /// pages, report them in the same shape).
    public init(kind: String, location: String, detail: String) {
        self.kind = kind
        self.location = location
        self.detail = detail
    }
}

extension TimelineStore {
    /// Reads the whole timeline, from one snapshot, and reports everything inconsistent: records
    /// that do not decode; index entries without their record and records without their index
    /// entries; turn sequences with gaps, or outside a session's own range; forks whose parent
    /// is missing or shorter than the branch point; turns, checkpoints and crystals of sessions
    /// that do not exist; checkpoint and crystal numbers the session never handed out; records
    /// stored under another key than their fields give; chains of parents that form a cycle;
    /// session token and cost totals that are not the sums of the session's own turns; values the
    /// timeline refuses to write (`invalidValue`: a date outside the years 1678–2261, a negative
    /// count or cost, a negative or non-finite duration), which an import refuses. Writes
    /// nothing; an empty result means the store is consistent.
    /// - Parameter progress: called now and then with what is being read and how many records so far.
    public func check(progress: ((String, Int) -> Void)? = nil) throws -> [TimelineProblem] {
        try store.read { txn in
            var problems: [TimelineProblem] = []
            func add(_ kind: String, _ location: String, _ detail: String) {
                problems.append(TimelineProblem(kind: kind, location: location, detail: detail))
            }
            for problem in try sessions.check(in: txn, progress: { progress?("sessions", $0) })
                + (try turnRecords.check(in: txn, progress: { progress?("turns", $0) }))
                + (try checkpointRecords.check(in: txn, progress: { progress?("checkpoints", $0) }))
                + (try crystalRecords.check(in: txn, progress: { progress?("crystals", $0) }))
                + (try changeRecords?.check(in: txn, progress: { progress?("changes", $0) }) ?? []) {
                let kind = switch problem.kind {
                case .undecodable: "undecodable"
                case .danglingIndexEntry: "danglingIndexEntry"
                case .missingIndexEntry: "missingIndexEntry"
                case .keyMismatch: "keyMismatch"
                }
                add(kind, "\(problem.collection) \(problem.key)", problem.detail)
            }
            // Sessions that decode, by id.
            var known: [UUID: Session] = [:]
            try walkKeys(sessions.database, in: txn) { key, _ in
                guard key.count == 16, let session = try? sessions.get(KeyBytes(raw: key), in: txn) else { return }
                known[session.id] = session
            }
            let ordered = known.values.sorted { $0.id.precedes($1.id) }
            /// Adds an `invalidValue` problem for a value the timeline refuses to write — a date
            /// outside the years 1678–2261, a negative count or cost, a negative or non-finite
            /// duration — which only damage or a hand-made load stores, and an import refuses.
            func checkValues(_ location: @autoclosure () -> String, _ body: () throws -> Void) rethrows {
                do { try body() } catch TimelineError.invalidValue(let field, let reason) {
                    add("invalidValue", location(), "\(field): \(reason)")
                }
            }
            for session in ordered {
                let location = "sessions \(session.id)"
                try checkValues(location) { try Validation.values(of: session) }
                if (session.parentID == nil) != (session.branchPoint == nil) {
                    add("badForkPoint", location, "parentID and branchPoint must be set together")
                }
                if let parentID = session.parentID {
                    if let parent = known[parentID] {
                        if let point = session.branchPoint, point > parent.turnCount {
                            add("badForkPoint", location, "branch point \(point) is past its parent's \(parent.turnCount) turns")
                        }
                    } else {
                        add("missingParent", location, "parent session \(parentID) does not exist")
                    }
                }
                // Ancestry walks must end: a chain of parents that returns to a session it passed.
                var visited: Set<UUID> = [session.id]
                var next = session.parentID
                while let parentID = next, let parent = known[parentID] {
                    guard visited.insert(parentID).inserted else {
                        add("parentCycle", location, "its chain of parents returns to session \(parentID)")
                        break
                    }
                    next = parent.parentID
                }
            }
            // Turns: each session's own sequences must be exactly firstOwnSequence..<turnCount, and
            // its token and cost totals the sums of those turns'.
            var seen: [UUID: [Int]] = [:]
            // Sessions whose totals are not compared: turns are missing or misplaced (`turnGap`,
            // `unexpectedTurn`), problems reported as such, of which a mismatch would only be a
            // consequence.
            var unsummed: Set<UUID> = []
            try walkKeys(turnRecords.database, in: txn) { key, _ in
                guard let (id, number) = Self.sessionAndNumber(key) else {
                    add("badKey", "turns \(KeyBytes(raw: key))", "a turn key is a session id and a sequence (24 bytes)")
                    return
                }
                seen[id, default: []].append(number)
            }
            for (id, sequences) in seen.sorted(by: { $0.key.precedes($1.key) }) {
                guard let session = known[id] else {
                    add("orphan", "turns \(id)", "\(sequences.count) turns of a session that does not exist")
                    continue
                }
                var expected = session.firstOwnSequence
                for sequence in sequences {
                    if sequence > expected && expected < session.turnCount {
                        add("turnGap", "sessions \(id)", "turns \(expected)..<\(min(sequence, session.turnCount)) are missing")
                        unsummed.insert(id)
                    }
                    if sequence < session.firstOwnSequence || sequence >= session.turnCount {
                        add("unexpectedTurn", "turns \(id) \(sequence)", "outside the session's own turns \(session.firstOwnSequence)..<\(session.turnCount)")
                        unsummed.insert(id)
                    }
                    expected = max(expected, sequence < .max ? sequence + 1 : sequence)
                }
                if expected < session.turnCount {
                    add("turnGap", "sessions \(id)", "turns \(expected)..<\(session.turnCount) are missing")
                    unsummed.insert(id)
                }
            }
            for session in ordered where seen[session.id] == nil && session.turnCount > session.firstOwnSequence {
                add("turnGap", "sessions \(session.id)", "turns \(session.firstOwnSequence)..<\(session.turnCount) are missing")
                unsummed.insert(session.id)
            }
            for session in ordered where !unsummed.contains(session.id) {
                let id = session.id
                // Not compared: a session with a turn that does not read (reported as
                // `undecodable` above), or whose turns' sums do not fit in the totals.
                guard let sum = try? SessionTotals(ownTurnsOf: id, turnRecords, in: txn, each: { key, turn, input, output, cost in
                    let (duration, created) = (try turn.duration, try turn.created)
                    try checkValues("turns \(id) \(Self.sessionAndNumber(Array(key))?.1 ?? -1)") {
                        try Validation.turnValues(input, output, cost, duration, created)
                    }
                }) else { continue }
                if SessionTotals(of: session) != sum {
                    add("totalsMismatch", "sessions \(id)",
                        "its totals are \(session.inputTokens) input tokens, \(session.outputTokens) output tokens and a cost of \(session.cost); its own turns add up to \(sum.input), \(sum.output) and \(sum.cost)")
                }
            }
            // Checkpoints and crystals: their session exists and handed out their number.
            for (database, name, counter) in [(checkpointRecords.database, "checkpoints", \Session.checkpointCount),
                                              (crystalRecords.database, "crystals", \Session.crystalCount)] {
                try walkKeys(database, in: txn) { key, _ in
                    guard let (id, number) = Self.sessionAndNumber(key) else {
                        add("badKey", "\(name) \(KeyBytes(raw: key))", "a \(name) key is a session id and a number (24 bytes)")
                        return
                    }
                    guard let session = known[id] else {
                        add("orphan", "\(name) \(id) \(number)", "belongs to a session that does not exist")
                        return
                    }
                    if number >= session[keyPath: counter] {
                        add("unexpectedNumber", "\(name) \(id) \(number)", "the session has handed out only \(session[keyPath: counter])")
                    }
                }
            }
            // Their values are ones the timeline writes (those that do not decode are reported above).
            try walkKeys(checkpointRecords.database, in: txn) { key, _ in
                guard let (id, number) = Self.sessionAndNumber(key), let checkpoint = try? checkpointRecords.get(KeyBytes(raw: key), in: txn) else { return }
                try checkValues("checkpoints \(id) \(number)") { try Validation.date(checkpoint.created, "created") }
            }
            try walkKeys(crystalRecords.database, in: txn) { key, _ in
                guard let (id, number) = Self.sessionAndNumber(key), let crystal = try? crystalRecords.get(KeyBytes(raw: key), in: txn) else { return }
                try checkValues("crystals \(id) \(number)") {
                    try Validation.date(crystal.created, "created")
                    try Validation.count(crystal.tokens, "tokens")
                }
            }
            // The change log: positions follow one another without a gap.
            if let changeRecords {
                var previous: Int?
                try changeRecords.database.forEachEntry(in: txn) { entry in
                    guard let position = Change.position(ofKey: Array(entry.key)) else {
                        add("badKey", "changes \(KeyBytes(raw: Array(entry.key)))", "a change key is an 8-byte position")
                        return
                    }
                    if let previous, position != previous + 1 {
                        add("changeGap", "changes \(previous + 1)", "positions \(previous + 1)..<\(position) are missing")
                    }
                    previous = position
                }
            }
            return problems
        }
    }

    /// Sets each session's token and cost totals to the sums of its own turns where they differ —
    /// what ``check(progress:)`` reports as `totalsMismatch` — in one transaction (see
    /// ``TimelineTransaction/repairTotals()``).
    @discardableResult
    public func repairTotals() async throws -> [UUID] {
        try await write { tx in try tx.repairTotals() }
    }

    /// Calls `body` with every key and value of `database`, in order.
    private func walkKeys(_ database: Database, in txn: borrowing Transaction<some TransactionAccess>, _ body: ([UInt8], UnsafeRawBufferPointer) throws -> Void) throws {
        try database.forEachEntry(in: txn) { entry in try body(Array(entry.key), entry.value) }
    }

    /// The error for a record key the compact form cannot take its fields from.
    static func unreadableKey(_ key: KeyBytes) -> DecodingError {
        .dataCorrupted(.init(codingPath: [], debugDescription: "the record's key \(key) does not hold the fields the compact form leaves to it"))
    }

    /// Splits a 24-byte key into its session id and big-endian number (`nil` past `Int.max`).
    static func sessionAndNumber(_ key: [UInt8]) -> (UUID, Int)? {
        var reader = KeyReader(key)
        guard let id = reader.read(UUID.self), let raw = reader.read(UInt64.self), reader.isAtEnd,
              let number = Int(exactly: raw) else { return nil }
        return (id, number)
    }
}

extension TimelineTransaction where Access == WriteAccess {
    /// Sets each session's token and cost totals (`inputTokens`, `outputTokens`, `cost`) to the
    /// sums of its own turns where they differ, and returns the sessions it changed, by id.
    ///
    /// What ``TimelineStore/check(progress:)`` reports as `totalsMismatch`: for a session of a
    /// store written before 2026-11-30, a fork whose parent was deleted (the turns it was handed
    /// were not added to its totals) or a session imported from an export of a fork with its
    /// inherited turns. Each change is logged (`sessionUpdated`), so backups brought up to date
    /// from the change log follow. A session with a turn that does not read is left as it is —
    /// `check` names that turn. Reads every turn of the store once.
    public func repairTotals() throws -> [UUID] {
        var repaired: [UUID] = []
        var page = try sessions.scan(limit: 1_000, in: txn)
        while true {
            for old in page.items {
                guard let sums = try? SessionTotals(ownTurnsOf: old.id, turnRecords, in: txn),
                      SessionTotals(of: old) != sums,
                      // Not a record stored under another session's id (check: keyMismatch), whose
                      // replacement would be written over that session's own.
                      (try? storedSession(old.id)) == old else { continue }
                var new = old
                sums.apply(to: &new)
                new.updated = try clock()
                try sessions.replace(old, with: new, in: txn)
                try logChange(.sessionUpdated, session: old.id)
                repaired.append(old.id)
            }
            guard let next = page.next else { break }
            page = try sessions.scan(limit: 1_000, after: next, in: txn)
        }
        return repaired
    }
}

extension SessionTotals {
    /// The sums of session `id`'s own turns, as stored (the turns it inherits are its ancestors').
    /// - Throws: what reading a turn throws (`DocumentStoreError` `.corrupted`);
    ///   ``TimelineError/invalidValue(field:reason:)`` when a sum does not fit.
    /// - Parameter each: called with each turn's key, view and the three values read from it.
    init(ownTurnsOf id: UUID, _ turns: DocumentCollection<Turn>, in txn: borrowing Transaction<some TransactionAccess>,
         each: ((UnsafeRawBufferPointer, inout TurnView, _ input: Int?, _ output: Int?, _ cost: Cost?) throws -> Void)? = nil) throws {
        try turns.forEachRecordEntry(.prefix(KeyBytes(id).bytes), reverse: false, in: txn) { key, item in
            var turn = try TurnView(item, sessionID: id, sequence: 0)   // the sequence is not read
            let (input, output, cost) = (try turn.inputTokens, try turn.outputTokens, try turn.cost)
            try add(input: input, output: output, cost: cost)
            try each?(key, &turn, input, output, cost)
            return true
        }
    }
}

extension UUID {
    /// Whether this id sorts before `other` in its bytes' order — the order of their
    /// `uuidString`s (fixed-width hex), without making two strings per comparison.
    fileprivate func precedes(_ other: UUID) -> Bool {
        withUnsafeBytes(of: uuid) { a in withUnsafeBytes(of: other.uuid) { b in a.lexicographicallyPrecedes(b) } }
    }
}
