#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import TimelineLMDB
public import TimelineDocumentStore
internal import TimelineCBOR

extension TimelineTransaction where Access == WriteAccess {
    // MARK: Appending

    /// Appends `turns` to session `id`, atomically: each gets the next sequence number (no gaps),
    /// and the session's last activity, token and cost totals and index entries move with them.
    ///
    /// **Retry-safe**: a turn whose id is already in the session's history (its own turns or
    /// inherited ones) is not written again — the stored turn is returned in its place. Give each
    /// turn your own id (the client's message id, say) and a request retried after a timeout
    /// appends nothing twice, even when the first attempt did commit. The stored turn is returned
    /// as it is, whatever the retry's other fields say.
    ///
    /// A written turn is never changed; a correction is a new turn. Appending nothing only checks
    /// that the session exists.
    /// - Returns: the turns as stored, in the order given (stored ones for ids already present).
    /// - Throws: ``TimelineError/sessionNotFound(_:)``; ``TimelineError/invalidValue(field:reason:)`` for a
    ///   negative token count, a negative or non-finite cost or duration, a date outside the years
    ///   1678–2261, or a session total that would overflow (nothing written).
    /// - Complexity: O(log n) per turn, whatever the history's length. On a fork, an append also
    ///   looks for each turn's id in every ancestor whose turns the fork inherits (the retry check
    ///   above): O(d · log n) more per call for d such ancestors — ~1.2 µs an ancestor, measured.
    @discardableResult
    public func append(_ turns: [NewTurn], to id: UUID) throws -> [Turn] {
        let old = try existingSession(id)
        if turns.isEmpty { return [] }
        for new in turns { try new.validate() }
        var session = old
        let now = try clock()
        var written: [Turn] = []
        written.reserveCapacity(turns.count)
        var history: [(session: UUID, sequences: Range<Int>)]?
        for new in turns {
            if let stored = try storedTurn(new.id, in: session, history: &history) {
                written.append(stored)
                continue
            }
            let turn = Turn(
                sessionID: id, sequence: session.turnCount, id: new.id, role: new.role, content: new.content,
                created: new.created?.storable ?? now, duration: new.duration, inputTokens: new.inputTokens,
                outputTokens: new.outputTokens, cost: new.cost, toolCalls: new.toolCalls, blocks: new.blocks,
                metadata: new.metadata
            )
            // `insert`, not `put`: a sequence already taken means a damaged counter, never an overwrite.
            try turnRecords.insert(turn, in: txn)
            session.turnCount = try Validation.next(session.turnCount, "turnCount", of: id)
            session.inputTokens = try Validation.add(new.inputTokens, to: session.inputTokens, "inputTokens")
            session.outputTokens = try Validation.add(new.outputTokens, to: session.outputTokens, "outputTokens")
            session.cost = try Validation.add(new.cost, to: session.cost, "cost")
            written.append(turn)
        }
        if session == old { return written }   // every turn was already there: nothing changes
        session.lastActivity = max(now, session.lastActivity)
        session.updated = session.lastActivity
        try sessions.replace(old, with: session, in: txn)
        try logChange(.turnsAppended, session: id, sequences: old.turnCount..<session.turnCount)
        return written
    }

    /// The stored turn with id `turnID` when it is part of `session`'s history (its own turns,
    /// those this append already wrote, or inherited ones), else `nil`. `history` caches the
    /// session's lineage between calls of one append.
    private func storedTurn(_ turnID: UUID, in session: Session, history: inout [(session: UUID, sequences: Range<Int>)]?) throws -> Turn? {
        if let own = try storedTurn(turnID, storedBy: session.id, within: 0..<session.turnCount) { return own }
        guard session.parentID != nil else { return nil }
        let lineage = try history ?? lineage(of: session.historyShape)
        history = lineage
        return try findTurn(turnID, in: lineage)
    }


    /// Appends one turn: see ``append(_:to:)-([NewTurn],_)``.
    @discardableResult
    public func append(_ turn: NewTurn, to id: UUID) throws -> Turn {
        try append([turn], to: id)[0]
    }
    // MARK: Forks

