// The JSON form of CBOR values, used by `kvtool dump` and `kvtool load`. It is lossless: every
// CBORValue written as JSON reads back as the same CBORValue. The mapping is documented in
// Docs/format.md:
//
//   unsigned / negative integer   JSON integer (no '.', no exponent), full 64-bit range
//   float                         JSON number with '.' or an exponent; NaN and ±Infinity as
//                                 {"$float":"NaN"} / {"$float":"Infinity"} / {"$float":"-Infinity"}
//   text string                   JSON string
//   byte string                   {"$bytes":"<base64, padded>"}
//   array                         JSON array
//   map with text keys            JSON object, entries in stored order
//   any other map                 {"$map":[[key, value], …]}
//   tag 37 with 16 bytes (a UUID)  {"$uuid":"E621E1F8-C36C-495A-93FC-0C247A3E6E5F"}
//   tag 1 with a number (a date)   {"$date":"2027-01-15T08:00:00.250000Z","value":1800000000.25}
//                                 (the text is for people; `value` is what is stored, exactly)
//   tag N                         {"$tag":N,"value":<item>}
//   true / false / null           true / false / null
//   undefined                     {"$undefined":true}
//   other simple value N          {"$simple":N}
//
// An object whose first key is one of the markers above is read as that marker; a map whose
// first text key happens to be a marker name is written in the "$map" form, so nothing is ambiguous.

