#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
internal import TimelineCBOR

/// An amount of money, exact: a whole number of nano-units (10⁻⁹) of the caller's currency.
///
/// Costs add up exactly — a session's total is the sum of its turns' costs to the last
/// nano-unit, however many there are — where `Double` sums drift (0.0001 + 0.0817 + 0.1 + 0.2 is
/// 0.38180000000000003 in binary floating point). A nano-unit is fine enough for per-token
/// prices (a token at $0.15 per million tokens costs 150 nano-dollars).
///
/// ```swift
/// let price: Cost = 0.0817                 // a decimal literal, rounded to the nano-unit
/// let total = price + Cost(nanos: 100_000) // 0.0818
/// print(total)                             // "0.0818"
/// let parsed = Cost("0.38180")             // from text, exactly
/// ```
///
/// Stored and exported as the integer ``nanos`` (field `costNanos`).
public struct Cost: Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// The amount in nano-units (10⁻⁹ of the currency unit).
    public var nanos: Int64

    /// Nano-units per currency unit.
    public static let nanosPerUnit: Int64 = 1_000_000_000

    /// Nothing.
    public static let zero = Cost(nanos: 0)

    /// An amount of `nanos` nano-units.
    public init(nanos: Int64) { self.nanos = nanos }

    /// Whole currency units: `Cost(integerLiteral: 2)` is 2.0. Saturates at ±9,223,372,036 units.
    public init(integerLiteral value: Int) {
        let (product, overflow) = Int64(value).multipliedReportingOverflow(by: Self.nanosPerUnit)
        nanos = overflow ? (value < 0 ? .min : .max) : product
    }

    /// A decimal literal, rounded to the nearest nano-unit (exact for up to nine decimals).
    public init(floatLiteral value: Double) {
        self = Cost(rounding: value) ?? Cost(nanos: value < 0 ? .min : .max)
    }

    /// `amount` rounded to the nearest nano-unit; `nil` for NaN, infinity, or an amount past
    /// ±9,223,372,036 units.
    public init?(rounding amount: Double) {
        guard let nanos = Int64(exactly: (amount * Double(Self.nanosPerUnit)).rounded()) else { return nil }
        self.nanos = nanos
    }

    /// The amount written in decimal (`"12.5"`, `"-0.000000001"`, `"3"`); `nil` when `text` is not
    /// a decimal number, has more than nine decimals, or is out of range.
    public init?(_ text: String) {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !(whole.isEmpty && parts.count == 1),
              whole.allSatisfy(\.isASCIIDigit), parts.count == 1 || (parts[1].count <= 9 && parts[1].allSatisfy(\.isASCIIDigit)),
              !(whole.isEmpty && parts[1].isEmpty) else { return nil }
        let fraction = parts.count == 2 ? parts[1] + String(repeating: "0", count: 9 - parts[1].count) : "000000000"
        guard let units = Int64(whole.isEmpty ? "0" : whole), let nanos = Int64(fraction) else { return nil }
        let (scaled, overflow) = units.multipliedReportingOverflow(by: Self.nanosPerUnit)
        let (sum, overflow2) = scaled.addingReportingOverflow(nanos)
        guard !overflow, !overflow2 else { return nil }
        self.nanos = negative ? -sum : sum
    }

    /// The amount as a `Double`, for display and arithmetic that need not be exact.
    public var doubleValue: Double { Double(nanos) / Double(Self.nanosPerUnit) }

    /// The amount in decimal, exactly, without trailing zeros: `"0.0818"`, `"3"`.
    public var description: String {
        let magnitude = nanos.magnitude
        let units = magnitude / UInt64(Self.nanosPerUnit), fraction = magnitude % UInt64(Self.nanosPerUnit)
        var text = (nanos < 0 ? "-" : "") + String(units)
        if fraction > 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 9 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text
    }

    /// The sum, or `nil` when it would pass ±9,223,372,036 units.
    public func adding(_ other: Cost) -> Cost? {
        let (sum, overflow) = nanos.addingReportingOverflow(other.nanos)
        return overflow ? nil : Cost(nanos: sum)
    }

    /// The sum; traps on overflow like `Int64` (use ``adding(_:)`` for untrusted amounts).
    public static func + (lhs: Cost, rhs: Cost) -> Cost { Cost(nanos: lhs.nanos + rhs.nanos) }

    /// Orders by amount.
    public static func < (lhs: Cost, rhs: Cost) -> Bool { lhs.nanos < rhs.nanos }

    /// Reads the integer nano-units.
    public init(from decoder: any Decoder) throws { nanos = try decoder.singleValueContainer().decode(Int64.self) }

    /// Writes the integer nano-units.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(nanos)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension Cost {
    /// The record migration of sessions and turns from version 1 to 2: the `Double` field `cost`
    /// becomes the integer `costNanos`, rounded to the nano-unit (a session total summed in
    /// binary floating point, 0.38180000000000003, becomes exactly 381,800,000). A missing or null
    /// `cost` stays absent when `optional`, else is 0; a value that is not a finite number in
    /// range stops the migration for that record, naming it.
    static func migrateField(of record: inout CBORValue, optional: Bool) throws {
        let old = record["cost"]
        record["cost"] = nil
        let amount: Double?
        switch old {
        case .float(let value)?: amount = value
        case .unsigned(let value)?: amount = Double(value)
        case .negative(let value)?: amount = -1 - Double(value)
        case nil, .null?: amount = nil
        default: throw MigrationValueError(detail: "cost is \(old.map { "\($0)" } ?? "missing"), not a number")
        }
        guard let amount else {
            if !optional { record["costNanos"] = .unsigned(0) }
            return
        }
        guard let cost = Cost(rounding: amount) else { throw MigrationValueError(detail: "cost \(amount) is not a finite amount in range") }
        record["costNanos"] = CBORValue(cost.nanos)
    }
}

/// A stored value a migration step cannot convert.
struct MigrationValueError: Error, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}
