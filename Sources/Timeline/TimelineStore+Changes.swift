#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
internal import TimelineLMDB
internal import TimelineDocumentStore

extension TimelineTransaction where Access == WriteAccess {
    /// Appends an entry to the change log, at the position after the last one, in this
    /// transaction: the entry commits with the change or not at all. In a group-committed batch
    /// each job sees the entries of the jobs before it, and a batch in which a job fails runs
    /// again with each job in a nested transaction, so positions stay gapless whichever jobs fail.
    func logChange(_ kind: Change.Kind, session: UUID, parent: UUID? = nil, sequences: Range<Int>? = nil,
                   checkpoint: UUID? = nil, number: Int? = nil) throws {
        // A writable open always creates the log; only a read-only one can lack it, and it cannot write.
        guard let changeRecords else { throw LMDBError(.readOnly, operation: "append to the change log") }
        let position = try currentPosition() + 1
        try changeRecords.insert(Change(position: position, kind: kind, session: session, time: try clock(), parent: parent,
                                        sequences: sequences, checkpoint: checkpoint, number: number), in: txn)
    }
}

extension TimelineTransaction where Access == WriteAccess {
    /// Records that consumer `name` has applied every change up to `position` (registering it on
    /// first use). Trimming never removes what a registered consumer has not acknowledged, unless
    /// a cap forces it — then the consumer is dropped (``TimelineStore/trimChanges(keepingAtMost:olderThan:)``).
    /// - Throws: ``TimelineError/invalidRange(_:)`` for a position past ``currentPosition()`` or
    ///   negative, or an empty name; ``TimelineError/changesTrimmed(after:oldestKept:)`` when the
    ///   log no longer holds the changes after `position` (start again from a snapshot).
    public func acknowledge(_ position: Int, consumer name: String) throws {
        guard let consumerRecords else { throw LMDBError(.readOnly, operation: "acknowledge a change") }
        guard !name.isEmpty, name.utf8.count <= 200 else { throw TimelineError.invalidRange("a consumer name is 1–200 UTF-8 bytes") }
        let current = try currentPosition()
        guard position >= 0, position <= current else {
            throw TimelineError.invalidRange("position \(position) is outside the log (0…\(current))")
        }
        try requireKept(after: position)
        try consumerRecords.put(ChangeConsumer(name: name, position: position, updated: try clock()), in: txn)
    }

    /// Forgets consumer `name`; returns whether it was registered.
    @discardableResult
    public func removeChangeConsumer(_ name: String) throws -> Bool {
        try consumerRecords?.delete(KeyBytes(name), in: txn) ?? false
    }

    /// Removes the entries every registered consumer has acknowledged, then — past the caps — older
    /// ones too, dropping the consumers that had not acknowledged them. The newest entry is always
    /// kept, so positions go on from where they were. With no consumer registered, everything but
    /// the newest entry may go.
    /// - Parameters:
    ///   - maxEntries: keep at most this many entries, whoever has not read them.
    ///   - maxAge: remove entries committed longer ago than this, whoever has not read them.
    /// - Throws: ``TimelineError/invalidRange(_:)`` for `maxEntries` below 1 or a negative `maxAge`.
    public func trimChanges(keepingAtMost maxEntries: Int? = nil, olderThan maxAge: Duration? = nil) throws -> ChangeTrim {
        guard let changeRecords, let consumerRecords else { throw LMDBError(.readOnly, operation: "trim the change log") }
        if let maxEntries, maxEntries < 1 { throw TimelineError.invalidRange("keep at least 1 entry, not \(maxEntries)") }
        if let maxAge, maxAge < .zero { throw TimelineError.invalidRange("an age of \(maxAge) is negative") }
        let current = try currentPosition()
        let consumers = try changeConsumers()
        var floor = consumers.map(\.position).min() ?? current      // acknowledged by all: may go
        var capped = 0
        if let maxEntries { capped = max(capped, current - maxEntries) }
        if let maxAge {
            // A ratio, not `components`: a `Duration` can hold more seconds than its
            // `components.seconds` (an `Int64`) does, which trapped.
            let seconds = maxAge / .seconds(1)
            let cutoff = try clock().addingTimeInterval(-seconds)
            // The entries are in commit order, so their times only grow: the last one before the cutoff.
            let older = try changeRecords.scan(in: txn).items.prefix { $0.time < cutoff }
            capped = max(capped, older.last?.position ?? 0)
        }
        floor = min(max(floor, capped), current - 1)
        var dropped: [String] = []
        for consumer in consumers where consumer.position < floor {
            try consumerRecords.delete(KeyBytes(consumer.name), in: txn)
            dropped.append(consumer.name)
        }
        let removed = floor > 0 ? try changeRecords.deleteRange(.through(KeyBytes(floor.keyPart).bytes), in: txn) : 0
        return ChangeTrim(removed: removed, oldestKept: try oldestPosition(), droppedConsumers: dropped)
    }
}

