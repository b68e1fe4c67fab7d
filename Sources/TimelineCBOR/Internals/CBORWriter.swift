#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

/// Appends CBOR items to a byte array: heads in their shortest form, floats in the shortest
/// width that holds them exactly (RFC 8949 §4.2.1, core deterministic encoding).
struct CBORWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// The head of an item: major type and argument, shortest form.
    @inline(__always)
    mutating func head(_ major: UInt8, _ argument: UInt64) {
        let type = major << 5
        if argument < 24 {
            bytes.append(type | UInt8(argument))
        } else if argument <= 0xFF {
            bytes.append(type | 24)
            bytes.append(UInt8(argument))
        } else if argument <= 0xFFFF {
            bytes.append(type | 25)
            appendBigEndian(UInt16(argument))
        } else if argument <= 0xFFFF_FFFF {
            bytes.append(type | 26)
            appendBigEndian(UInt32(argument))
        } else {
            bytes.append(type | 27)
            appendBigEndian(argument)
        }
    }

    @inline(__always)
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func unsigned(_ value: UInt64) { head(0, value) }

    mutating func signed(_ value: Int64) {
        if value >= 0 { head(0, UInt64(value)) } else { head(1, UInt64(bitPattern: ~value)) }
    }

    mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            head(3, UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func byteString(_ value: UnsafeRawBufferPointer) {
        head(2, UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func bool(_ value: Bool) { bytes.append(value ? 0xF5 : 0xF4) }

    mutating func null() { bytes.append(0xF6) }

    mutating func tag(_ number: UInt64) { head(6, number) }

    /// A UUID: tag 37 over its 16 bytes.
    mutating func uuid(_ value: UUID) {
        tag(37)
        withUnsafeBytes(of: value.uuid) { byteString($0) }
    }

    /// A map of text to text, keys in RFC 8949 §4.2.1 order.
    mutating func stringMap(_ map: [String: String]) {
        head(5, UInt64(map.count))
        for key in map.keys.sorted(by: CBORKeyOrder.precedes) {
            text(key)
            text(map[key] ?? "")
        }
    }

    /// A date: tag 1 over the epoch seconds, an integer when whole, else a float.
    mutating func date(_ date: Date) {
        tag(1)
        let seconds = date.timeIntervalSince1970
        if seconds.rounded() == seconds, abs(seconds) < 0x1p63 {
            signed(Int64(seconds))
        } else {
            double(seconds)
        }
    }

    /// A float in the shortest of half, single and double precision that holds it exactly.
    mutating func double(_ value: Double) {
        if value.isNaN {
            bytes.append(contentsOf: [0xF9, 0x7E, 0x00])
        } else if let half = HalfFloat.bits(exactly: value) {
            bytes.append(0xF9)
            appendBigEndian(half)
        } else if let single = Float(exactly: value) {
            bytes.append(0xFA)
            appendBigEndian(single.bitPattern)
        } else {
            bytes.append(0xFB)
            appendBigEndian(value.bitPattern)
        }
    }
}

/// Conversions between `Double` and IEEE 754 half-precision bits, written out so that they work
/// on every platform (Swift's `Float16` is missing on some).
enum HalfFloat {
    /// The half-precision bits of `value` if it is exactly representable (NaN excluded).
    static func bits(exactly value: Double) -> UInt16? {
        guard let single = Float(exactly: value) else { return nil }
        let pattern = single.bitPattern
        let sign = UInt16(pattern >> 31) << 15
        let exponent = Int((pattern >> 23) & 0xFF)
        let mantissa = pattern & 0x7F_FFFF
        if exponent == 0xFF { return mantissa == 0 ? sign | 0x7C00 : nil }
        if exponent == 0 { return mantissa == 0 ? sign : nil }
        let unbiased = exponent - 127
        if unbiased >= -14 && unbiased <= 15 {
            guard mantissa & 0x1FFF == 0 else { return nil }
            return sign | UInt16(unbiased + 15) << 10 | UInt16(mantissa >> 13)
        }
        if unbiased >= -24 && unbiased < -14 {
            let significand = 0x80_0000 | mantissa
            let shift = UInt32(-(unbiased + 1))
            guard significand & ((1 << shift) - 1) == 0 else { return nil }
            return sign | UInt16(significand >> shift)
        }
        return nil
    }

    /// The value of half-precision `bits`.
    static func value(_ bits: UInt16) -> Double {
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = Double(bits & 0x3FF)
        let magnitude: Double = switch exponent {
        case 0: mantissa * 0x1p-24
        case 31: mantissa == 0 ? .infinity : .nan
        default: (1024 + mantissa) * Double(sign: .plus, exponent: exponent - 25, significand: 1)
        }
        return bits & 0x8000 != 0 ? -magnitude : magnitude
    }
}
