internal import CTimelineText

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
/// that is not UTF-8, nesting deeper than `maxDepth` (at most ``CBORDecoder/maxDepthLimit``), indefinite lengths (the record layer never
/// writes them), and map keys other than text or integers.
public enum CBORJSONTranscoder {
    /// Appends the JSON form of the one CBOR item at the start of `cbor` to `out` and returns
    /// how many bytes of `cbor` that item took. On a throw, `out` is as it was.
    ///
    /// For a record in the compact form (``CBOREncoder/fieldIDs``), `names` gives the field ids'
    /// names, so the JSON has the names a client expects; an id it does not name is written as its
    /// decimal text. `leading` — JSON members, `"a":1,"b":2` — is written first into the item's
    /// map when its keys are field ids: fields the compact form leaves out because the database
    /// key holds them (a map with text keys carries them itself).
    @discardableResult
    public static func append(_ cbor: UnsafeRawBufferPointer, to out: inout [UInt8], names: JSONFieldNames? = nil,
                              leading: [UInt8] = [], maxDepth: Int = 64) throws(CBORError) -> Int {
        var output = JSONOutput(capacity: cbor.count + cbor.count / 8 + 64)
        let used = leading.withUnsafeBytes { leading in
            Result { () throws(CBORError) in try append(cbor, to: &output, names: names, leading: leading, maxDepth: maxDepth) }
        }
        output.withBytes { out.append(contentsOf: $0) }
        return try used.get()
    }

    /// ``append(_:to:names:leading:maxDepth:)`` into a ``JSONOutput``: what turnsJSON writes a
    /// page with, into one buffer. On a throw, `out` may hold part of the item.
    @discardableResult
    package static func append(_ cbor: UnsafeRawBufferPointer, to out: inout JSONOutput, names: JSONFieldNames?,
                               leading: borrowing JSONOutput, maxDepth: Int = 64) throws(CBORError) -> Int {
        try append(cbor, to: &out, names: names, leading: leading.bytes, maxDepth: maxDepth)
    }