extension TimelineTransaction {
    /// The position of the last change committed as of this transaction's snapshot; 0 when the
    /// log is empty. A new consumer takes it in the same read transaction it copies the store
    /// from, then follows ``changes(after:limit:)`` from there without a gap.
    /// - Complexity: O(log n).
    public func currentPosition() throws -> Int {
        try endPosition(last: true) ?? 0
    }

    /// The changes after `position`, oldest first, at most `limit` of them: continue from the
    /// last one's ``Change/position``. An empty result means the snapshot holds nothing newer.
    /// - Throws: ``TimelineError/invalidRange(_:)`` for a negative position or limit;
    ///   `DocumentStoreError` `.corrupted` when the entry after `position` is missing or says it
    ///   is at another position (only damage makes either). The entries before such a one are
    ///   returned first, so a follower gets everything up to the damage.
    /// - Complexity: O(log n + limit).
    public func changes(after position: Int = 0, limit: Int = 1_000) throws -> [Change] {
        try checkLimit(limit)
        guard position >= 0 else { throw TimelineError.invalidRange("position \(position) is negative") }
        guard let changeRecords else { return [] }
        try requireKept(after: position)
        let changes = try changeRecords.scan(.after(KeyBytes(position.keyPart).bytes), limit: limit, in: txn).items
        // The log has no gaps, so the entries after `position` are position + 1, + 2, … One that
        // says otherwise sent a follower (and a backup's update) back — delivering the entries
        // again, without end when it was a page's last — or ahead, past entries yet to come.
        for (offset, change) in changes.enumerated() where change.position != position + 1 + offset {
            if offset > 0 { return Array(changes[..<offset]) }
            throw DocumentStoreError(.corrupted, collection: changeRecords.name, key: KeyBytes((position + 1 + offset).keyPart), underlying: DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "the change log's entry \(offset + 1) after position \(position) says it is at position \(change.position), where \(position + 1 + offset) was next")))
        }
        return changes
    }

    /// The oldest position the log still holds (1 until something was trimmed); one past
    /// ``currentPosition()`` when it is empty.
    public func oldestPosition() throws -> Int {
        guard changeRecords != nil else { return 1 }
        return try endPosition(last: false) ?? (try currentPosition() + 1)
    }

    /// The position of the log's last (or first) entry, `nil` when it is empty.
    private func endPosition(last: Bool) throws -> Int? {
        guard let changeRecords else { return nil }
        let key = try changeRecords.database.withCursor(in: txn) { cursor in try (last ? cursor.last() : cursor.first()).map { Array($0.key) } }
        guard let key else { return nil }
        guard let position = Change.position(ofKey: key) else {
            throw DocumentStoreError(.corrupted, collection: changeRecords.name, key: KeyBytes(raw: key))
        }
        return position
    }

    /// Refuses to read or acknowledge from `position` when the entries after it were trimmed.
    private func requireKept(after position: Int) throws {
        let oldest = try oldestPosition()
        // `oldest - 1`, not `position + 1`: a position may be `Int.max` (oldest is at least 1).
        if oldest - 1 > position, position < (try currentPosition()) {
            throw TimelineError.changesTrimmed(after: position, oldestKept: oldest)
        }
    }

    /// The registered consumers of the log, by name.
    public func changeConsumers() throws -> [ChangeConsumer] {
        try consumerRecords?.scan(in: txn).items ?? []
    }
}

