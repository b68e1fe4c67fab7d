/// Writes CBOR as plain JSON — what a web service answers with — straight from the encoded
/// bytes: no ``CBORValue``, no Swift value per field, one pass over the input.
///
/// ```swift
/// var json: [UInt8] = []
/// try record.withUnsafeBytes { _ = try CBORJSONTranscoder.append($0, to: &json) }
/// ```
///
/// The mapping is the one a JSON client expects, not the lossless one of
/// ``CBORValue/jsonText()`` (which `kvtool dump` uses):
///
/// | CBOR | JSON |
/// |---|---|
/// | integers, floats | numbers (a NaN or infinite float: `null`) |
/// | text | a string |
/// | byte string | a string, base64 |
/// | array, map | an array, an object (integer keys as their decimal text) |
/// | tag 1 (a date) | a string, UTC with microseconds: `"2026-11-29T12:00:00.000000Z"` |
/// | tag 37 over 16 bytes (a UUID) | a string, as `UUID.uuidString` writes it |
/// | any other tag | its content |
/// | true, false, null | the same; undefined and other simple values: `null` |
///
/// It refuses — throwing ``CBORError``, never trapping — input that is not well-formed, text
/// that is not UTF-8, nesting deeper than `maxDepth`, indefinite lengths (the record layer never
/// writes them), and map keys other than text or integers.
public enum CBORJSONTranscoder {
    /// Appends the JSON form of the one CBOR item at the start of `cbor` to `out` and returns
    /// how many bytes of `cbor` that item took. On a throw, `out` may hold part of the item.
    @discardableResult
    public static func append(_ cbor: UnsafeRawBufferPointer, to out: inout [UInt8], maxDepth: Int = 64) throws(CBORError) -> Int {
        var transcoder = Transcoder(input: cbor, maxDepth: maxDepth)
        try transcoder.item(into: &out, depth: 0)
        return transcoder.offset
    }

    private struct Transcoder {
        let input: UnsafeRawBufferPointer
        let maxDepth: Int
        var offset = 0

        init(input: UnsafeRawBufferPointer, maxDepth: Int) {
            self.input = input
            self.maxDepth = maxDepth
        }

        mutating func byte() throws(CBORError) -> UInt8 {
            guard offset < input.count else { throw CBORError(.truncated, at: offset) }
            defer { offset += 1 }
            return input[offset]
        }

        /// The argument of an item's head (RFC 8949 §3): its value, count or length.
        mutating func argument(_ info: UInt8) throws(CBORError) -> UInt64 {
            switch info {
            case 0..<24: return UInt64(info)
            case 24...27:
                let width = 1 << Int(info - 24)
                guard input.count - offset >= width else { throw CBORError(.truncated, at: offset) }
                var value: UInt64 = 0
                for index in 0..<width { value = value << 8 | UInt64(input[offset + index]) }
                offset += width
                return value
            case 31: throw CBORError(.indefiniteLength, at: offset - 1)
            default: throw CBORError(.reservedAdditionalInformation, at: offset - 1)
            }
        }

        /// A length that must fit in what is left of the input.
        mutating func length(_ info: UInt8, unit: Int = 1) throws(CBORError) -> Int {
            let start = offset - 1
            let value = try argument(info)
            guard value <= UInt64(input.count - offset) / UInt64(unit) else { throw CBORError(.lengthExceedsInput, at: start) }
            return Int(value)
        }