    static func append(_ cbor: UnsafeRawBufferPointer, to out: inout JSONOutput, names: JSONFieldNames?,
                       leading: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(CBORError) -> Int {
        // The names are read through their table's plain pointers: passing the class from map to
        // map retained and released it for every field (~250 instructions a turn).
        try withExtendedLifetime(names) { () throws(CBORError) -> Int in
            var transcoder = Transcoder(input: cbor, maxDepth: maxDepth)
            try transcoder.item(into: &out, depth: 0, names: names?.table, leading: leading)
            return transcoder.offset
        }
    }

    private struct Transcoder {
        let input: UnsafeRawBufferPointer
        let maxDepth: Int
        var offset = 0

        init(input: UnsafeRawBufferPointer, maxDepth: Int) {
            self.input = input
            self.maxDepth = min(maxDepth, CBORDecoder.maxDepthLimit)
        }

        @inline(__always)
        mutating func byte() throws(CBORError) -> UInt8 {
            guard offset < input.count else { throw CBORError(.truncated, at: offset) }
            defer { offset += 1 }
            return input[offset]
        }

        /// The argument of an item's head (RFC 8949 §3): its value, count or length.
        @inline(__always)
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
        @inline(__always)
        mutating func length(_ info: UInt8, unit: Int = 1) throws(CBORError) -> Int {
            let start = offset - 1
            let value = try argument(info)
            guard value <= UInt64(input.count - offset) / UInt64(unit) else { throw CBORError(.lengthExceedsInput, at: start) }
            return Int(value)
        }

        mutating func item(into out: inout JSONOutput, depth: Int, names: JSONNameTable? = nil,
                           leading: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) throws(CBORError) {
            guard depth <= maxDepth else { throw CBORError(.tooDeep, at: offset) }
            let start = offset
            let head = try byte()
            let info = head & 0x1F
            switch head >> 5 {
            case 0:
                out.appendDecimal(try argument(info))
            case 1:
                let value = try argument(info)
                out.append(UInt8(ascii: "-"))
                if value == .max { out.append("18446744073709551616") } else { out.appendDecimal(value + 1) }
            case 2:
                let count = try length(info)
                let bytes = UnsafeRawBufferPointer(rebasing: input[offset..<offset + count])
                out.append(UInt8(ascii: "\""))
                out.write(atMost: Base64.encodedCount(count)) { Base64.write(bytes, to: $0) }
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
                if lead { out.append(leading) }
                for index in 0..<count {
                    let id = try member(into: &out, names: names, first: index == 0 && !lead)
                    try item(into: &out, depth: depth + 1, names: id.flatMap { names?.nested(id: $0) })
                }
                out.append(UInt8(ascii: "}"))
            case 6:
                let tag = try argument(info)
                if tag == 1, try date(into: &out) { return }
                if tag == 37, uuid(into: &out) { return }
                try item(into: &out, depth: depth + 1, names: names)
            default:
                try simple(info, start: start, into: &out)
            }
        }

        /// A map member's start — a comma unless it is the `first`, the key and a colon: a field
        /// id `names` names as that name (`,"name":` copied at once), text as it is, any other
        /// integer as its decimal text. Returns the field id when `names` named it.
        mutating func member(into out: inout JSONOutput, names: JSONNameTable?, first: Bool) throws(CBORError) -> Int? {
            let start = offset
            if let names {
                var position = offset
                if let id = DecodingContext.fieldID(in: input, at: &position), names.writeMember(id: id, first: first, to: &out) {
                    offset = position
                    return id
                }
            }
            if !first { out.append(UInt8(ascii: ",")) }
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
            out.append(UInt8(ascii: ":"))
            return nil
        }

        /// Tag 1's content as UTC text, when it is a number of seconds in the years 1678–2261;
        /// otherwise leaves the input where it was and returns `false`.
        mutating func date(into out: inout JSONOutput) throws(CBORError) -> Bool {
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
            out.write(atMost: UTCText.maximumLength + 2) { text in
                text[0] = UInt8(ascii: "\"")
                let count = 1 + UTCText.write(microsSince1970: Int64(micros), to: text + 1)
                text[count] = UInt8(ascii: "\"")
                return count + 1
            }
            return true
        }

        /// Tag 37's content as UUID text when it is 16 bytes; otherwise leaves the input where it
        /// was and returns `false`.
        mutating func uuid(into out: inout JSONOutput) -> Bool {
            guard offset + 17 <= input.count, input[offset] == 0x50 else { return false }
            let bytes = input.baseAddress! + offset + 1
            out.write(atMost: 38) { text in
                // Two hex digits a byte from a table, the groups unrolled: ~500 → ~120 instructions.
                text[0] = UInt8(ascii: "\"")
                var at = 1
                Self.hexPairs.withUnsafeBufferPointer { pairs in
                    @inline(__always) func byte(_ index: Int) {
                        UnsafeMutableRawPointer(text + at).storeBytes(of: pairs[Int(bytes.load(fromByteOffset: index, as: UInt8.self))], as: UInt16.self)
                        at += 2
                    }
                    @inline(__always) func dash() { text[at] = UInt8(ascii: "-"); at += 1 }
                    byte(0); byte(1); byte(2); byte(3); dash()
                    byte(4); byte(5); dash()
                    byte(6); byte(7); dash()
                    byte(8); byte(9); dash()
                    byte(10); byte(11); byte(12); byte(13); byte(14); byte(15)
                }
                text[at] = UInt8(ascii: "\"")
                return at + 1
            }
            offset += 17
            return true
        }

        /// Major type 7: booleans, null, floats; everything else is `null`.
        mutating func simple(_ info: UInt8, start: Int, into out: inout JSONOutput) throws(CBORError) {
            switch info {
            case 20: out.append("false")
            case 21: out.append("true")
            case 24:
                guard try byte() >= 32 else { throw CBORError(.invalidSimpleValue, at: start) }
                out.append("null")
            case 25: Self.appendNumber(HalfFloat.value(UInt16(try argument(25))), to: &out)
            case 26: Self.appendNumber(Double(Float(bitPattern: UInt32(try argument(26)))), to: &out)
            case 27: Self.appendNumber(Double(bitPattern: try argument(27)), to: &out)
            case 28...30: throw CBORError(.reservedAdditionalInformation, at: start)
            case 31: throw CBORError(.unexpectedBreak, at: start)
            default: out.append("null")   // null (22), undefined (23), unassigned
            }
        }

        static func appendNumber(_ value: Double, to out: inout JSONOutput) {
            guard value.isFinite else { return out.append("null") }
            var text = "\(value)"
            text.withUTF8 { out.append(UnsafeRawBufferPointer($0)) }
        }

        /// `text` (UTF-8, checked) as a JSON string literal, in one pass: runs that need no
        /// escape are copied whole.
        static func appendString(_ text: UnsafeRawBufferPointer, at offset: Int, to out: inout JSONOutput) throws(CBORError) {
            out.reserve(text.count + 2)
            out.append(UInt8(ascii: "\""))
            guard let base = text.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return out.append(UInt8(ascii: "\"")) }
            let count = text.count
            var index = 0, runStart = 0
            while index < count {
                // Plain ASCII is skipped sixteen bytes a step by SSE2 or NEON (`CTimelineText`):
                // ~1.5 instructions a byte of content, where a byte at a time took 18, a 64-bit
                // word at a time 4 and two words 2.9 (`SIMD16<UInt8>` compares compiled to ~20).
                index += timeline_json_plain_prefix(base + index, count - index)
                guard index < count else { break }
                let byte = base[index]
                if byte >= 0x80 {
                    let length = CBORText.sequenceLength(base, at: index, count: count)
                    guard length > 0 else { throw CBORError(.invalidUTF8, at: offset + index) }
                    index += length
                    continue
                }
                out.append(UnsafeRawBufferPointer(start: base + runStart, count: index - runStart))
                switch byte {
                case UInt8(ascii: "\""): out.append("\\\"")
                case UInt8(ascii: "\\"): out.append("\\\\")
                case 0x0A: out.append("\\n")
                case 0x0D: out.append("\\r")
                case 0x09: out.append("\\t")
                default:
                    out.append("\\u00")
                    out.append(hexDigit(byte >> 4, upper: false))
                    out.append(hexDigit(byte & 0x0F, upper: false))
                }
                index += 1
                runStart = index
            }
            out.append(UnsafeRawBufferPointer(start: base + runStart, count: count - runStart))
            out.append(UInt8(ascii: "\""))
        }

        /// The two upper-case hex digits of each byte, as they lie in memory.
        static let hexPairs: [UInt16] = (0..<256).map { byte in
            UInt16(hexDigit(UInt8(byte >> 4), upper: true)) | UInt16(hexDigit(UInt8(byte & 0x0F), upper: true)) << 8
        }.map { UInt16(littleEndian: $0) }

        /// The ASCII hex digit of `nibble` (0–15).
        @inline(__always)
        static func hexDigit(_ nibble: UInt8, upper: Bool) -> UInt8 {
            nibble < 10 ? UInt8(ascii: "0") + nibble : (upper ? UInt8(ascii: "A") : UInt8(ascii: "a")) + nibble - 10
        }
    }
}