    /// A new session whose history is session `id`'s turns `0..<sequence`, followed by its own.
    ///
    /// Nothing is copied: the fork stores its branch point and reads the inherited turns from its
    /// ancestors. Forks of forks work to any depth. The fork takes the parent's title, project,
    /// model, provider and metadata; its totals count only its own turns.
    /// - Parameters:
    ///   - id: the session to fork.
    ///   - sequence: how many turns to inherit, `0…turnCount` (the whole history by default).
    ///   - branchName: a name for the branch.
    ///   - newID: the fork's id; a fresh one by default.
    /// - Throws: ``TimelineError/sessionNotFound(_:)``,
    ///   ``TimelineError/sequenceOutOfRange(sequence:count:)``, ``TimelineError/sessionExists(_:)``.
    /// - Complexity: O(log n), whatever the history's length.
    public func fork(
        session id: UUID, at sequence: Int? = nil, branchName: String? = nil, newID: UUID = UUID()) throws -> Session {
        let parent = try existingSession(id)
        let point = sequence ?? parent.turnCount
        guard point >= 0, point <= parent.turnCount else { throw TimelineError.sequenceOutOfRange(sequence: point, count: parent.turnCount) }
        if try sessions.contains(KeyBytes(newID), in: txn) { throw TimelineError.sessionExists(newID) }
        let now = try clock()
        let child = Session(
            id: newID, title: parent.title, project: parent.project, parentID: parent.id, branchPoint: point,
            branchName: branchName, model: parent.model, provider: parent.provider, created: now,
            turnCount: point, metadata: parent.metadata
        )
        try sessions.insert(child, in: txn)
        try logChange(.sessionCreated, session: child.id, parent: parent.id, sequences: 0..<point)
        return child
    }
    /// Goes back to `sequence` in session `id`: returns a new branch holding turns `0..<sequence`
    /// to continue from. The original session stays exactly as it was — nothing in the timeline is
    /// destroyed by a rewind.
    public func rewind(session id: UUID, to sequence: Int) throws -> Session {
        try fork(session: id, at: sequence, branchName: "rewind to \(sequence)")
    }
}

extension TimelineTransaction {
    // MARK: Reading

    /// Session `id`'s turns with sequences in `range`, in order (or reverse), a page at a time,
    /// reading a fork's inherited turns from its ancestors transparently.
    ///
    /// - Parameters:
    ///   - id: the session.
    ///   - range: the sequences wanted; clamped to the history's length.
    ///   - reverse: newest first when true.
    ///   - limit: the page size (≥ 0).
    ///   - cursor: `Page.next` of the previous page.
    /// - Throws: ``TimelineError/sessionNotFound(_:)``; ``TimelineError/invalidRange(_:)`` for a
    ///   negative limit; ``TimelineError/invalidPageCursor(_:)`` for a cursor from another listing
    ///   (another session, range or direction).
    /// - Complexity: O(d + limit · log n), where d is the number of ancestors that store the
    ///   page's turns and those below them down to the page's start: a page of a fork's latest
    ///   turns read in reverse walks only the nearest ancestors, one from the root walks them all.
    public func turns(
        of id: UUID, range: Range<Int> = 0..<Int.max, reverse: Bool = false, limit: Int = .max,
        after cursor: PageCursor? = nil) throws -> Page<Turn> {
        try checkLimit(limit)
        let plan = try pagePlan(of: id, range: range, reverse: reverse, limit: limit, after: cursor)
        var items: [Turn] = []
        let last = try forEachStoredTurn(plan, limit: limit) { item, owner, sequence in
            items.append(try Turn.stored(item, sessionID: owner, sequence: sequence))
        }
        return Page(items: items, next: plan.cursor(after: last))
    }

