#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A value with an order-preserving byte encoding: for any two values `a < b` of one type,
/// the encoding of `a` sorts before the encoding of `b` bytewise, so LMDB's default key order is
/// the values' order and every "list by X ordered by Y" is one cursor range scan.
///
/// Every encoding here is also *prefix-free* — no encoding is a proper prefix of another value's
/// encoding of the same type — so several parts can be joined into one composite key
/// (``KeyBytes/init(_:)``) and still sort part by part. See `Docs/format.md` for the bytes.
public protocol KeyEncodable {
    /// Appends this value's key encoding to `bytes`.
    func appendKey(to bytes: inout [UInt8])
}

/// An encoded key: one value or several joined in order, ready to store or look up.
///
/// ```swift
/// let key = KeyBytes(sessionID, UInt64(7))        // session id ‖ sequence
/// let range = KeyRange.prefix(KeyBytes(sessionID).bytes)
/// ```
public struct KeyBytes: Hashable, Sendable, Comparable, KeyEncodable, CustomStringConvertible {
    /// The encoded bytes.
    public var bytes: [UInt8]

    /// Wraps bytes that already are an encoded key.
    @inlinable
    public init(raw bytes: [UInt8]) { self.bytes = bytes }

    /// The key whose ``description`` is `hex` (two hex digits a byte, either case); `nil` when
    /// `hex` is not that.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for pair in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[pair..<pair + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    /// Joins the key encodings of `parts`, in order.
    // Inlinable, so that the caller specializes the parameter pack: unspecialized, each call
    // looked up the parts' run-time metadata and conformances (about 1,100 instructions a key).
    @inlinable
    public init<each Part: KeyEncodable>(_ parts: repeat each Part) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        repeat (each parts).appendKey(to: &bytes)
        self.bytes = bytes
    }

    /// Appends the bytes as they are.
    public func appendKey(to bytes: inout [UInt8]) { bytes.append(contentsOf: self.bytes) }

    /// Bytewise order: the order LMDB keeps keys in.
    public static func < (lhs: KeyBytes, rhs: KeyBytes) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    /// The key in hex, e.g. `0a1b2c`.
    public var description: String { bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
}

extension FixedWidthInteger {
    @inline(__always)
    func appendBigEndian(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: self.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Unsigned integers: big-endian, their full width.
extension UInt8: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { appendBigEndian(to: &bytes) } }
extension UInt16: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { appendBigEndian(to: &bytes) } }
extension UInt32: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { appendBigEndian(to: &bytes) } }
extension UInt64: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { appendBigEndian(to: &bytes) } }
extension UInt: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { UInt64(self).appendBigEndian(to: &bytes) } }

/// Signed integers: big-endian with the sign bit flipped, so negatives sort before positives.
extension Int8: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { (UInt8(bitPattern: self) ^ 0x80).appendBigEndian(to: &bytes) } }
extension Int16: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { (UInt16(bitPattern: self) ^ 0x8000).appendBigEndian(to: &bytes) } }
extension Int32: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { (UInt32(bitPattern: self) ^ 0x8000_0000).appendBigEndian(to: &bytes) } }
extension Int64: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { (UInt64(bitPattern: self) ^ 0x8000_0000_0000_0000).appendBigEndian(to: &bytes) } }
extension Int: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { Int64(self).appendKey(to: &bytes) } }

/// `false` is 0x00, `true` 0x01.
extension Bool: KeyEncodable { public func appendKey(to bytes: inout [UInt8]) { bytes.append(self ? 1 : 0) } }

/// UTF-8 with every 0x00 byte written as 0x00 0xFF, then the terminator 0x00 0x01: bytewise
/// order is the strings' UTF-8 order, and no string's key is a prefix of another's.
extension String: KeyEncodable {
    /// Appends the encoding described on the extension.
    public func appendKey(to bytes: inout [UInt8]) {
        for byte in utf8 {
            bytes.append(byte)
            if byte == 0 { bytes.append(0xFF) }
        }
        bytes.append(0x00)
        bytes.append(0x01)
    }
}

/// The 16 bytes of the UUID, in order.
extension UUID: KeyEncodable {
    /// Appends the encoding described on the extension.
    public func appendKey(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { bytes.append(contentsOf: $0) }
    }

    /// The UUID whose key encoding is `bytes` (exactly 16 of them), e.g. a part of a composite key.
    public init?(keyBytes bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes) }
        self.init(uuid: value)
    }
}


/// Whole nanoseconds since 1970 as a signed 64-bit integer (covers the years 1678–2262; dates
/// outside clamp to the ends, and a NaN date sorts first).
extension Date: KeyEncodable {
    /// Appends the encoding described on the extension.
    public func appendKey(to bytes: inout [UInt8]) {
        let nanoseconds = (timeIntervalSince1970 * 1e9).rounded(.down)
        // Out-of-range dates clamp to the ends; a NaN date (never a real time) sorts first.
        let clamped: Int64 = nanoseconds.isNaN ? .min : Int64(Swift.max(Swift.min(nanoseconds, 9.2e18), -9.2e18))
        clamped.appendKey(to: &bytes)
    }
}

/// IEEE 754 bits, transformed so that bytewise order is numeric order (negatives have every bit
/// flipped, positives only the sign bit). NaN sorts above +infinity.
extension Double: KeyEncodable {
    /// Appends the encoding described on the extension.
    public func appendKey(to bytes: inout [UInt8]) {
        let bits = (self == 0 ? 0.0 : self).bitPattern
        (bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)).appendBigEndian(to: &bytes)
    }
}

/// Inverts every byte of a key part: the part then sorts in *descending* order (e.g. "newest
/// first" as an ascending scan). Only for fixed-width parts (integers, dates, UUIDs).
public struct Descending<Value: KeyEncodable & Sendable>: KeyEncodable, Sendable {
    /// The value whose order is reversed.
    public var value: Value
    /// Wraps `value`.
    public init(_ value: Value) { self.value = value }
    /// Appends the encoding described on the extension.
    public func appendKey(to bytes: inout [UInt8]) {
        let start = bytes.count
        value.appendKey(to: &bytes)
        for index in start..<bytes.count { bytes[index] = ~bytes[index] }
    }
}
