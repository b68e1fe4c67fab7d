#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import TimelineLMDB
public import TimelineDocumentStore

/// Which sessions a listing or count includes. Every filter is one index range scan.
public struct SessionFilter: Sendable, Hashable {
    /// Only sessions of this project.
    public var project: String?
    /// Only forks of this session.
    public var parent: UUID?
    /// `false` (the default): only sessions not archived; `true`: only archived ones; `nil`: both.
    public var archived: Bool?
    /// Only sessions whose last activity is at or after this time.
    public var activeSince: Date?
    /// Only sessions whose last activity is before this time.
    public var activeBefore: Date?

    /// A filter; with no arguments, every session not archived.
    public init(project: String? = nil, parent: UUID? = nil, archived: Bool? = false, activeSince: Date? = nil, activeBefore: Date? = nil) {
        self.project = project
        self.parent = parent
        self.archived = archived
        self.activeSince = activeSince
        self.activeBefore = activeBefore
    }
}

/// The order of a session listing.
public enum SessionOrder: Sendable, Hashable {
    /// Most recent last activity first.
    case newestFirst
    /// Least recent last activity first.
    case oldestFirst
}


/// How one session listing reads its index: which database, which key ranges (one per archived
/// state), in which direction, and the filter left to apply to the records.
///
/// Index keys are `group ‖ archived ‖ ~activity ‖ id`; the part after `group ‖ archived` — the
/// *suffix*, 8 + 16 bytes — orders the same way in every range, so ranges for both archived
/// states merge by suffix, and a page cursor is simply the last suffix returned.
struct SessionScan {
    let indexName: String
    let database: Database
    let ranges: [KeyRange]
    let prefixLength: Int
    let reverse: Bool
    let parentFilter: UUID?
    /// The fingerprint of this listing (filter and order), carried by its page cursors.
    let listing: UInt64

    static let suffixLength = 8 + 16

    init(filter: SessionFilter, order: SessionOrder, cursor: PageCursor?, sessions: DocumentCollection<Session>) throws {
        try Validation.bound(filter.activeSince, "activeSince")
        try Validation.bound(filter.activeBefore, "activeBefore")
        var group: [UInt8] = []
        if let project = filter.project {
            indexName = "project"
            project.appendKey(to: &group)
            parentFilter = filter.parent
        } else if let parent = filter.parent {
            indexName = "parent"
            parent.appendKey(to: &group)
            parentFilter = nil
        } else {
            indexName = "activity"
            parentFilter = nil
        }
        guard let database = try sessions.index(indexName).database else {
            throw DocumentStoreError(.corrupted, collection: sessions.name)
        }
        self.database = database
        reverse = order == .oldestFirst
        prefixLength = group.count + 1
        var fingerprint = PageCursor.Fingerprint()
        fingerprint.addPiece("sessions")
        func add(_ part: [UInt8]?) {
            fingerprint.add(byte: part == nil ? 0 : 1)
            fingerprint.addPiece(part ?? [])
        }
        add(filter.project.map { Array($0.utf8) })
        add(filter.parent.map { KeyBytes($0).bytes })
        add(filter.archived.map { [$0 ? 1 : 0] })
        add(filter.activeSince.map { KeyBytes($0).bytes })
        add(filter.activeBefore.map { KeyBytes($0).bytes })
        add([order == .newestFirst ? 0 : 1])
        listing = fingerprint.value
        if let cursor, cursor.listing != listing || cursor.key.count != Self.suffixLength {
            throw TimelineError.invalidPageCursor("it does not come from a session listing with this filter and order")
        }
        // Newer activity has the smaller inverted key: `activeBefore` bounds the low end of the
        // suffix, `activeSince` the high end (every id after the inverted time included).
        let low = filter.activeBefore.map { KeyBytes(Descending($0)).bytes + [UInt8](repeating: 0xFF, count: 16) }
        let high = filter.activeSince.map { KeyBytes(Descending($0)).bytes + [UInt8](repeating: 0xFF, count: 16) }
        ranges = (filter.archived.map { [$0] } ?? [false, true]).map { archived in
            let prefix = group + [archived ? 1 : 0]
            var range = KeyRange.prefix(prefix)
            if let low { range.lower = .excluded(prefix + low) }
            if let high { range.upper = .included(prefix + high) }
            if let cursor {
                let position = prefix + cursor.key
                if order == .newestFirst {
                    if range.lower.key.map({ !position.lexicographicallyPrecedes($0) }) ?? true { range.lower = .excluded(position) }
                } else if range.upper.key.map({ position.lexicographicallyPrecedes($0) || position == $0 }) ?? true {
                    range.upper = .excluded(position)
                }
            }
            return range
        }
    }