    /// Session `id`'s turns as one JSON array — `[{"sessionID":…,"sequence":0,…},…]` — made
    /// straight from the stored records, without building a ``Turn`` (`CBORJSONTranscoder`, in TimelineCBOR):
    /// the answer of a service's "latest 100 turns" endpoint, ready to send. The same selection,
    /// order and paging as ``turns(of:range:reverse:limit:after:)``; its cursors continue either
    /// listing.
    ///
    /// ```swift
    /// let page = try timeline.turnsJSON(of: session.id, reverse: true, limit: 100)
    /// // send page.json (UTF-8); page.next continues it
    /// ```
    /// Each object has the turn's stored fields (`Docs/format.md`): `sessionID`, `sequence`,
    /// `id`, `role`, `content`, `created`, `duration`, `inputTokens`, `outputTokens`,
    /// `costNanos` (integer nano-units), `toolCalls`, `blocks`, `metadata` — ids as
    /// `UUID.uuidString` writes them, times as UTC text with microseconds (as in exports), a field
    /// without a value as `null`.
    /// - Throws: as ``turns(of:range:reverse:limit:after:)``.
    public func turnsJSON(
        of id: UUID, range: Range<Int> = 0..<Int.max, reverse: Bool = false, limit: Int = .max,
        after cursor: PageCursor? = nil) throws -> JSONPage {
        try checkLimit(limit)
        let plan = try pagePlan(of: id, range: range, reverse: reverse, limit: limit, after: cursor)
        // Each record is written into `record`, then copied onto the page, whose room is reserved
        // after the first record: a page written into one growing buffer and made an array at
        // the end was copied two and three times.
        var json: [UInt8] = [UInt8(ascii: "[")]
        var record = JSONOutput(capacity: 4_096)
        var count = 0
        // The key's fields, written before each compact record's own: the session's part made once
        // per session of the history, the sequence's digits per turn (a string per turn cost
        // 5,000 instructions).
        var leading = JSONOutput(capacity: 80), leadingOwner: UUID?, prefixLength = 0
        let names = Turn.jsonNames
        let last = try forEachStoredTurn(plan, limit: limit) { item, owner, sequence in
            if owner != leadingOwner {
                leading.truncate(to: 0)
                Turn.jsonKeyFieldsPrefix(owner).withUnsafeBytes { leading.append($0) }
                (leadingOwner, prefixLength) = (owner, leading.count)
            }
            leading.truncate(to: prefixLength)
            leading.appendDecimal(sequence)
            record.truncate(to: 0)
            do {
                try CBORJSONTranscoder.append(item, to: &record, names: names, leading: leading)
            } catch {
                throw DocumentStoreError(.corrupted, collection: turnRecords.name, key: KeyBytes(owner, sequence.keyPart), underlying: error)
            }
            if count == 0 {
                // Room for the page as if every record took as much as the first, and at least 2 KiB
                // (at most 1 MiB in all; past that the array grows as arrays do): reserving only the
                // first record's size meant copying the page as it grew, 814 k → 944 k instructions
                // for a page of 100 turns.
                json.reserveCapacity(min(min(limit, plan.wanted.count) * max(record.count + 1, 2_048), 1 << 20) + 2)
            } else {
                json.append(UInt8(ascii: ","))
            }
            record.withBytes { json.append(contentsOf: $0) }
            count += 1
        }
        json.append(UInt8(ascii: "]"))
        return JSONPage(json: json, count: count, next: plan.cursor(after: last))
    }

    /// Calls `body` with a view of each of session `id`'s turns — the same selection, order and
    /// paging as ``turns(of:range:reverse:limit:after:)`` — reading only the fields `body` asks
    /// for, in place, instead of building a ``Turn`` per record.
    ///
    /// ```swift
    /// var lines: [String] = []
    /// let next = try timeline.read { tx in
    ///     try tx.forEachTurn(of: session.id, reverse: true, limit: 20) { turn in
    ///         lines.append("\(turn.sequence) \(try turn.role): \(try turn.content)")
    ///     }
    /// }
    /// ```
    /// - Returns: the cursor for the next page (interchangeable with those of `turns(of:…)`), or
    ///   `nil` when nothing is left.
    /// - Throws: as ``turns(of:range:reverse:limit:after:)``, and what `body` throws (which ends
    ///   the listing). A damaged record throws `DocumentStoreError` (`.corrupted`) when `body`
    ///   reads the damaged field; a missing record, before `body` sees any turn after it.
    @discardableResult
    public func forEachTurn(
        of id: UUID, range: Range<Int> = 0..<Int.max, reverse: Bool = false, limit: Int = .max,
        after cursor: PageCursor? = nil, _ body: (inout TurnView) throws -> Void) throws -> PageCursor? {
        try checkLimit(limit)
        let plan = try pagePlan(of: id, range: range, reverse: reverse, limit: limit, after: cursor)
        let last = try forEachStoredTurn(plan, limit: limit) { item, owner, sequence in
            var view = try TurnView(item, sessionID: owner, sequence: sequence)
            try body(&view)
        }
        return plan.cursor(after: last)
    }

