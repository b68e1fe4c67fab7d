internal import FoundationEssentials

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