    /// Calls `visit` with each entry's suffix (in place: valid during the call) and session id,
    /// in listing order, merging the ranges, until `visit` returns `false` or the entries run out.
    func walk(in txn: borrowing Transaction<some TransactionAccess>, _ visit: (UnsafeRawBufferPointer, UUID) throws -> Bool) throws {
        try database.withCursor(in: txn) { first in
            var one = first.entries(in: ranges[0], reverse: reverse)
            if ranges.count == 1 {
                while let entry = try one.next() {
                    let suffix = try self.suffix(of: entry)
                    guard try visit(suffix, Self.id(in: suffix)) else { return }
                }
            } else {
                try database.withCursor(in: txn) { second in
                    var other = second.entries(in: ranges[1], reverse: reverse)
                    try merge(&one, &other, visit)
                }
            }
        }
    }

    /// Walks two ranges side by side, always taking the entry that comes first in listing order.
    private func merge<Access>(_ one: inout Cursor<Access>.Entries, _ other: inout Cursor<Access>.Entries,
                               _ visit: (UnsafeRawBufferPointer, UUID) throws -> Bool) throws {
        func next(_ entries: inout Cursor<Access>.Entries) throws -> [UInt8]? { try entries.next().map { Array(try suffix(of: $0)) } }
        var heads = (try next(&one), try next(&other))
        while true {
            let takeFirst: Bool
            switch heads {
            case (nil, nil): return
            case (.some, nil): takeFirst = true
            case (nil, .some): takeFirst = false
            case (let first?, let second?): takeFirst = reverse ? second.lexicographicallyPrecedes(first) : first.lexicographicallyPrecedes(second)
            }
            let suffix = (takeFirst ? heads.0 : heads.1)!
            guard try suffix.withUnsafeBytes({ try visit($0, Self.id(in: $0)) }) else { return }
            if takeFirst { heads.0 = try next(&one) } else { heads.1 = try next(&other) }
        }
    }

    /// The session id at the end of a suffix (whose length ``suffix(of:)`` checked).
    static func id(in suffix: UnsafeRawBufferPointer) -> UUID {
        UUID(uuid: UnsafeRawBufferPointer(rebasing: suffix[(suffix.count - 16)...]).loadUnaligned(as: uuid_t.self))
    }

    /// An entry's suffix, in place, after checking its length.
    private func suffix(of entry: Entry) throws -> UnsafeRawBufferPointer {
        guard entry.key.count == prefixLength + Self.suffixLength else {
            throw DocumentStoreError(.corrupted, collection: "idx.sessions.\(indexName)", key: KeyBytes(raw: Array(entry.key)))
        }
        return UnsafeRawBufferPointer(rebasing: entry.key[prefixLength...])
    }
}

extension TimelineTransaction where Access == WriteAccess {
    // MARK: Create, read, update

    /// Creates a session.
    /// - Throws: ``TimelineError/sessionExists(_:)`` when the id is taken;
    ///   ``TimelineError/invalidValue(field:reason:)`` for a date outside the years 1678–2261 or a
    ///   project name over 200 UTF-8 bytes (nothing written in either case).
    /// - Complexity: O(log n).
    public func createSession(_ new: NewSession) throws -> Session {
        try new.validate()
        if try sessions.contains(KeyBytes(new.id), in: txn) { throw TimelineError.sessionExists(new.id) }
        let session = Session(
            id: new.id, title: new.title, project: new.project, model: new.model, provider: new.provider,
            created: try new.created?.storable ?? clock(), metadata: new.metadata
        )
        try sessions.insert(session, in: txn)
        try logChange(.sessionCreated, session: session.id)
        return session
    }

