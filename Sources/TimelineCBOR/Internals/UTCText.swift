/// UTC timestamps as text, `2026-11-22T01:05:05.123456Z`, by integer arithmetic only (Foundation's
/// formatters trap on some dates a damaged record can hold): the one formatter behind the JSON
/// form's `$date`, session exports and kvtool's `--json`.
package enum UTCText {
    /// Microseconds since 1970 as UTC text with six fraction digits. Callers keep `micros` within
    /// the years 1678–2261 (±9.2e15), so no arithmetic here can overflow.
    package static func format(microsSince1970 micros: Int64) -> String {
        var out: [UInt8] = []
        append(microsSince1970: micros, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the text of ``format(microsSince1970:)`` to `out`, digit by digit: no `String`
    /// is made (turnsJSON writes one per turn).
    package static func append(microsSince1970 micros: Int64, to out: inout [UInt8]) {
        let (days, dayMicros) = micros.quotientAndRemainderFlooring(dividingBy: 86_400_000_000)
        let (year, month, day) = civil(fromDays: days)
        let seconds = dayMicros / 1_000_000, fraction = dayMicros % 1_000_000
        func digits(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            if rest >= divisor * 10 {               // a year past 9999 cannot be stored; keep every digit anyway
                out.append(contentsOf: String(rest / (divisor * 10)).utf8)
                rest %= divisor * 10
            }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4); out.append(UInt8(ascii: "-"))
        digits(month, 2); out.append(UInt8(ascii: "-"))
        digits(day, 2); out.append(UInt8(ascii: "T"))
        digits(seconds / 3600, 2); out.append(UInt8(ascii: ":"))
        digits(seconds / 60 % 60, 2); out.append(UInt8(ascii: ":"))
        digits(seconds % 60, 2); out.append(UInt8(ascii: "."))
        digits(fraction, 6); out.append(UInt8(ascii: "Z"))
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
