#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import TimelineLMDB
internal import TimelineDocumentStore
internal import Foundation

/// One session with everything it owns, as a self-contained document: what
/// ``TimelineTransaction/exportSession(_:includeInherited:)`` produces and
/// ``TimelineTransaction/importSession(_:options:)`` reads. As JSON (``TimelineStore/exportJSON(_:includeInherited:)``)
/// it is sorted, pretty-printed, with UTC microsecond timestamps and base64 checkpoint states.
public struct SessionExport: Codable, Sendable, Hashable {
    /// The document kind, always ``formatName``.
    public var format: String
    /// The document version, ``formatVersion``.
    public var version: Int
    /// The session record.
    public var session: Session
    /// The turns stored under the session — with inherited ones materialised, its whole history.
    public var turns: [Turn]
    /// Its checkpoints, by number.
    public var checkpoints: [Checkpoint]
    /// Its crystals, by version.
    public var crystals: [Crystal]

    /// The value of ``format``.
    public static let formatName = "timelinestore.session"
    /// The document version this code writes: 2, with exact costs (`costNanos`, integers).
    /// ``TimelineStore/importJSON(_:options:)`` also reads version 1 documents (`cost` as a
    /// decimal number), rounding their costs to the nano-unit as the record migration does.
    public static let formatVersion = 2

    /// A document for `session` and its records.
    public init(session: Session, turns: [Turn], checkpoints: [Checkpoint], crystals: [Crystal]) {
        format = Self.formatName
        version = Self.formatVersion
        self.session = session
        self.turns = turns
        self.checkpoints = checkpoints
        self.crystals = crystals
    }
}

/// How ``TimelineTransaction/importSession(_:options:)`` treats ids.
public struct ImportOptions: Sendable, Hashable {
    /// Give the session, its turns and checkpoints fresh ids (import a copy beside the original).
    public var newIDs: Bool
    /// Replace a session that has the same id (deleting it first, as ``TimelineTransaction/deleteSession(_:)`` does).
    public var replace: Bool

    /// Options; by default ids are kept and an existing session is an error.
    public init(newIDs: Bool = false, replace: Bool = false) {
        self.newIDs = newIDs
        self.replace = replace
    }
}

extension TimelineTransaction where Access == WriteAccess {
    /// Writes an exported session into this store, after checking the whole document.
    ///
    /// - Throws: ``TimelineError/invalidExport(_:)`` for a document that is not consistent
    ///   (wrong format, records of another session, sequences with gaps…) or a fork whose parent
    ///   here has fewer turns than its branch point;
    ///   ``TimelineError/sessionExists(_:)`` unless `options.replace`;
    ///   ``TimelineError/parentNotFound(session:parent:)`` for a fork without its parent;
    ///   ``TimelineError/checkpointExists(_:)``. Nothing is written in any of these cases.
    /// - Returns: the session as stored.
    @discardableResult
    public func importSession(_ document: SessionExport, options: ImportOptions = ImportOptions()) throws -> Session {
        try TimelineStore.validate(document)
        var document = options.newIDs ? TimelineStore.reminted(document) : document
        // The totals are the store's to keep: taken from the document's turns, not its session —
        // which may be wrong (exports of a fork with its inherited turns carried only the fork's
        // own totals until 2026-11-30).
        do {
            try SessionTotals(of: document.turns).apply(to: &document.session)
        } catch { throw TimelineError.invalidExport("the turns' totals: \(error)") }
        let session = document.session
        if let parentID = session.parentID {
            guard let parent = try storedSession(parentID) else {
                throw TimelineError.parentNotFound(session: session.id, parent: parentID)
            }
            // The fork reads its first turns from this parent: it must have them.
            if let point = session.branchPoint, point > parent.turnCount {
                throw TimelineError.invalidExport("the fork branches at turn \(point), but its parent \(parentID) here has \(parent.turnCount) turns")
            }
        }
        if try sessions.contains(KeyBytes(session.id), in: txn) {
            guard options.replace else { throw TimelineError.sessionExists(session.id) }
            try deleteSession(session.id)
        }
        for checkpoint in document.checkpoints where try checkpointKey(checkpoint.id) != nil {
            throw TimelineError.checkpointExists(checkpoint.id)
        }
        try sessions.insert(session, in: txn)
        for turn in document.turns { try turnRecords.insert(turn, in: txn) }
        for checkpoint in document.checkpoints { try checkpointRecords.insert(checkpoint, in: txn) }
        for crystal in document.crystals { try crystalRecords.insert(crystal, in: txn) }
        try logChange(.sessionImported, session: session.id, parent: session.parentID,
                      sequences: session.firstOwnSequence..<max(session.firstOwnSequence, session.turnCount))
        return session
    }
}