/// A growing buffer of JSON bytes: a pointer, a count and a capacity, so that writing a byte is
/// a compare and a store (an `Array`'s append also checks that its storage is not shared: ~20
/// instructions a call, and a record's JSON makes dozens). Owns its memory; read what was written
/// with ``withBytes(_:)``.
package struct JSONOutput: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    /// How many bytes were written.
    package private(set) var count = 0
    private var capacity: Int

    /// An empty buffer with room for `capacity` bytes before it grows.
    package init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Makes room for `more` bytes.
    @inline(__always)
    package mutating func reserve(_ more: Int) {
        if capacity - count < more { grow(more) }
    }

    @inline(never)
    private mutating func grow(_ more: Int) {
        let newCapacity = max(capacity * 2, count + more)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.moveInitialize(from: base, count: count)
        base.deallocate()
        (base, capacity) = (newBase, newCapacity)
    }

    @inline(__always)
    package mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        let length = bytes.count
        reserve(length)
        let target = UnsafeMutableRawPointer(base + count)
        // Most copies are a field's name or a short run of text: up to 16 bytes are copied as two
        // words that may overlap, in place — a call to `memcpy` took ~25 instructions for each.
        switch length {
        case 8...16:
            let (head, tail) = (source.loadUnaligned(as: UInt64.self), source.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self))
            target.storeBytes(of: head, as: UInt64.self)
            target.storeBytes(of: tail, toByteOffset: length - 8, as: UInt64.self)
        case 4..<8:
            let (head, tail) = (source.loadUnaligned(as: UInt32.self), source.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self))
            target.storeBytes(of: head, as: UInt32.self)
            target.storeBytes(of: tail, toByteOffset: length - 4, as: UInt32.self)
        case 1..<4:
            let (first, middle, last) = (source.load(as: UInt8.self), source.load(fromByteOffset: length / 2, as: UInt8.self),
                                         source.load(fromByteOffset: length - 1, as: UInt8.self))
            target.storeBytes(of: first, as: UInt8.self)
            target.storeBytes(of: middle, toByteOffset: length / 2, as: UInt8.self)
            target.storeBytes(of: last, toByteOffset: length - 1, as: UInt8.self)
        default:
            target.copyMemory(from: source, byteCount: length)
        }
        count += length
    }

    @inline(__always)
    package mutating func append(_ literal: StaticString) {
        append(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Writes `value`'s decimal digits: their count from the highest bit set and one compare,
    /// then two at a time from the last, from a table of the pairs (a loop that counted them by
    /// dividing and wrote one digit a division took ~140 instructions for a token count).
    package mutating func appendDecimal(_ value: UInt64) {
        if value < 10 { return append(UInt8(truncatingIfNeeded: 48 &+ value)) }
        let estimate = ((64 - value.leadingZeroBitCount) * 1233) >> 12   // ⌊log10(2^bits)⌋: the count or one less
        let digits = estimate + (value >= Self.powerOfTen(estimate) ? 1 : 0)
        write(atMost: digits) { text in
            Self.digitPairs.withUTF8Buffer { pairs in
                let pairs = UnsafeRawPointer(pairs.baseAddress!)
                var rest = value, at = digits
                while rest >= 100 {
                    let pair = Int(truncatingIfNeeded: rest % 100)
                    rest /= 100
                    at &-= 2
                    UnsafeMutableRawPointer(text + at).storeBytes(of: pairs.loadUnaligned(fromByteOffset: pair &* 2, as: UInt16.self), as: UInt16.self)
                }
                if rest >= 10 {
                    UnsafeMutableRawPointer(text).storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(rest) &* 2, as: UInt16.self), as: UInt16.self)
                } else {
                    text[0] = UInt8(truncatingIfNeeded: 48 &+ rest)
                }
            }
            return digits
        }
    }

    /// "00", "01", … "99", one after another.
    private static var digitPairs: StaticString {
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
    }

    /// 10 to the power `exponent`, 0…19 (a switch the compiler makes a table of).
    @inline(__always)
    private static func powerOfTen(_ exponent: Int) -> UInt64 {
        switch exponent {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        case 8: 100_000_000
        case 9: 1_000_000_000
        case 10: 10_000_000_000
        case 11: 100_000_000_000
        case 12: 1_000_000_000_000
        case 13: 10_000_000_000_000
        case 14: 100_000_000_000_000
        case 15: 1_000_000_000_000_000
        case 16: 10_000_000_000_000_000
        case 17: 100_000_000_000_000_000
        case 18: 1_000_000_000_000_000_000
        case 19: 10_000_000_000_000_000_000
        default: .max
        }
    }

    /// Writes `value`'s decimal digits, after a `-` when it is negative.
    package mutating func appendDecimal(_ value: Int) {
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(UInt64(value.magnitude))
    }

    /// Lets `body` write up to `limit` bytes in place; it returns how many it wrote.
    @inline(__always)
    package mutating func write(atMost limit: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        reserve(limit)
        count += body(base + count)
    }

    /// Forgets what was written after the first `count` bytes.
    package mutating func truncate(to count: Int) {
        self.count = min(self.count, max(count, 0))
    }

    /// The bytes written so far, valid until the buffer next changes.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Calls `body` with the bytes written so far.
    package func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(start: base, count: count))
    }
}

