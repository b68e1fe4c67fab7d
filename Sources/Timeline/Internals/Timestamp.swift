#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif
internal import TimelineCBOR

/// Dates in session exports: UTC ISO 8601 with microseconds, `2026-11-22T01:05:05.123456Z`.
///
/// Readable, sortable, and stable: a date read from this form prints to the same text again, so
/// export → import → export is byte-identical for the years 1907–2106. (Finer than a
/// microsecond is not kept.) The arithmetic starts from `Date`'s own seconds since 2001, whose
/// `Double` holds microseconds exactly over that span.
package enum Timestamp {
    /// Microseconds from 1970 to 2001, `Date`'s reference date.
    private static let referenceMicros: Int64 = 978_307_200_000_000

    /// `nil` for a date outside the years 1678–2261 (``Validation/isStorable(_:)``) or NaN, which
    /// only a damaged record can hold: no arithmetic here may overflow.
    package static func format(_ date: Date) -> String? {
        guard Validation.isStorable(date) else { return nil }
        let micros = Int64((date.timeIntervalSinceReferenceDate * 1_000_000).rounded()) + referenceMicros
        return UTCText.format(microsSince1970: micros)
    }

    /// Parses the form ``format(_:)`` writes (a fraction of 0–9 digits, or none, is accepted).
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54, bytes[13] == 0x3A, bytes[16] == 0x3A,
              bytes.last == 0x5A,
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var micros: Int64 = 0
        if bytes.count > 20 {
            guard bytes[19] == 0x2E, bytes.count - 21 <= 9, bytes.count > 21, let fraction = number(20..<(bytes.count - 1)) else { return nil }
            var scaled = fraction
            for _ in 0..<(9 - (bytes.count - 21)) { scaled *= 10 }
            micros = (scaled + 500) / 1000
        }
        let days = UTCText.days(fromCivil: year, month, day)
        let total = (days * 86_400 + hour * 3600 + minute * 60 + second) * 1_000_000 + micros
        return Date(timeIntervalSinceReferenceDate: Double(total - referenceMicros) / 1_000_000).storable
    }
}