extension TimelineTransaction {
    /// Session `id` and everything it owns.
    /// - Parameters:
    ///   - id: the session.
    ///   - includeInherited: for a fork, copy the inherited turns into the document and
    ///     present the session as a root (no parent), so the document stands alone — the default.
    ///     With `false` the document holds the fork's own turns and importing it needs the parent.
    /// - Throws: ``TimelineError/sessionNotFound(_:)``.
    public func exportSession(_ id: UUID, includeInherited: Bool = true) throws -> SessionExport {
        var session = try existingSession(id)
        var turns: [Turn]
        if includeInherited && session.parentID != nil {
            turns = try self.turns(of: id).items
            for index in turns.indices { turns[index].sessionID = id }
            session.parentID = nil
            session.branchPoint = nil
            // Its inherited turns become its own: so do their tokens and costs.
            try SessionTotals(of: turns).apply(to: &session)
        } else {
            turns = try turnRecords.scan(.prefix(KeyBytes(id).bytes), in: txn).items
        }
        let checkpoints = try checkpointRecords.scan(.prefix(KeyBytes(id).bytes), in: txn).items
        let crystals = try crystalRecords.scan(.prefix(KeyBytes(id).bytes), in: txn).items
        return SessionExport(session: session, turns: turns, checkpoints: checkpoints, crystals: crystals)
    }
}