    /// Calls `body` with the stored CBOR item, owner and sequence of each turn `plan` selects, up
    /// to `limit`, segment by segment; returns the last sequence visited. Each record's key must
    /// hold the next sequence of the part — a missing record is refused before `body` sees the
    /// one after it — and a part that ends early is refused once it has been read.
    private func forEachStoredTurn(
        _ plan: TurnPagePlan, limit: Int, _ body: (UnsafeRawBufferPointer, UUID, Int) throws -> Void) throws -> Int? {
        var count = 0
        var last: Int?
        for segment in plan.reverse ? plan.segments.reversed() : plan.segments {
            let part = segment.sequences.clamped(to: plan.wanted)
            if part.isEmpty || count >= limit { continue }
            let room = min(limit - count, part.count)
            var visited = 0
            // The record loop's closure captures these few values, not the plan and the segment:
            // copying them into its context for every record cost ~25 instructions a turn.
            let (owner, first, step) = (segment.session, plan.reverse ? part.upperBound - 1 : part.lowerBound, plan.reverse ? -1 : 1)
            let ownerWords = withUnsafeBytes(of: owner.uuid) { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
            try turnRecords.forEachRecordEntry(Self.keys(from: owner, part, reverse: plan.reverse), reverse: plan.reverse, in: txn) { key, item in
                let sequence = first + step * visited
                // The key must be the owner's 16 bytes and the sequence, 8 bytes big-endian: the
                // walk stops after the part's last turn, so it never meets a key past the part
                // unless a record is missing, and this check refuses that key.
                guard key.count == 24, UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) == sequence.keyPart,
                      key.loadUnaligned(as: UInt64.self) == ownerWords.0, key.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == ownerWords.1 else {
                    throw notAllStored(part, in: owner)
                }
                try body(item, owner, sequence)
                visited += 1
                return visited < room
            }
            // A part that ended early (its last records missing) is refused once it has been read.
            guard visited == room else { throw notAllStored(part, in: owner) }
            count += visited
            last = plan.reverse ? part.upperBound - visited : part.lowerBound + visited - 1
        }
        return last
    }

    /// Where a walk over session `owner`'s stored turns `sequences` starts, bounded on that side
    /// only: the walk counts the turns and checks each key, which costs less than comparing every
    /// key with the far bound (~50 instructions a turn: `Docs/benchmarks.md`, "Turns counted, not
    /// bounded").
    private static func keys(from owner: UUID, _ sequences: Range<Int>, reverse: Bool) -> KeyRange {
        reverse ? KeyRange(lower: .unbounded, upper: .excluded(KeyBytes(owner, sequences.upperBound.keyPart).bytes))
                : KeyRange(lower: .included(KeyBytes(owner, sequences.lowerBound.keyPart).bytes), upper: .unbounded)
    }

    /// The error for a part of a history whose records are not all stored.
    private func notAllStored(_ part: Range<Int>, in owner: UUID) -> DocumentStoreError {
        DocumentStoreError(.corrupted, collection: turnRecords.name, key: KeyBytes(owner),
                           underlying: TimelineError.invalidRange("turns \(part) of session \(owner) are not all stored"))
    }