        mutating func item(into out: inout [UInt8], depth: Int) throws(CBORError) {
            guard depth <= maxDepth else { throw CBORError(.tooDeep, at: offset) }
            let start = offset
            let head = try byte()
            let info = head & 0x1F
            switch head >> 5 {
            case 0:
                Self.appendDecimal(try argument(info), to: &out)
            case 1:
                let value = try argument(info)
                out.append(UInt8(ascii: "-"))
                if value == .max { Self.appendLiteral("18446744073709551616", to: &out) } else { Self.appendDecimal(value + 1, to: &out) }
            case 2:
                let count = try length(info)
                out.append(UInt8(ascii: "\""))
                Base64.append(UnsafeRawBufferPointer(rebasing: input[offset..<offset + count]), to: &out)
                out.append(UInt8(ascii: "\""))
                offset += count
            case 3:
                let count = try length(info)
                try Self.appendString(UnsafeRawBufferPointer(rebasing: input[offset..<offset + count]), at: offset, to: &out)
                offset += count
            case 4:
                let count = try length(info)
                out.append(UInt8(ascii: "["))
                for index in 0..<count {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    try item(into: &out, depth: depth + 1)
                }
                out.append(UInt8(ascii: "]"))
            case 5:
                let count = try length(info, unit: 2)
                out.append(UInt8(ascii: "{"))
                for index in 0..<count {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    try key(into: &out)
                    out.append(UInt8(ascii: ":"))
                    try item(into: &out, depth: depth + 1)
                }
                out.append(UInt8(ascii: "}"))
            case 6:
                let tag = try argument(info)
                if tag == 1, try date(into: &out) { return }
                if tag == 37, try uuid(into: &out) { return }
                try item(into: &out, depth: depth + 1)
            default:
                try simple(info, start: start, into: &out)
            }
        }

        /// A map key: text as it is, an integer as its decimal text.
        mutating func key(into out: inout [UInt8]) throws(CBORError) {
            let start = offset
            let head = try byte()
            switch head >> 5 {
            case 3:
                let count = try length(head & 0x1F)
                try Self.appendString(UnsafeRawBufferPointer(rebasing: input[offset..<offset + count]), at: offset, to: &out)
                offset += count
            case 0, 1:
                offset = start
                out.append(UInt8(ascii: "\""))
                try item(into: &out, depth: 0)
                out.append(UInt8(ascii: "\""))
            default:
                // JSON has no form for it; say where it is.
                throw CBORError(.unsupportedMapKey, at: start)
            }
        }

        /// Tag 1's content as UTC text, when it is a number of seconds in the years 1678–2261;
        /// otherwise leaves the input where it was and returns `false`.
        mutating func date(into out: inout [UInt8]) throws(CBORError) -> Bool {
            let start = offset
            let head = try byte()
            let seconds: Double
            switch head {
            case 0x00...0x1B: seconds = Double(try argument(head & 0x1F))
            case 0x20...0x3B: seconds = -1 - Double(try argument(head & 0x1F))
            case 0xF9: seconds = HalfFloat.value(UInt16(try argument(25)))
            case 0xFA: seconds = Double(Float(bitPattern: UInt32(try argument(26))))
            case 0xFB: seconds = Double(bitPattern: try argument(27))
            default:
                offset = start
                return false
            }
            let micros = (seconds * 1_000_000).rounded()
            guard micros.isFinite, abs(micros) < 9.2e15 else {
                offset = start
                return false
            }
            out.append(UInt8(ascii: "\""))
            UTCText.append(microsSince1970: Int64(micros), to: &out)
            out.append(UInt8(ascii: "\""))
            return true
        }

