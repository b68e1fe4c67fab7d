#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
internal import TimelineCBOR

extension UUID {
    /// All zero bits: a placeholder that costs nothing to make (`UUID()` reads the system's
    /// random source), overwritten before any record leaves a decoder.
    static let zero = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
}

extension Date {
    /// This date as CBOR stores it — a `Double` of seconds since 1970 — read back.
    ///
    /// `Date` keeps seconds since 2001; converting to 1970 seconds and back can move the last
    /// bit. Every time the timeline writes goes through this first, so the record a call returns
    /// is exactly the record a later read decodes.
    var storable: Date { Date(timeIntervalSince1970: timeIntervalSince1970) }
}

extension Int {
    /// A sequence, checkpoint number or crystal version as it appears in keys: 8 bytes
    /// big-endian, unsigned (the stored format; `Int`'s own key encoding flips the sign bit).
    /// Only ever called on values ≥ 0.
    var keyPart: UInt64 { UInt64(bitPattern: Int64(self)) }
}

extension CBORItemReader {
    /// A count, sequence or branch point: stored unsigned, read as an `Int`. A negative value or
    /// one past `Int.max` (only damage makes either) is a decoding error, never a trap later.
    mutating func decodeCount() throws -> Int {
        let value = try decode(UInt64.self)
        guard let count = Int(exactly: value) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "count \(value) is past Int.max"))
        }
        return count
    }
}