/// The names of a compact record's field ids, for ``CBORJSONTranscoder``: the names of one map's
/// ids, and for a field whose value holds maps (a nested record, or an array of them), the names
/// of those. Make one per record type, once.
public final class JSONFieldNames: @unchecked Sendable {   // immutable once made
    /// What the transcoder reads, in memory of its own (freed with the names).
    let table: JSONNameTable
    /// Keeps the nested names, whose tables this one points to, alive.
    private let nestedNames: [JSONFieldNames?]

    /// The names of `Field`'s cases with an `intValue` of 0…255 (their `stringValue`s), and for
    /// some of them the names of the maps inside their values.
    public init<Field: CodingKey & CaseIterable>(_ type: Field.Type, nested: [(field: Field, names: JSONFieldNames)] = []) {
        var text: [UInt8] = []
        var starts = [Int32](repeating: 0, count: 256), ends = [Int32](repeating: 0, count: 256)
        var nestedNames = [JSONFieldNames?](repeating: nil, count: 256)
        for field in Field.allCases {
            guard let id = field.intValue, (0..<256).contains(id), ends[id] == 0 else { continue }
            // Names are Swift identifiers; escaping keeps any other name valid JSON all the same.
            _ = try? CBORValue.text(field.stringValue).encoded().withUnsafeBytes { bytes throws(CBORError) in
                starts[id] = Int32(text.count)
                text.append(UInt8(ascii: ","))
                try CBORJSONTranscoder.append(bytes, to: &text)
                text.append(UInt8(ascii: ":"))
                ends[id] = Int32(text.count)
            }
        }
        for (field, inner) in nested { if let id = field.intValue, (0..<256).contains(id) { nestedNames[id] = inner } }
        table = JSONNameTable(text: text, starts: starts, ends: ends, nested: nestedNames.map { $0?.table })
        self.nestedNames = nestedNames
    }