        /// Tag 37's content as UUID text when it is 16 bytes; otherwise leaves the input where it
        /// was and returns `false`.
        mutating func uuid(into out: inout [UInt8]) throws(CBORError) -> Bool {
            guard offset + 17 <= input.count, input[offset] == 0x50 else { return false }
            // Written into a small buffer and appended once: 38 single-byte appends cost twice as much.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 38) { text in
                var at = 0
                text[at] = UInt8(ascii: "\""); at += 1
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 { text[at] = UInt8(ascii: "-"); at += 1 }
                    let value = input[offset + 1 + index]
                    text[at] = Self.hexDigit(value >> 4, upper: true)
                    text[at + 1] = Self.hexDigit(value & 0x0F, upper: true)
                    at += 2
                }
                text[at] = UInt8(ascii: "\"")
                out.append(contentsOf: UnsafeBufferPointer(text))
            }
            offset += 17
            return true
        }

        /// Major type 7: booleans, null, floats; everything else is `null`.
        mutating func simple(_ info: UInt8, start: Int, into out: inout [UInt8]) throws(CBORError) {
            switch info {
            case 20: Self.appendLiteral("false", to: &out)
            case 21: Self.appendLiteral("true", to: &out)
            case 24:
                guard try byte() >= 32 else { throw CBORError(.invalidSimpleValue, at: start) }
                Self.appendLiteral("null", to: &out)
            case 25: Self.appendNumber(HalfFloat.value(UInt16(try argument(25))), to: &out)
            case 26: Self.appendNumber(Double(Float(bitPattern: UInt32(try argument(26)))), to: &out)
            case 27: Self.appendNumber(Double(bitPattern: try argument(27)), to: &out)
            case 28...30: throw CBORError(.reservedAdditionalInformation, at: start)
            case 31: throw CBORError(.unexpectedBreak, at: start)
            default: Self.appendLiteral("null", to: &out)   // null (22), undefined (23), unassigned
            }
        }

        static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
            var divisor: UInt64 = 1
            while divisor <= value / 10 { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }

        static func appendNumber(_ value: Double, to out: inout [UInt8]) {
            guard value.isFinite else { return Self.appendLiteral("null", to: &out) }
            out.append(contentsOf: "\(value)".utf8)
        }

        /// `text` (UTF-8, checked) as a JSON string literal, in one pass: runs that need no
        /// escape are copied whole.
        static func appendString(_ text: UnsafeRawBufferPointer, at offset: Int, to out: inout [UInt8]) throws(CBORError) {
            out.append(UInt8(ascii: "\""))
            guard let base = text.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return out.append(UInt8(ascii: "\"")) }
            let count = text.count
            var index = 0, runStart = 0
            while index < count {
                // Eight bytes at a time while they are all plain ASCII (most of a conversation):
                // measured 18 → 4 instructions a byte of content (`Docs/benchmarks.md`).
                while index + 8 <= count, Self.plainASCII(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) { index += 8 }
                guard index < count else { break }
                let byte = base[index]
                if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != 0x7F {
                    if byte < 0x80 {
                        index += 1
                    } else {
                        let length = CBORText.sequenceLength(base, at: index, count: count)
                        guard length > 0 else { throw CBORError(.invalidUTF8, at: offset + index) }
                        index += length
                    }
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: index - runStart))
                switch byte {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
                case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
                default:
                    appendLiteral("\\u00", to: &out)
                    out.append(hexDigit(byte >> 4, upper: false))
                    out.append(hexDigit(byte & 0x0F, upper: false))
                }
                index += 1
                runStart = index
            }
            out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count - runStart))
            out.append(UInt8(ascii: "\""))
        }

        /// Whether none of the eight bytes in `word` needs a look: each is ASCII, not a control
        /// character, not DEL, not `"` and not `\\` (the bit tricks find a byte that is, in any lane).
        @inline(__always)
        static func plainASCII(_ word: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            func hasZero(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
            let below32 = (word &- ones &* 0x20) & ~word & highs
            let special = hasZero(word ^ (ones &* 0x22)) | hasZero(word ^ (ones &* 0x5C)) | hasZero(word ^ (ones &* 0x7F))
            return (word & highs) | below32 | special == 0
        }

        /// The ASCII hex digit of `nibble` (0–15).
        @inline(__always)
        static func hexDigit(_ nibble: UInt8, upper: Bool) -> UInt8 {
            nibble < 10 ? UInt8(ascii: "0") + nibble : (upper ? UInt8(ascii: "A") : UInt8(ascii: "a")) + nibble - 10
        }

        /// Appends the bytes of a literal.
        @inline(__always)
        static func appendLiteral(_ literal: StaticString, to out: inout [UInt8]) {
            out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }
    }
}