extension TimelineStore {
    /// The position of the last committed change (see ``TimelineTransaction/currentPosition()``).
    public func currentPosition() throws -> Int {
        try read { tx in try tx.currentPosition() }
    }

    /// The oldest position the log still holds (see ``TimelineTransaction/oldestPosition()``).
    public func oldestPosition() throws -> Int {
        try read { tx in try tx.oldestPosition() }
    }

    /// Acknowledges `position` for consumer `name` (see ``TimelineTransaction/acknowledge(_:consumer:)``).
    public func acknowledge(_ position: Int, consumer name: String) async throws {
        try await write { tx in try tx.acknowledge(position, consumer: name) }
    }

    /// Trims the change log (see ``TimelineTransaction/trimChanges(keepingAtMost:olderThan:)``).
    @discardableResult
    public func trimChanges(keepingAtMost maxEntries: Int? = nil, olderThan maxAge: Duration? = nil) async throws -> ChangeTrim {
        try await write { tx in try tx.trimChanges(keepingAtMost: maxEntries, olderThan: maxAge) }
    }

    /// Forgets consumer `name`; returns whether it was registered (see
    /// ``TimelineTransaction/removeChangeConsumer(_:)``).
    @discardableResult
    public func removeChangeConsumer(_ name: String) async throws -> Bool {
        try await write { tx in try tx.removeChangeConsumer(name) }
    }

    /// The registered consumers (see ``TimelineTransaction/changeConsumers()``).
    public func changeConsumers() throws -> [ChangeConsumer] {
        try read { tx in try tx.changeConsumers() }
    }

    /// The changes after `position` (see ``TimelineTransaction/changes(after:limit:)``).
    public func changes(after position: Int = 0, limit: Int = 1_000) throws -> [Change] {
        try read { tx in try tx.changes(after: position, limit: limit) }
    }

    /// Every change after `position`, in order, each once, as it commits — a live view of the log.
    ///
    /// ```swift
    /// for try await change in timeline.followChanges(after: timeline.currentPosition()) {
    ///     if change.kind == .turnsAppended { … }
    /// }
    /// ```
    /// Commits of this process wake the sequence at once. So do commits of another process on
    /// this machine (a service writing while this one shows them) on Linux, where the store
    /// watches its data file with inotify from the first follower on; where it cannot, they are
    /// seen at the next poll, when it reads the log again. The sequence reads the log as its
    /// consumer asks for changes, a page of up to 1,000 at a time: a consumer that falls behind
    /// leaves its backlog in the store, not in memory. Ending the loop, or cancelling its task,
    /// ends the sequence. It ends with an error when the log cannot be read: ``close()`` wakes a
    /// waiting follower, which then ends with `LMDBError.Code.closed` at once, whatever its poll
    /// interval. Several tasks may iterate one sequence: each change goes to one of them.
    /// - Parameters:
    ///   - position: the position to follow from: the changes after it are yielded.
    ///   - pollInterval: how often to read the log again when nothing woke the sequence: by
    ///     default 1 s where the data file is watched (a safety net only) and 20 ms where it is not;
    ///     at least 1 ms (a shorter one, zero or negative, is taken as 1 ms, so that an idle
    ///     follower never spins) and at most a day (a longer one, which would overflow the
    ///     clock's deadline and trap, is taken as a day).
    public func followChanges(after position: Int = 0, pollInterval: Duration? = nil) -> AsyncThrowingStream<Change, any Error> {
        let follower = changeFollower(after: position, pollInterval: pollInterval)
        return AsyncThrowingStream(unfolding: { try await follower.next() })
    }

