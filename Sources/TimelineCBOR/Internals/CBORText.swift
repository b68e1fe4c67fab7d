#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Turning the bytes of a CBOR text string into a `String`.
enum CBORText {
    /// The string whose UTF-8 is `bytes`, or `nil` when `bytes` is not valid UTF-8.
    ///
    /// `String(decoding:as:)` is the fast, specialized path but repairs invalid input instead of
    /// refusing it; comparing its UTF-8 with the input tells the two apart.
    @inline(__always)
    static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return "" }
        let utf8 = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        var text = String(decoding: utf8, as: UTF8.self)
        let unchanged = text.withUTF8 { $0.count == utf8.count && memcmp($0.baseAddress!, base, utf8.count) == 0 }
        return unchanged ? text : nil
    }

    /// The length of the well-formed multi-byte UTF-8 sequence starting at `index` (whose lead
    /// byte is ≥ 0x80), or 0 when it is not well-formed (RFC 3629: no overlong forms, no
    /// surrogates, nothing past U+10FFFF). Checked in place, without making a `String`.
    @inline(__always)
    static func sequenceLength(_ base: UnsafePointer<UInt8>, at index: Int, count: Int) -> Int {
        let (length, low, high): (Int, UInt8, UInt8) = switch base[index] {
        case 0xC2...0xDF: (2, 0x80, 0xBF)
        case 0xE0: (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (3, 0x80, 0xBF)
        case 0xED: (3, 0x80, 0x9F)
        case 0xF0: (4, 0x90, 0xBF)
        case 0xF1...0xF3: (4, 0x80, 0xBF)
        case 0xF4: (4, 0x80, 0x8F)
        default: (0, 0, 0)
        }
        guard length > 0, index + length <= count else { return 0 }
        // The second byte's range depends on the lead byte; the rest are plain continuations.
        guard base[index + 1] >= low && base[index + 1] <= high else { return 0 }
        for offset in 2..<length where base[index + offset] & 0xC0 != 0x80 { return 0 }
        return length
    }
}