    deinit { table.deallocate() }
}

/// A ``JSONFieldNames``' look-up table as plain pointers, so that the transcoder passes it from
/// map to map without reference counting: `,"name":` (the name quoted and escaped) of every named id, one
/// after another, where each id's starts and ends (equal where the id has none), and the tables
/// of the maps nested in each id's value. (An array of arrays retained and released the name it
/// read, and even one flat array was retained for each look-up.)
struct JSONNameTable {
    private let text: UnsafeMutableRawPointer
    private let starts: UnsafeMutablePointer<Int32>, ends: UnsafeMutablePointer<Int32>
    private let nestedTables: UnsafeMutablePointer<JSONNameTable?>

    /// `starts`, `ends` and `nested` have 256 entries each.
    init(text: [UInt8], starts: [Int32], ends: [Int32], nested: [JSONNameTable?]) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(text.count, 1), alignment: 1)
        text.withUnsafeBytes { if let source = $0.baseAddress { memory.copyMemory(from: source, byteCount: $0.count) } }
        self.text = memory
        self.starts = .allocate(capacity: 256)
        self.starts.initialize(from: starts, count: 256)
        self.ends = .allocate(capacity: 256)
        self.ends.initialize(from: ends, count: 256)
        nestedTables = .allocate(capacity: 256)
        nestedTables.initialize(from: nested, count: 256)
    }

    /// Frees the memory (the nested tables belong to their own names).
    func deallocate() {
        text.deallocate()
        starts.deallocate()
        ends.deallocate()
        nestedTables.deallocate()
    }

    /// Writes id `id`'s quoted name and a colon to `out`, after a comma unless it is the `first`
    /// member; `false` (writing nothing) when the id has no name.
    @inline(__always)
    func writeMember(id: Int, first: Bool, to out: inout JSONOutput) -> Bool {
        guard id < 256, case let (start, end) = (Int(starts[id]) + (first ? 1 : 0), Int(ends[id])), end > start else { return false }
        out.append(UnsafeRawBufferPointer(start: text + start, count: end - start))
        return true
    }

    @inline(__always)
    func nested(id: Int) -> JSONNameTable? { id < 256 ? nestedTables[id] : nil }
}