    /// What a page of session `id`'s turns covers: the sequences wanted (after the cursor), where
    /// each part of the history is stored, and the cursor after a sequence.
    private func pagePlan(of id: UUID, range: Range<Int>, reverse: Bool, limit: Int, after cursor: PageCursor?) throws -> TurnPagePlan {
        let session = try historyShape(id)
        var wanted = range.clamped(to: 0..<session.turnCount)
        let listing = TimelineStore.turnsListing(of: id, range: range, reverse: reverse)
        if let cursor {
            var position = KeyReader(cursor.key)
            guard cursor.listing == listing, let raw = position.read(UInt64.self), position.isAtEnd else {
                throw TimelineError.invalidPageCursor("it does not come from this listing of session \(id)'s turns (same range and direction)")
            }
            // The cursor's own listing wrote it: a sequence of this session, below Int.max.
            guard let last = Int(exactly: raw), last < Int.max else { throw TimelineError.invalidPageCursor("its position is not a turn sequence") }
            wanted = reverse ? wanted.clamped(to: 0..<last) : wanted.clamped(to: (last + 1)..<Int.max)
        }
        // Only the ancestors that store the page's turns are read: the latest turns of a deep fork
        // come from its nearest ancestors (`Docs/benchmarks.md`, "Appends to deep forks").
        let lowest = reverse ? wanted.upperBound - min(limit, wanted.count) : wanted.lowerBound
        return TurnPagePlan(wanted: wanted, segments: try lineage(of: session, from: lowest), reverse: reverse, listing: listing)
    }

    /// The turn at `sequence` of session `id`'s history (inherited or its own).
    /// - Throws: ``TimelineError/sessionNotFound(_:)``, ``TimelineError/sequenceOutOfRange(sequence:count:)``.
    public func turn(session id: UUID, sequence: Int) throws -> Turn {
        let session = try historyShape(id)
        guard sequence >= 0, sequence < session.turnCount else { throw TimelineError.sequenceOutOfRange(sequence: sequence, count: session.turnCount) }
        let segment = try lineage(of: session, from: sequence).first { $0.sequences.contains(sequence) }
        let key = KeyBytes(segment?.session ?? id, sequence.keyPart)
        guard let turn = try turnRecords.get(key, in: txn), turn.sequence == sequence else {
            throw DocumentStoreError(.corrupted, collection: turnRecords.name, key: key,
                                     underlying: TimelineError.sequenceOutOfRange(sequence: sequence, count: session.turnCount))
        }
        return turn
    }
    /// The turn with id `turnID` that session `owner` stores itself at a sequence in `sequences`,
    /// if any: one get in the `id` index, whose entry holds the turn's key, and the record read
    /// only when its sequence is in `sequences` (through `scan(index:)` each look-up made a page,
    /// a cursor and a decoded turn: `Docs/benchmarks.md`, "Appends to deep forks").
    func storedTurn(_ turnID: UUID, storedBy owner: UUID, within sequences: Range<Int>) throws -> Turn? {
        guard let ids = timeline.turnIDs,
              let primary = try ids.get(KeyBytes(owner, turnID).bytes, in: txn).map(Array.init) else { return nil }
        guard let (session, sequence) = TimelineStore.sessionAndNumber(primary), session == owner else {
            throw DocumentStoreError(.corrupted, collection: "idx.turns.id", key: KeyBytes(owner, turnID))
        }
        guard sequences.contains(sequence) else { return nil }
        guard let turn = try turnRecords.get(KeyBytes(raw: primary), in: txn) else {
            throw DocumentStoreError(.danglingIndexEntry(index: "id"), collection: turnRecords.name, key: KeyBytes(raw: primary))
        }
        // A stale entry (only damage makes one) would pass another turn off as this one, and an
        // append of this id would take it for a retry and write nothing.
        guard turn.id == turnID else {
            throw DocumentStoreError(.corrupted, collection: "idx.turns.id", key: KeyBytes(owner, turnID), underlying: DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "the entry names turn \(sequence), whose id is \(turn.id)")))
        }
        return turn
    }

    /// The turn with id `turnID` in a history given as its lineage: found in the session that
    /// stores that part, at a sequence inside the part.
    func findTurn(_ turnID: UUID, in lineage: [(session: UUID, sequences: Range<Int>)]) throws -> Turn? {
        for segment in lineage {
            if let turn = try storedTurn(turnID, storedBy: segment.session, within: segment.sequences) { return turn }
        }
        return nil
    }

    /// The turn with id `turnID` in session `id`'s history (its own turns or inherited ones), or
    /// `nil`. Turn ids identify a turn within a session's history; another session may use the same id.
    /// - Throws: ``TimelineError/sessionNotFound(_:)``.
    /// - Complexity: O(depth of the fork ancestry · log n).
    public func turn(id turnID: UUID, in id: UUID) throws -> Turn? {
        return try findTurn(turnID, in: try lineage(of: historyShape(id)))
    }

    /// Where each part of `session`'s history is stored: (session, sequences) pairs in sequence
    /// order, from the root ancestor to the session itself — or, given `from`, only from the
    /// ancestor that stores sequence `from` on (the walk up the chain stops there).
    func lineage(of session: HistoryShape, from: Int = 0) throws -> [(session: UUID, sequences: Range<Int>)] {
        var segments: [(session: UUID, sequences: Range<Int>)] = []
        var current = session
        var end = session.turnCount
        // A chain of parents longer than there are sessions loops (only damage or a bad load
        // makes one): counted, not kept in a set, which cost more than the walk's reads.
        var steps = 0, sessionCount: Int?
        while true {
            let start = min(current.firstOwnSequence, end)
            if start < end { segments.append((current.id, start..<end)) }
            end = start
            guard end > max(from, 0), let parentID = current.parentID else { break }
            guard let parent = try historyShapeIfStored(parentID) else {
                throw DocumentStoreError(.corrupted, collection: sessions.name, key: KeyBytes(current.id),
                                         underlying: TimelineError.parentNotFound(session: current.id, parent: parentID))
            }
            steps += 1
            if sessionCount == nil && steps > 64 { sessionCount = try sessions.count(in: txn) }
            guard steps <= sessionCount ?? .max else {
                throw DocumentStoreError(.corrupted, collection: sessions.name, key: KeyBytes(current.id),
                                         underlying: TimelineError.parentCycle(session: session.id))
            }
            current = parent
        }
        return segments.reversed()
    }
}