extension TimelineStore {
    /// Session `id` as a JSON document (see ``TimelineTransaction/exportSession(_:includeInherited:)``).
    public func exportJSON(_ id: UUID, includeInherited: Bool = true) throws -> Data {
        let document = try read { tx in try tx.exportSession(id, includeInherited: includeInherited) }
        return try Self.jsonEncoder().encode(document)
    }
    /// Imports a session from JSON (see ``TimelineTransaction/importSession(_:options:)``).
    /// - Throws: ``TimelineError/invalidExport(_:)`` for text that is not an export document.
    @discardableResult
    public func importJSON(_ json: Data, options: ImportOptions = ImportOptions()) async throws -> Session {
        let document: SessionExport
        do {
            document = try Self.jsonDecoder().decode(SessionExport.self, from: try Self.upgradedJSON(json))
        } catch let error as TimelineError {
            throw error
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty && Self.isJSONObject(json) {
            // Foundation's decoder says "not valid JSON", with no path, for a number that does not
            // fit its field; the text is JSON, so say what is wrong.
            throw TimelineError.invalidExport("a number does not fit its field: a fraction, or a value past the integer range, where a whole number is expected (sequences, counts, tokens, costNanos), or one past a 64-bit float's range (such as 1e400)")
        } catch {
            throw TimelineError.invalidExport("\(error)")
        }
        return try await write { tx in try tx.importSession(document, options: options) }
    }
    /// Checks that a document is one session's consistent records.
    static func validate(_ document: SessionExport) throws {
        func refuse(_ why: String) -> TimelineError { TimelineError.invalidExport(why) }
        guard document.format == SessionExport.formatName else { throw refuse("format is \"\(document.format)\", expected \"\(SessionExport.formatName)\"") }
        guard document.version <= SessionExport.formatVersion else {
            throw refuse("document version \(document.version) is newer than this code reads (\(SessionExport.formatVersion))")
        }
        guard document.version >= 1 else { throw refuse("document version \(document.version) is not a version (1…\(SessionExport.formatVersion))") }
        let session = document.session
        if (session.parentID == nil) != (session.branchPoint == nil) { throw refuse("parentID and branchPoint must be given together") }
        if session.parentID == session.id { throw refuse("the session names itself as its parent") }
        guard session.turnCount >= 0, session.firstOwnSequence >= 0, session.checkpointCount >= 0, session.crystalCount >= 0 else {
            throw refuse("turnCount, branchPoint, checkpointCount and crystalCount must not be negative")
        }
        do { try Validation.values(of: session) } catch { throw refuse("the session: \(error)") }
        var expected = session.firstOwnSequence
        for turn in document.turns {
            guard turn.sessionID == session.id else { throw refuse("turn \(turn.sequence) belongs to session \(turn.sessionID)") }
            guard turn.sequence == expected, expected < .max else { throw refuse("turn sequence \(turn.sequence) where \(expected) was expected") }
            do { try Validation.values(of: turn) } catch { throw refuse("turn \(turn.sequence): \(error)") }
            expected += 1
        }
        guard expected == max(session.turnCount, session.firstOwnSequence) else {
            throw refuse("the session has \(session.turnCount) turns but the document holds sequences \(session.firstOwnSequence)..<\(expected)")
        }
        for (index, checkpoint) in document.checkpoints.enumerated() {
            guard checkpoint.sessionID == session.id else { throw refuse("checkpoint \(checkpoint.id) belongs to session \(checkpoint.sessionID)") }
            guard checkpoint.number >= 0, checkpoint.number < session.checkpointCount, index == 0 || document.checkpoints[index - 1].number < checkpoint.number else {
                throw refuse("checkpoint numbers must be increasing and below the session's checkpointCount \(session.checkpointCount)")
            }
            guard checkpoint.turnSequence >= 0, checkpoint.turnSequence <= session.turnCount else {
                throw refuse("checkpoint \(checkpoint.id) is at turn \(checkpoint.turnSequence), outside the session's 0…\(session.turnCount)")
            }
            do { try Validation.date(checkpoint.created, "created") } catch { throw refuse("checkpoint \(checkpoint.id): \(error)") }
        }
        for (index, crystal) in document.crystals.enumerated() {
            guard crystal.sessionID == session.id else { throw refuse("crystal \(crystal.version) belongs to session \(crystal.sessionID)") }
            guard crystal.version >= 0, crystal.version < session.crystalCount, index == 0 || document.crystals[index - 1].version < crystal.version else {
                throw refuse("crystal versions must be increasing and below the session's crystalCount \(session.crystalCount)")
            }
            guard crystal.firstSequence >= 0, crystal.firstSequence <= crystal.endSequence, crystal.endSequence <= session.turnCount else {
                throw refuse("crystal \(crystal.version) covers turns \(crystal.firstSequence)..<\(crystal.endSequence), not within the session's 0..<\(session.turnCount)")
            }
            do {
                try Validation.count(crystal.tokens, "tokens")
                try Validation.date(crystal.created, "created")
            } catch { throw refuse("crystal \(crystal.version): \(error)") }
        }
        if Set(document.checkpoints.map(\.id)).count != document.checkpoints.count { throw refuse("two checkpoints share an id") }
        // A session's turn ids are unique (its `id` index, and retry-safe appends, rely on it).
        if Set(document.turns.map(\.id)).count != document.turns.count { throw refuse("two turns share an id") }
    }
    /// The document with fresh session, turn and checkpoint ids.
    static func reminted(_ document: SessionExport) -> SessionExport {
        var copy = document
        let id = UUID()
        copy.session.id = id
        for index in copy.turns.indices {
            copy.turns[index].sessionID = id
            copy.turns[index].id = UUID()
        }
        for index in copy.checkpoints.indices {
            copy.checkpoints[index].sessionID = id
            copy.checkpoints[index].id = UUID()
        }
        for index in copy.crystals.indices { copy.crystals[index].sessionID = id }
        return copy
    }
    /// The encoder behind ``exportJSON(_:includeInherited:)``: sorted keys, UTC microsecond timestamps.
    static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            guard let text = Timestamp.format(date) else {
                // The seconds, not the `Date`: describing an error that holds a NaN `Date` traps.
                throw EncodingError.invalidValue(date.timeIntervalSince1970, .init(codingPath: encoder.codingPath, debugDescription: "a date outside the years 1678–2261 (a damaged record)"))
            }
            try container.encode(text)
        }
        return encoder
    }
    /// A version 1 document rewritten as version 2 (each `cost` number becomes `costNanos`);
    /// any other document unchanged.
    static func upgradedJSON(_ json: Data) throws -> Data {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: json) } catch {
            // `JSONSerialization` refuses a number past a 64-bit float's range (`1e400`), which
            // `JSONDecoder` parses: such a version 1 document was reported as missing `costNanos`.
            struct Version: Decodable { var version: Int }
            if (try? JSONDecoder().decode(Version.self, from: json))?.version == 1 {
                throw TimelineError.invalidExport("a number is past the range of a 64-bit float (such as 1e400)")
            }
            return json
        }
        guard var document = parsed as? [String: Any], (document["version"] as? NSNumber)?.intValue == 1 else { return json }
        func upgrade(_ record: Any?, optional: Bool) throws -> Any? {
            guard var record = record as? [String: Any] else { return record }
            let old = record.removeValue(forKey: "cost")
            if let number = old as? NSNumber {
                guard let cost = Cost(rounding: number.doubleValue) else { throw TimelineError.invalidExport("cost \(number) is not an amount in range") }
                record["costNanos"] = NSNumber(value: cost.nanos)
            } else if old != nil && !(old is NSNull) {
                throw TimelineError.invalidExport("cost is not a number")
            } else if !optional {
                record["costNanos"] = NSNumber(value: 0)
            }
            return record
        }
        document["session"] = try upgrade(document["session"], optional: false)
        if let turns = document["turns"] as? [Any] { document["turns"] = try turns.map { try upgrade($0, optional: true) as Any } }
        document["version"] = NSNumber(value: 2)
        return try JSONSerialization.data(withJSONObject: document)
    }
    /// Whether `json` is a JSON object as `JSONDecoder` parses it (which, unlike
    /// `JSONSerialization`, takes numbers past a 64-bit float's range).
    static func isJSONObject(_ json: Data) -> Bool {
        struct Object: Decodable {}
        return (try? JSONDecoder().decode(Object.self, from: json)) != nil
    }
    /// The decoder behind ``importJSON(_:options:)``.
    static func jsonDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not a timestamp like 2026-11-22T01:05:05.123456Z")
            }
            return date
        }
        return decoder
    }
}