    /// Creates a session and appends its first turns, in one transaction: both or neither.
    ///
    /// ```swift
    /// let (session, turns) = try await timeline.createSession(NewSession(title: "Support"),
    ///                                                         turns: [NewTurn(role: .user, content: "Hello")])
    /// ```
    /// - Throws: what ``createSession(_:)`` and ``append(_:to:)-([NewTurn],_)`` throw (nothing written).
    public func createSession(_ new: NewSession, turns: [NewTurn]) throws -> (session: Session, turns: [Turn]) {
        let created = try createSession(new)
        let written = try append(turns, to: created.id)
        return (try existingSession(created.id), written)
    }
    /// Changes the fields a caller owns — title, project, branch name, model, provider, archived,
    /// metadata — and moves the session's index entries to match.
    ///
    /// ```swift
    /// try await timeline.updateSession(id) { $0.title = "Renamed"; $0.archived = true }
    /// ```
    /// The fields the store maintains (identity, fork point, times, counts, totals) cannot be set
    /// outside the module, so `change` cannot touch them.
    /// - Throws: ``TimelineError/sessionNotFound(_:)``; ``TimelineError/invalidValue(field:reason:)``
    ///   for a project name over 200 UTF-8 bytes (nothing written); what `change` throws.
    @discardableResult
    public func updateSession(_ id: UUID, _ change: (inout Session) throws -> Void) throws -> Session {
        let old = try existingSession(id)
        var new = old
        try change(&new)
        try Validation.project(new.project)
        if new == old { return old }
        new.updated = try clock()
        try sessions.replace(old, with: new, in: txn)
        try logChange(.sessionUpdated, session: id)
        return new
    }
}

extension TimelineTransaction {
    /// The session `id`, or `nil`.
    /// - Throws: `DocumentStoreError` `.corrupted` for a damaged record, or one stored under `id`
    ///   that says it is another session.
    public func session(_ id: UUID) throws -> Session? {
        try storedSession(id)
    }
    // MARK: Listing

    /// Sessions matching `filter`, ordered by last activity, a page at a time.
    ///
    /// ```swift
    /// var page = try await timeline.listSessions(filter: SessionFilter(project: "travel"), limit: 100)
    /// while let next = page.next { page = try await timeline.listSessions(filter: …, limit: 100, after: next) }
    /// ```
    /// Each filter maps onto an index whose keys are group ‖ archived ‖ inverted last activity ‖
    /// id, so a page is one range scan per archived state (two, merged, when `archived` is `nil`).
    /// Filtering by project *and* parent scans the project's range and skips other parents.
    /// - Parameters:
    ///   - filter: which sessions; by default every session not archived.
    ///   - order: newest activity first (the default) or oldest first.
    ///   - limit: the page size (≥ 0).
    ///   - cursor: `Page.next` of the previous page (the same filter and order).
    /// - Returns: the sessions and, when more may remain, the cursor for the next page.
    /// - Throws: ``TimelineError/invalidRange(_:)`` for a negative limit;
    ///   ``TimelineError/invalidPageCursor(_:)`` for a cursor from another listing (another filter
    ///   or order); ``TimelineError/invalidValue(field:reason:)`` for a NaN `activeSince` or
    ///   `activeBefore` (other dates outside the years the store keeps bound as its ends do).
    /// - Complexity: O(log n + limit) at any depth.
    public func listSessions(
        filter: SessionFilter = SessionFilter(), order: SessionOrder = .newestFirst, limit: Int = 100,
        after cursor: PageCursor? = nil) throws -> Page<Session> {
        var items: [Session] = []
        let next = try forEachSession(filter: filter, order: order, limit: limit, after: cursor) { items.append(try $0.session()) }
        return Page(items: items, next: next)
    }