/// Why a JSON text cannot be read as a ``CBORValue``.
public struct CBORJSONError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let reason: String
    /// The byte offset in the JSON text.
    public let offset: Int

    /// A readable sentence with the offset.
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension CBORValue {
    static let markers: Set<String> = ["$bytes", "$tag", "$simple", "$undefined", "$float", "$map", "$uuid", "$date"]

    /// The value as compact JSON text (one line), in the lossless mapping above.
    public func jsonText() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        writeJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func writeJSON(to out: inout [UInt8]) {
        switch self {
        case .unsigned(let n):
            out.append(contentsOf: String(n).utf8)
        case .negative(let n):
            out.append(UInt8(ascii: "-"))
            if n == .max { out.append(contentsOf: "18446744073709551616".utf8) } else { out.append(contentsOf: String(n + 1).utf8) }
        case .float(let value):
            if value.isNaN {
                out.append(contentsOf: #"{"$float":"NaN"}"#.utf8)
            } else if value.isInfinite {
                out.append(contentsOf: (value < 0 ? #"{"$float":"-Infinity"}"# : #"{"$float":"Infinity"}"#).utf8)
            } else {
                let text = "\(value)"
                out.append(contentsOf: text.utf8)
                if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { out.append(contentsOf: ".0".utf8) }
            }
        case .text(let text):
            CBORValue.writeJSONString(text, to: &out)
        case .bytes(let bytes):
            out.append(contentsOf: #"{"$bytes":""#.utf8)
            out.append(contentsOf: Base64.encode(bytes).utf8)
            out.append(contentsOf: #""}"#.utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.writeJSON(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .map(let entries):
            let textKeys = entries.allSatisfy { $0.key.textValue != nil }
            if textKeys && !(entries.first.map { CBORValue.markers.contains($0.key.textValue ?? "") } ?? false) {
                out.append(UInt8(ascii: "{"))
                for (index, entry) in entries.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    entry.key.writeJSON(to: &out)
                    out.append(UInt8(ascii: ":"))
                    entry.value.writeJSON(to: &out)
                }
                out.append(UInt8(ascii: "}"))
            } else {
                out.append(contentsOf: #"{"$map":["#.utf8)
                for (index, entry) in entries.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(UInt8(ascii: "["))
                    entry.key.writeJSON(to: &out)
                    out.append(UInt8(ascii: ","))
                    entry.value.writeJSON(to: &out)
                    out.append(UInt8(ascii: "]"))
                }
                out.append(contentsOf: "]}".utf8)
            }
        case .tagged(37, .bytes(let uuid)) where uuid.count == 16:
            out.append(contentsOf: #"{"$uuid":""#.utf8)
            out.append(contentsOf: CBORValue.uuidText(uuid).utf8)
            out.append(contentsOf: #""}"#.utf8)
        case .tagged(1, let item) where CBORValue.dateText(item) != nil:
            out.append(contentsOf: #"{"$date":""#.utf8)
            out.append(contentsOf: CBORValue.dateText(item)!.utf8)
            out.append(contentsOf: #"","value":"#.utf8)
            item.writeJSON(to: &out)
            out.append(UInt8(ascii: "}"))
        case .tagged(let tag, let item):
            out.append(contentsOf: #"{"$tag":"#.utf8)
            out.append(contentsOf: String(tag).utf8)
            out.append(contentsOf: #","value":"#.utf8)
            item.writeJSON(to: &out)
            out.append(UInt8(ascii: "}"))
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .null:
            out.append(contentsOf: "null".utf8)
        case .undefined:
            out.append(contentsOf: #"{"$undefined":true}"#.utf8)
        case .simple(let value):
            out.append(contentsOf: #"{"$simple":"#.utf8)
            out.append(contentsOf: String(value).utf8)
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeJSONString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Reads a value from its JSON form (see the mapping above). Plain JSON reads as well:
    /// numbers without '.' or an exponent become integers, the rest floats. Nesting deeper than
    /// `maxDepth` is refused (a `maxDepth` past ``CBORDecoder/maxDepthLimit`` is taken as that).
    /// - Throws: ``CBORJSONError`` naming the offset of the problem.
    public init(json: String, maxDepth: Int = 256) throws(CBORJSONError) {
        var text = json
        let result: Result<CBORValue, CBORJSONError> = text.withUTF8 { utf8 in
            var parser = JSONParser(bytes: utf8, maxDepth: maxDepth)
            do throws(CBORJSONError) {
                parser.skipWhitespace()
                let value = try parser.parseValue(depth: 0)
                parser.skipWhitespace()
                guard parser.offset == utf8.count else { throw parser.error("unexpected text after the value") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }
}

/// A strict JSON reader that produces ``CBORValue``s and keeps integers exact.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0
    let maxDepth: Int

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = min(maxDepth, CBORDecoder.maxDepthLimit)
    }

    func error(_ reason: String) -> CBORJSONError { CBORJSONError(reason: reason, offset: offset) }

    mutating func skipWhitespace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }

    mutating func expect(_ literal: String) throws(CBORJSONError) {
        for byte in literal.utf8 {
            guard offset < bytes.count, bytes[offset] == byte else { throw error("expected \(literal)") }
            offset += 1
        }
    }

    mutating func parseValue(depth: Int) throws(CBORJSONError) -> CBORValue {
        guard depth < maxDepth else { throw error("nested too deeply") }
        guard offset < bytes.count else { throw error("unexpected end of text") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["):
            offset += 1
            var items: [CBORValue] = []
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard offset < bytes.count else { throw error("unterminated array") }
                if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                if bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(items) }
                throw error("expected , or ] in an array")
            }
        case UInt8(ascii: "\""): return .text(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        default: return try parseNumber()
        }
    }

    mutating func parseObject(depth: Int) throws(CBORJSONError) -> CBORValue {
        let start = offset
        offset += 1
        var entries: [CBORValue.MapEntry] = []
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") { offset += 1; return .map(entries) }
        while true {
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            try expect(":")
            skipWhitespace()
            let value = entries.isEmpty && CBORValue.markers.contains(key) ? try parseMarkerPayload(key, depth: depth) : try parseValue(depth: depth + 1)
            entries.append(CBORValue.MapEntry(.text(key), value))
            skipWhitespace()
            guard offset < bytes.count else { throw error("unterminated object") }
            if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
            if bytes[offset] == UInt8(ascii: "}") { offset += 1; break }
            throw error("expected , or } in an object")
        }
        guard let first = entries.first?.key.textValue, CBORValue.markers.contains(first) else { return .map(entries) }
        return try marker(first, entries, start: start)
    }

    /// The first entry's value of a marker object at `depth`, read at the depth the item it stands
    /// for has in CBOR, so that every value within the decoder's depth limit reads back and one
    /// level more is refused, as the decoder refuses it:
    /// - a `$map`'s pairs are structure: their keys and values sit one level below the map;
    /// - a leaf's payload (a simple value's number, a byte string's base64, a float's name, a
    ///   tag's number, a date's text) is the item itself, read at `depth`;
    /// - a `$uuid`'s text stands for the byte string inside tag 37, one level down.
    /// A payload that is an object or an array (malformed but for `$map`) is read one level down,
    /// so that nested markers cannot recurse without the depth growing.
    mutating func parseMarkerPayload(_ marker: String, depth: Int) throws(CBORJSONError) -> CBORValue {
        if marker == "$map" { return try parsePairs(depth: depth) }
        let container = offset < bytes.count && (bytes[offset] == UInt8(ascii: "{") || bytes[offset] == UInt8(ascii: "["))
        return try parseValue(depth: container || marker == "$uuid" ? depth + 1 : depth)
    }

    /// The value of a `$map` entry, `[[key, value], …]`, with keys and values read at `depth + 1`;
    /// anything else is read as a plain value (and refused by ``marker(_:_:start:)``).
    mutating func parsePairs(depth: Int) throws(CBORJSONError) -> CBORValue {
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "[") else { return try parseValue(depth: depth + 1) }
        offset += 1
        var pairs: [CBORValue] = []
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(pairs) }
        while true {
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "[") else { throw error("a $map pair is [key, value]") }
            offset += 1
            skipWhitespace()
            let key = try parseValue(depth: depth + 1)
            skipWhitespace()
            try expect(",")
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            skipWhitespace()
            try expect("]")
            pairs.append(.array([key, value]))
            skipWhitespace()
            guard offset < bytes.count else { throw error("unterminated array") }
            if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
            if bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(pairs) }
            throw error("expected , or ] in an array")
        }
    }

    /// Reads one of the special objects of the mapping.
    func marker(_ name: String, _ entries: [CBORValue.MapEntry], start: Int) throws(CBORJSONError) -> CBORValue {
        let fail = CBORJSONError(reason: "malformed \(name) object", offset: start)
        let value = entries[0].value
        switch name {
        case "$bytes":
            guard entries.count == 1, let text = value.textValue, let bytes = Base64.decode(text) else { throw fail }
            return .bytes(bytes)
        case "$tag":
            guard entries.count == 2, case .unsigned(let tag) = value, entries[1].key == .text("value") else { throw fail }
            return .tagged(tag, entries[1].value)
        case "$uuid":
            guard entries.count == 1, let text = value.textValue, let bytes = CBORValue.uuidBytes(text) else { throw fail }
            return .tagged(37, .bytes(bytes))
        case "$date":
            // The text is for people; the stored number is `value`.
            guard entries.count == 2, value.textValue != nil, entries[1].key == .text("value") else { throw fail }
            switch entries[1].value {
            case .unsigned, .negative, .float: return .tagged(1, entries[1].value)
            default: throw fail
            }
        case "$simple":
            guard entries.count == 1, case .unsigned(let n) = value, n < 256, !(20...31).contains(n) else { throw fail }
            return .simple(UInt8(n))
        case "$undefined":
            guard entries.count == 1, value == .bool(true) else { throw fail }
            return .undefined
        case "$float":
            guard entries.count == 1 else { throw fail }
            switch value.textValue {
            case "NaN": return .float(.nan)
            case "Infinity": return .float(.infinity)
            case "-Infinity": return .float(-.infinity)
            default: throw fail
            }
        default:  // "$map"
            guard entries.count == 1, case .array(let pairs) = value else { throw fail }
            var result: [CBORValue.MapEntry] = []
            for pair in pairs {
                guard case .array(let kv) = pair, kv.count == 2 else { throw fail }
                result.append(CBORValue.MapEntry(kv[0], kv[1]))
            }
            return .map(result)
        }
    }

    mutating func parseNumber() throws(CBORJSONError) -> CBORValue {
        let start = offset
        var isFloat = false
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        let digitsStart = offset
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                offset += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                        || ((byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")) && isFloat) {
                isFloat = true
                offset += 1
            } else {
                break
            }
        }
        guard offset > digitsStart else { throw CBORJSONError(reason: "expected a value", offset: start) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        if isFloat {
            guard let value = Double(text) else { throw CBORJSONError(reason: "malformed number \(text)", offset: start) }
            // Out of a 64-bit float's range the text would silently become infinity or zero.
            guard value.isFinite else {
                throw CBORJSONError(reason: "number \(text) is too large for a 64-bit float (write {\"$float\":\"Infinity\"} for infinity)", offset: start)
            }
            if value == 0, text.prefix(while: { $0 != "e" && $0 != "E" }).contains(where: { ("1"..."9").contains($0) }) {
                throw CBORJSONError(reason: "number \(text) is too small for a 64-bit float: it would read as 0", offset: start)
            }
            return .float(value)
        }
        let negative = text.hasPrefix("-")
        let magnitudeText = negative ? String(text.dropFirst()) : text
        if negative && magnitudeText == "18446744073709551616" { return .negative(.max) }
        guard let magnitude = UInt64(magnitudeText) else {
            throw CBORJSONError(reason: "integer \(text) is outside the 64-bit CBOR range", offset: start)
        }
        if negative && magnitude > 0 { return .negative(magnitude - 1) }
        return .unsigned(magnitude)
    }

    mutating func parseString() throws(CBORJSONError) -> String {
        offset += 1
        var out: [UInt8] = []
        while true {
            guard offset < bytes.count else { throw error("unterminated string") }
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else { throw error("string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { throw error("unterminated escape") }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        try expect("\\u")
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default: throw error("unknown escape")
                }
            case 0..<0x20:
                throw error("control character in a string")
            default:
                out.append(byte)
            }
        }
    }

    mutating func parseHex4() throws(CBORJSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard offset < bytes.count, let digit = hexValue(bytes[offset]) else { throw error("expected 4 hex digits") }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Standard base64 (RFC 4648 §4) with padding.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "" }
        return String(unsafeUninitializedCapacity: encodedCount(bytes.count)) { text in
            bytes.withUnsafeBytes { write($0, to: text.baseAddress!) }
        }
    }

    /// How many bytes the base64 text of `count` bytes takes.
    static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes the base64 text of `bytes` at `out`, which has room for ``encodedCount(_:)`` bytes,
    /// and returns how many it wrote.
    static func write(_ bytes: UnsafeRawBufferPointer, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var index = 0, at = 0
        alphabet.withUnsafeBufferPointer { alphabet in
            while index < bytes.count {
                let b0 = bytes[index], b1 = index + 1 < bytes.count ? bytes[index + 1] : 0, b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
                out[at] = alphabet[Int(b0 >> 2)]
                out[at + 1] = alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)]
                out[at + 2] = index + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "=")
                out[at + 3] = index + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "=")
                index += 3
                at += 4
            }
        }
        return at
    }

    /// The bytes of padded base64 `text`, or `nil` if it is not canonical base64.
    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): 62
            case UInt8(ascii: "/"): 63
            default: nil
            }
        }
        var index = 0
        while index < chars.count {
            let last = index + 4 == chars.count
            let pad = last ? (chars[index + 3] == UInt8(ascii: "=") ? (chars[index + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            guard let v0 = value(chars[index]), let v1 = value(chars[index + 1]) else { return nil }
            let v2 = pad >= 2 ? 0 : value(chars[index + 2])
            let v3 = pad >= 1 ? 0 : value(chars[index + 3])
            guard let v2, let v3 else { return nil }
            out.append(v0 << 2 | v1 >> 4)
            if pad < 2 { out.append((v1 & 0x0F) << 4 | v2 >> 2) } else if v1 & 0x0F != 0 { return nil }
            if pad < 1 { out.append((v2 & 0x03) << 6 | v3) } else if pad == 1 && v2 & 0x03 != 0 { return nil }
            index += 4
        }
        return out
    }
}

extension CBORValue {
    /// A UUID's 16 bytes as its usual upper-case text.
    static func uuidText(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var text: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(index) { text.append(UInt8(ascii: "-")) }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The 16 bytes of a UUID written as 8-4-4-4-12 hex digits (either case), or `nil`.
    static func uuidBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count == 36, [8, 13, 18, 23].allSatisfy({ digits[$0] == UInt8(ascii: "-") }) else { return nil }
        var bytes: [UInt8] = []
        var high: UInt8?
        for (index, digit) in digits.enumerated() where ![8, 13, 18, 23].contains(index) {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let first = high { bytes.append(first << 4 | value); high = nil } else { high = value }
        }
        return bytes
    }

    /// A date's seconds since 1970 as UTC text with microseconds, for a tag-1 item that is a
    /// number within the years 1678–2261; `nil` otherwise (that tag is then written as `$tag`).
    static func dateText(_ item: CBORValue) -> String? {
        let seconds: Double
        switch item {
        case .float(let value): seconds = value
        case .unsigned(let value) where value <= 9_200_000_000: seconds = Double(value)
        case .negative(let value) where value < 9_200_000_000: seconds = -1 - Double(value)
        default: return nil
        }
        guard seconds.isFinite, seconds >= -9.2e9, seconds <= 9.2e9 else { return nil }
        return UTCText.format(microsSince1970: Int64((seconds * 1_000_000).rounded()))
    }
}