/// A session's token and cost totals (`inputTokens`, `outputTokens`, `cost`), added up turn by
/// turn as appends add them: the sums of a session's own turns are what it must hold.
struct SessionTotals: Equatable {
    var input = 0, output = 0, cost = Cost.zero

    init() {}

    /// The totals `session` holds.
    init(of session: Session) {
        (input, output, cost) = (session.inputTokens, session.outputTokens, session.cost)
    }

    /// The sums of `turns`.
    /// - Throws: ``TimelineError/invalidValue(field:reason:)`` when a sum does not fit.
    init(of turns: some Sequence<Turn>) throws {
        for turn in turns { try add(input: turn.inputTokens, output: turn.outputTokens, cost: turn.cost) }
    }

    /// Adds one turn's tokens and cost.
    /// - Throws: ``TimelineError/invalidValue(field:reason:)`` when a sum does not fit.
    mutating func add(input: Int?, output: Int?, cost: Cost?) throws {
        self.input = try Validation.add(input, to: self.input, "inputTokens")
        self.output = try Validation.add(output, to: self.output, "outputTokens")
        self.cost = try Validation.add(cost, to: self.cost, "cost")
    }

    /// Sets `session`'s totals to these.
    func apply(to session: inout Session) {
        (session.inputTokens, session.outputTokens, session.cost) = (input, output, cost)
    }
}