extension TimelineStore {
    /// Appends turns (see ``TimelineTransaction/append(_:to:)-([NewTurn],_)``) through the
    /// group-committing writer: concurrent callers share transactions and fsyncs; this returns
    /// once these turns are committed.
    @discardableResult
    public func append(_ turns: [NewTurn], to id: UUID) async throws -> [Turn] {
        try await write { tx in try tx.append(turns, to: id) }
    }
    /// Appends one turn (see ``TimelineTransaction/append(_:to:)-([NewTurn],_)``).
    @discardableResult
    public func append(_ turn: NewTurn, to id: UUID) async throws -> Turn {
        try await write { tx in try tx.append(turn, to: id) }
    }
    /// Session `id`'s turns (see ``TimelineTransaction/turns(of:range:reverse:limit:after:)``).
    public func turns(
        of id: UUID, range: Range<Int> = 0..<Int.max, reverse: Bool = false, limit: Int = .max, after cursor: PageCursor? = nil
    ) throws -> Page<Turn> {
        try read { tx in try tx.turns(of: id, range: range, reverse: reverse, limit: limit, after: cursor) }
    }
    /// Session `id`'s turns as one JSON array (see ``TimelineTransaction/turnsJSON(of:range:reverse:limit:after:)``).
    public func turnsJSON(
        of id: UUID, range: Range<Int> = 0..<Int.max, reverse: Bool = false, limit: Int = .max, after cursor: PageCursor? = nil
    ) throws -> JSONPage {
        try read { tx in try tx.turnsJSON(of: id, range: range, reverse: reverse, limit: limit, after: cursor) }
    }
    /// Views of session `id`'s turns (see ``TimelineTransaction/forEachTurn(of:range:reverse:limit:after:_:)``),
    /// in one read transaction.
    @discardableResult
    public func forEachTurn(
        of id: UUID, range: Range<Int> = 0..<Int.max, reverse: Bool = false, limit: Int = .max, after cursor: PageCursor? = nil,
        _ body: (inout TurnView) throws -> Void
    ) throws -> PageCursor? {
        try read { tx in try tx.forEachTurn(of: id, range: range, reverse: reverse, limit: limit, after: cursor, body) }
    }
    /// The turn with id `turnID` in session `id`'s history (see ``TimelineTransaction/turn(id:in:)``).
    public func turn(id turnID: UUID, in id: UUID) throws -> Turn? {
        try read { tx in try tx.turn(id: turnID, in: id) }
    }
    /// The turn at `sequence` of session `id` (see ``TimelineTransaction/turn(session:sequence:)``).
    public func turn(session id: UUID, sequence: Int) throws -> Turn {
        try read { tx in try tx.turn(session: id, sequence: sequence) }
    }
    /// Forks session `id` (see ``TimelineTransaction/fork(session:at:branchName:newID:)``).
    public func fork(session id: UUID, at sequence: Int? = nil, branchName: String? = nil, newID: UUID = UUID()) async throws -> Session {
        try await write { tx in try tx.fork(session: id, at: sequence, branchName: branchName, newID: newID) }
    }
    /// Rewinds session `id` (see ``TimelineTransaction/rewind(session:to:)``).
    public func rewind(session id: UUID, to sequence: Int) async throws -> Session {
        try await write { tx in try tx.rewind(session: id, to: sequence) }
    }
}

