#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
internal import TimelineDocumentStore

/// Checks on the values callers hand the timeline, made before anything is written, so that no
/// input can trap the process (a trap on the writer thread would take every caller down) and
/// nothing unreadable reaches the store.
enum Validation {
    /// Whether the store keeps `date` exactly in its index keys (whole nanoseconds in a signed
    /// 64-bit integer, clamped at ±9.2e18): about the years 1678 to 2261, never NaN. (Compared
    /// on the number: a `ClosedRange<Date>` takes a NaN date as inside, since its `<=` is `!(>)`.)
    static func isStorable(_ date: Date) -> Bool {
        let seconds = date.timeIntervalSince1970
        return seconds >= -9.2e9 && seconds <= 9.2e9
    }

    /// The longest project name, in UTF-8 bytes: its index key (project ‖ archived ‖ activity ‖
    /// id) must stay within LMDB's 511-byte keys even when every byte is escaped.
    static let maxProjectBytes = 200

    /// Refuses a negative token count.
    static func count(_ value: Int?, _ field: String) throws {
        if let value, value < 0 { throw TimelineError.invalidValue(field: field, reason: "\(value) is negative") }
    }

    /// Refuses a negative cost.
    static func amount(_ value: Cost?, _ field: String) throws {
        if let value, value < .zero { throw TimelineError.invalidValue(field: field, reason: "\(value) is negative") }
    }

    /// Refuses an amount (a duration) that is negative, NaN or infinite.
    static func amount(_ value: Double?, _ field: String) throws {
        guard let value else { return }
        if !value.isFinite { throw TimelineError.invalidValue(field: field, reason: "\(value) is not a finite number") }
        if value < 0 { throw TimelineError.invalidValue(field: field, reason: "\(value) is negative") }
    }

    /// Refuses a date outside the years 1678–2261 (``isStorable(_:)``), or NaN.
    static func date(_ value: Date?, _ field: String) throws {
        guard let value else { return }
        if !isStorable(value) {
            throw TimelineError.invalidValue(field: field, reason: "\(value.timeIntervalSince1970) s since 1970 is outside the years 1678–2261 the store keeps")
        }
    }

    /// Refuses a NaN date given as a bound (a listing's activity window, a retention cutoff):
    /// any other date bounds as it is, clamped to the years the store keeps.
    static func bound(_ value: Date?, _ field: String) throws {
        if let value, value.timeIntervalSince1970.isNaN {
            throw TimelineError.invalidValue(field: field, reason: "NaN is not a time")
        }
    }

    /// Refuses a project name too long for its index key.
    static func project(_ value: String?) throws {
        if let value, value.utf8.count > maxProjectBytes {
            throw TimelineError.invalidValue(field: "project", reason: "\(value.utf8.count) UTF-8 bytes; at most \(maxProjectBytes)")
        }
    }

    /// `total + value`, or an error when the session's running total would overflow.
    static func add(_ value: Int?, to total: Int, _ field: String) throws -> Int {
        let (sum, overflow) = total.addingReportingOverflow(value ?? 0)
        if overflow { throw TimelineError.invalidValue(field: field, reason: "the session's total \(total) + \(value ?? 0) does not fit in an Int") }
        return sum
    }

    /// `total + value` for a cost total, or an error when it would overflow.
    static func add(_ value: Cost?, to total: Cost, _ field: String) throws -> Cost {
        guard let sum = total.adding(value ?? .zero) else {
            throw TimelineError.invalidValue(field: field, reason: "the session's total \(total) + \(value ?? .zero) does not fit (at most 9,223,372,036 units)")
        }
        return sum
    }

    /// The counter after `value` (turns, checkpoints, crystals), or a `corrupted` error naming the
    /// session: only a damaged record can hold a counter at its maximum.
    static func next(_ value: Int, _ field: String, of session: UUID) throws -> Int {
        guard value >= 0, value < Int.max else {
            throw DocumentStoreError(.corrupted, collection: "sessions", key: KeyBytes(session),
                                     underlying: TimelineError.invalidValue(field: field, reason: "the stored counter is at its maximum"))
        }
        return value + 1
    }
}

extension Validation {
    /// The checks of ``NewSession/validate()`` plus the totals, on a whole session record (an import).
    static func values(of session: Session) throws {
        try date(session.created, "created")
        try date(session.updated, "updated")
        try date(session.lastActivity, "lastActivity")
        try project(session.project)
        try count(session.inputTokens, "inputTokens")
        try count(session.outputTokens, "outputTokens")
        try amount(session.cost, "cost")
    }

    /// The checks of ``NewTurn/validate()``, on a whole turn record (an import).
    static func values(of turn: Turn) throws {
        try turnValues(turn.inputTokens, turn.outputTokens, turn.cost, turn.duration, turn.created)
    }

    /// Refuses negative token counts, a negative or non-finite cost or duration, and an
    /// out-of-range creation date.
    static func turnValues(_ inputTokens: Int?, _ outputTokens: Int?, _ cost: Cost?, _ duration: Double?, _ created: Date?) throws {
        try count(inputTokens, "inputTokens")
        try count(outputTokens, "outputTokens")
        try amount(cost, "cost")
        try amount(duration, "duration")
        try date(created, "created")
    }
}

extension NewTurn {
    /// Refuses negative token counts, a negative or non-finite duration or cost, and an
    /// out-of-range creation date.
    func validate() throws {
        try Validation.turnValues(inputTokens, outputTokens, cost, duration, created)
    }
}

extension NewSession {
    /// Refuses an out-of-range creation date and a project name too long to index.
    func validate() throws {
        try Validation.date(created, "created")
        try Validation.project(project)
    }
}

extension NewCheckpoint {
    /// Refuses an out-of-range creation date.
    func validate() throws {
        try Validation.date(created, "created")
    }
}

extension NewCrystal {
    /// Refuses a negative token count and an out-of-range creation date.
    func validate() throws {
        try Validation.count(tokens, "tokens")
        try Validation.date(created, "created")
    }
}
