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
}