    /// Calls `body` with a view of each session of a listing — the same selection, order and
    /// paging as ``listSessions(filter:order:limit:after:)`` — reading only the fields `body`
    /// asks for, in place, instead of building a ``Session`` per record.
    ///
    /// ```swift
    /// var rows: [(UUID, String, Int)] = []
    /// let next = try timeline.read { tx in
    ///     try tx.forEachSession(filter: SessionFilter(project: "travel"), limit: 100) { session in
    ///         rows.append((session.id, try session.title, try session.turnCount))
    ///     }
    /// }
    /// ```
    /// - Returns: the cursor for the next page (interchangeable with those of `listSessions`), or
    ///   `nil` when nothing is left.
    /// - Throws: as ``listSessions(filter:order:limit:after:)``, and what `body` throws (which
    ///   ends the listing); a damaged record throws `DocumentStoreError` (`.corrupted`) when
    ///   `body` reads the damaged field.
    @discardableResult
    public func forEachSession(
        filter: SessionFilter = SessionFilter(), order: SessionOrder = .newestFirst, limit: Int = 100,
        after cursor: PageCursor? = nil, _ body: (inout SessionView) throws -> Void) throws -> PageCursor? {
        try checkLimit(limit)
        let plan = try SessionScan(filter: filter, order: order, cursor: cursor, sessions: sessions)
        // A page of none reads nothing and continues nothing, as every listing's does (a cursor
        // made here would have held no listed session's place).
        if limit == 0 { return nil }
        var count = 0
        var more = false
        // The suffix of the last session listed, copied into one buffer (a page cursor's key).
        var lastSuffix = [UInt8](repeating: 0, count: SessionScan.suffixLength)
        try plan.walk(in: txn) { suffix, id in
            if count == limit {
                more = true
                return false
            }
            // The suffix ends with the session's id: its primary key, used in place.
            let listed = try sessions.withRecordItem(rawKey: UnsafeRawBufferPointer(rebasing: suffix[8...]), in: txn) { item -> Bool in
                var view = try SessionView(item, id: id)
                if let parent = plan.parentFilter, try view.parentID != parent { return false }
                try body(&view)
                return true
            }
            guard let listed else {
                throw DocumentStoreError(.danglingIndexEntry(index: plan.indexName), collection: sessions.name, key: KeyBytes(id))
            }
            if listed {
                count += 1
                lastSuffix.withUnsafeMutableBytes { $0.copyMemory(from: suffix) }
            }
            return true
        }
        return more ? PageCursor(key: lastSuffix, listing: plan.listing) : nil
    }
    /// The forks of session `id` (every archived state), newest activity first.
    public func children(of id: UUID) throws -> [Session] {
        try listSessions(filter: SessionFilter(parent: id, archived: nil), limit: .max).items
    }
    /// How many sessions match `filter`.
    /// - Complexity: O(matches) index entries, read without decoding sessions (except when
    ///   filtering by project and parent together); O(1) for every session (`archived: nil` and
    ///   nothing else).
    public func countSessions(filter: SessionFilter = SessionFilter()) throws -> Int {
        if filter == SessionFilter(archived: nil) { return try sessions.count(in: txn) }
        let plan = try SessionScan(filter: filter, order: .newestFirst, cursor: nil, sessions: sessions)
        var count = 0
        try plan.walk(in: txn) { _, id in
            if let parent = plan.parentFilter,
               try sessions.withView(KeyBytes(id), fields: Session.fields, in: txn, { try $0.decode(.parentID, as: UUID.self) }) != parent {
                return true
            }
            count += 1
            return true
        }
        return count
    }
}

extension TimelineStore {
    /// Creates a session (see ``TimelineTransaction/createSession(_:)``), through the group-committing writer.
    public func createSession(_ new: NewSession = NewSession()) async throws -> Session {
        try await write { tx in try tx.createSession(new) }
    }
    /// Creates a session with its first turns (see ``TimelineTransaction/createSession(_:turns:)``).
    public func createSession(_ new: NewSession, turns: [NewTurn]) async throws -> (session: Session, turns: [Turn]) {
        try await write { tx in try tx.createSession(new, turns: turns) }
    }
    /// The session `id`, or `nil`.
    /// - Complexity: O(log n); a few microseconds.
    public func session(_ id: UUID) throws -> Session? {
        try read { tx in try tx.session(id) }
    }
    /// Changes a session (see ``TimelineTransaction/updateSession(_:_:)``), through the group-committing writer.
    @discardableResult
    public func updateSession(_ id: UUID, _ change: @escaping @Sendable (inout Session) throws -> Void) async throws -> Session {
        try await write { tx in try tx.updateSession(id, change) }
    }
    /// Sessions matching `filter` (see ``TimelineTransaction/listSessions(filter:order:limit:after:)``).
    public func listSessions(
        filter: SessionFilter = SessionFilter(), order: SessionOrder = .newestFirst, limit: Int = 100,
        after cursor: PageCursor? = nil
    ) throws -> Page<Session> {
        try read { tx in try tx.listSessions(filter: filter, order: order, limit: limit, after: cursor) }
    }
    /// Views of the sessions of a listing (see ``TimelineTransaction/forEachSession(filter:order:limit:after:_:)``),
    /// in one read transaction.
    @discardableResult
    public func forEachSession(
        filter: SessionFilter = SessionFilter(), order: SessionOrder = .newestFirst, limit: Int = 100,
        after cursor: PageCursor? = nil, _ body: (inout SessionView) throws -> Void
    ) throws -> PageCursor? {
        try read { tx in try tx.forEachSession(filter: filter, order: order, limit: limit, after: cursor, body) }
    }
    /// The forks of session `id` (see ``TimelineTransaction/children(of:)``).
    public func children(of id: UUID) throws -> [Session] {
        try read { tx in try tx.children(of: id) }
    }
    /// How many sessions match `filter` (see ``TimelineTransaction/countSessions(filter:)``).
    public func countSessions(filter: SessionFilter = SessionFilter()) throws -> Int {
        try read { tx in try tx.countSessions(filter: filter) }
    }
}
