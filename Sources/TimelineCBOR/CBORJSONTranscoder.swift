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
    ///
    /// For a record in the compact form (``CBOREncoder/fieldIDs``), `names` gives the field ids'
    /// names, so the JSON has the names a client expects; an id it does not name is written as its
    /// decimal text. `leading` — JSON members, `"a":1,"b":2` — is written first into the item's
    /// map when its keys are field ids: fields the compact form leaves out because the database
    /// key holds them (a map with text keys carries them itself).
    @discardableResult
    public static func append(_ cbor: UnsafeRawBufferPointer, to out: inout [UInt8], names: JSONFieldNames? = nil,
                              leading: [UInt8] = [], maxDepth: Int = 64) throws(CBORError) -> Int {
        var transcoder = Transcoder(input: cbor, maxDepth: maxDepth)
        try transcoder.item(into: &out, depth: 0, names: names, leading: leading)
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

        mutating func item(into out: inout [UInt8], depth: Int, names: JSONFieldNames? = nil, leading: [UInt8] = []) throws(CBORError) {
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
                    try item(into: &out, depth: depth + 1, names: names)
                }
                out.append(UInt8(ascii: "]"))
            case 5:
                let count = try length(info, unit: 2)
                out.append(UInt8(ascii: "{"))
                // Only before field ids: a map with text keys carries those fields itself.
                let lead = !leading.isEmpty && count > 0 && offset < input.count && input[offset] < 24
                if lead { out.append(contentsOf: leading) }
                for index in 0..<count {
                    if index > 0 || lead { out.append(UInt8(ascii: ",")) }
                    let id = try key(into: &out, names: names)
                    out.append(UInt8(ascii: ":"))
                    try item(into: &out, depth: depth + 1, names: id.flatMap { names?.nested(id: $0) })
                }
                out.append(UInt8(ascii: "}"))
            case 6:
                let tag = try argument(info)
                if tag == 1, try date(into: &out) { return }
                if tag == 37, try uuid(into: &out) { return }
                try item(into: &out, depth: depth + 1, names: names)
            default:
                try simple(info, start: start, into: &out)
            }
        }

        /// A map key: text as it is, a field id `names` names as that name, any other integer as
        /// its decimal text. Returns the field id when `names` named it.
        mutating func key(into out: inout [UInt8], names: JSONFieldNames?) throws(CBORError) -> Int? {
            let start = offset
            if let names {
                var position = offset
                if let id = DecodingContext.fieldID(in: input, at: &position), let name = names.name(id: id) {
                    offset = position
                    out.append(contentsOf: name)
                    return id
                }
            }
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
            return nil
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

/// The names of a compact record's field ids, for ``CBORJSONTranscoder``: the names of one map's
/// ids, and for a field whose value holds maps (a nested record, or an array of them), the names
/// of those. Make one per record type, once.
public final class JSONFieldNames: Sendable {
    /// `"name"` (quoted, escaped) of each id, `nil` where the id has none.
    private let names: [[UInt8]?]
    private let nestedNames: [JSONFieldNames?]

    /// The names of `Field`'s cases with an `intValue` of 0…255 (their `stringValue`s), and for
    /// some of them the names of the maps inside their values.
    public init<Field: CodingKey & CaseIterable>(_ type: Field.Type, nested: [(field: Field, names: JSONFieldNames)] = []) {
        var names = [[UInt8]?](repeating: nil, count: 256)
        var nestedNames = [JSONFieldNames?](repeating: nil, count: 256)
        for field in Field.allCases {
            guard let id = field.intValue, (0..<256).contains(id) else { continue }
            var quoted: [UInt8] = []
            // Names are Swift identifiers; escaping keeps any other name valid JSON all the same.
            _ = try? CBORValue.text(field.stringValue).encoded().withUnsafeBytes { bytes throws(CBORError) in
                try CBORJSONTranscoder.append(bytes, to: &quoted)
            }
            names[id] = quoted
        }
        for (field, inner) in nested { if let id = field.intValue, (0..<256).contains(id) { nestedNames[id] = inner } }
        self.names = names
        self.nestedNames = nestedNames
    }

    @inline(__always)
    func name(id: Int) -> [UInt8]? { id < 256 ? names[id] : nil }

    @inline(__always)
    func nested(id: Int) -> JSONFieldNames? { id < 256 ? nestedNames[id] : nil }
}