/// What a page of a session's turns covers (see `TimelineTransaction.pagePlan`).
private struct TurnPagePlan {
    /// The sequences the page may hold, after the cursor.
    let wanted: Range<Int>
    /// Where each part of the history is stored, root first.
    let segments: [(session: UUID, sequences: Range<Int>)]
    let reverse: Bool
    /// The listing's fingerprint, for its cursors.
    let listing: UInt64

    /// The cursor after a page ending at sequence `last`; `nil` when nothing is left.
    func cursor(after last: Int?) -> PageCursor? {
        guard let last, reverse ? last > wanted.lowerBound : last + 1 < wanted.upperBound else { return nil }
        return PageCursor(key: KeyBytes(last.keyPart).bytes, listing: listing)
    }
}

/// A page of records as one JSON array (UTF-8), ready to send: see
/// ``TimelineTransaction/turnsJSON(of:range:reverse:limit:after:)``.
public struct JSONPage: Sendable, Hashable {
    /// The JSON array, `[…]`.
    public var json: [UInt8]
    /// How many objects the array holds.
    public var count: Int
    /// The cursor to pass as `after:` for the next page (of this listing, or of the one that
    /// builds records); `nil` on the last page.
    public var next: PageCursor?
}

extension TimelineStore {
    /// The fingerprint of a listing of session `id`'s turns — the hash of
    /// `KeyBytes("turns", id, Int64(range.lowerBound), Int64(range.upperBound), reverse)`, fed
    /// to the hash byte by byte without building the key: the array cost ~2 k of the ~15.5 k
    /// instructions of a page of one turn.
    package static func turnsListing(of id: UUID, range: Range<Int>, reverse: Bool) -> UInt64 {
        var fingerprint = PageCursor.Fingerprint()
        for byte in "turns".utf8 { fingerprint.add(byte: byte) }
        fingerprint.add(byte: 0x00)          // the string's terminator
        fingerprint.add(byte: 0x01)
        withUnsafeBytes(of: id.uuid) { fingerprint.add($0) }
        withUnsafeBytes(of: (UInt64(bitPattern: Int64(range.lowerBound)) ^ 0x8000_0000_0000_0000).bigEndian) { fingerprint.add($0) }
        withUnsafeBytes(of: (UInt64(bitPattern: Int64(range.upperBound)) ^ 0x8000_0000_0000_0000).bigEndian) { fingerprint.add($0) }
        fingerprint.add(byte: reverse ? 1 : 0)
        return fingerprint.value
    }
}
