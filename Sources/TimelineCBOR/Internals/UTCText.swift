/// UTC timestamps as text, `2026-11-22T01:05:05.123456Z`, by integer arithmetic only (Foundation's
/// formatters trap on some dates a damaged record can hold): the one formatter behind the JSON
/// form's `$date`, session exports and kvtool's `--json`.
package enum UTCText {
    /// Microseconds since 1970 as UTC text with six fraction digits. Callers keep `micros` within
    /// the years 1678–2261 (±9.2e15), so no arithmetic here can overflow.
    package static func format(microsSince1970 micros: Int64) -> String {
        String(unsafeUninitializedCapacity: maximumLength) { write(microsSince1970: micros, to: $0.baseAddress!) }
    }

    /// The most bytes ``write(microsSince1970:to:)`` writes (27 for the years 0–9999).
    package static let maximumLength = 32

    /// Writes the text of ``format(microsSince1970:)`` at `out`, which has room for
    /// ``maximumLength`` bytes, and returns how many it wrote. Digits are written in pairs with
    /// constant divisors: turnsJSON writes one date per turn, and a loop over a variable divisor
    /// cost ~1,400 instructions a date where this costs a tenth of that.
    package static func write(microsSince1970 micros: Int64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let (days, dayMicros) = micros.quotientAndRemainderFlooring(dividingBy: 86_400_000_000)
        let (year, month, day) = civil(fromDays: days)
        let seconds = Int(dayMicros / 1_000_000), fraction = Int(dayMicros % 1_000_000)
        var at = 0
        @inline(__always) func pair(_ value: Int) {
            out[at] = UInt8(truncatingIfNeeded: 48 + value / 10)
            out[at + 1] = UInt8(truncatingIfNeeded: 48 + value % 10)
            at += 2
        }
        @inline(__always) func mark(_ character: Unicode.Scalar) {
            out[at] = UInt8(ascii: character)
            at += 1
        }
        if (0...9999).contains(year) {
            pair(Int(year) / 100)
            pair(Int(year) % 100)
        } else {                                 // a year no stored date can have; every digit all the same
            for digit in String(year).utf8 { out[at] = digit; at += 1 }
        }
        mark("-"); pair(Int(month))
        mark("-"); pair(Int(day))
        mark("T"); pair(seconds / 3600)
        mark(":"); pair(seconds / 60 % 60)
        mark(":"); pair(seconds % 60)
        mark("."); pair(fraction / 10_000); pair(fraction / 100 % 100); pair(fraction % 100)
        mark("Z")
        return at
    }

    /// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
    package static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// (year, month, day) → days since 1970-01-01.
    package static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Int64 {
    /// Quotient rounded toward −∞ and the matching non-negative remainder.
    package func quotientAndRemainderFlooring(dividingBy divisor: Int64) -> (Int64, Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