    /// A follower of the log after `position` (see ``followChanges(after:pollInterval:)``), its poll
    /// interval defaulted and bounded.
    private func changeFollower(after position: Int, pollInterval: Duration?) -> ChangeFollower {
        let watched = watchOtherProcesses()
        let pollInterval = min(max(pollInterval ?? (watched ? .seconds(1) : .milliseconds(20)), .milliseconds(1)), .seconds(86_400))
        return ChangeFollower(self, after: position, pollInterval: pollInterval)
    }

    /// The turns appended to session `id` from now on, a batch per append, as they commit: the
    /// common live view of one conversation, built on ``followChanges(after:pollInterval:)``.
    ///
    /// ```swift
    /// for try await turns in timeline.observeTurns(of: session.id) { render(turns) }
    /// ```
    /// The sequence ends when the session is deleted — turns appended just before the delete
    /// that it had not read yet went with the session and are not delivered. It ends with
    /// ``TimelineError/sessionNotFound(_:)`` when there is no such session to begin with, and
    /// with the error when the log or the new turns cannot be read (a damaged record, the store
    /// closed).
    public func observeTurns(of id: UUID, pollInterval: Duration? = nil) -> AsyncThrowingStream<[Turn], any Error> {
        let start: Int
        do {
            start = try read { tx in
                _ = try tx.existingSession(id)
                return try tx.currentPosition()
            }
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
        let follower = changeFollower(after: start, pollInterval: pollInterval)
        // Pulled like followChanges: a stalled consumer leaves the turns in the store.
        return AsyncThrowingStream(unfolding: {
            while let change = try await follower.next() {
                guard change.session == id else { continue }
                if change.kind == .sessionDeleted { return nil }
                guard change.kind == .turnsAppended, let sequences = change.sequences else { continue }
                // Read now, the session may have been deleted since: then the sequence ends. Any
                // other error (a damaged turn, a full reader table) ends it with that error, not
                // as if the session were gone.
                do { return try self.turns(of: id, range: sequences).items }
                catch TimelineError.sessionNotFound { return nil }
            }
            return nil
        })
    }

    /// A session listing, live: the first page of `listSessions(filter:limit:)` now, then again
    /// each time a committed change alters it (a session created, renamed, archived, deleted or
    /// moved by new activity) — the other common live view, a project's sidebar.
    ///
    /// ```swift
    /// for try await sessions in timeline.observeSessions(filter: SessionFilter(project: "travel")) { show(sessions) }
    /// ```
    /// A page is yielded whenever it differs from the last one yielded in any field of its sessions
    /// (order, titles, counts, activity…); changes that leave it as it was yield nothing, and
    /// several changes in a burst may yield one page.
    public func observeSessions(filter: SessionFilter = SessionFilter(), limit: Int = 20,
                                pollInterval: Duration? = nil) -> AsyncThrowingStream<[Session], any Error> {
        let first: (position: Int, page: [Session])
        do {
            first = try read { tx in
                (try tx.currentPosition(), try tx.listSessions(filter: filter, limit: limit).items)
            }
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
        let follower = changeFollower(after: first.position, pollInterval: pollInterval)
        let shown = ShownPage(first.page)
        // Pulled like followChanges: a stalled consumer is sent the listing as it is when it asks.
        return AsyncThrowingStream(unfolding: {
            if let page = await shown.takeFirst() { return page }
            while let change = try await follower.next() {
                switch change.kind {
                case .checkpointSaved, .checkpointStarred, .checkpointDeleted, .crystalSaved: continue
                default: break
                }
                let page = try self.listSessions(filter: filter, limit: limit).items
                if await shown.replace(with: page) { return page }
            }
            return nil
        })
    }
}

/// The page an ``TimelineStore/observeSessions(filter:limit:pollInterval:)`` sequence showed last.
private actor ShownPage {
    private var page: [Session]
    private var firstTaken = false

    init(_ first: [Session]) { page = first }

    /// The first page, the first time; then `nil`.
    func takeFirst() -> [Session]? {
        defer { firstTaken = true }
        return firstTaken ? nil : page
    }

    /// Whether `new` differs from the page shown last; if it does, it is the one shown now.
    func replace(with new: [Session]) -> Bool {
        guard new != page else { return false }
        page = new
        return true
    }
}
