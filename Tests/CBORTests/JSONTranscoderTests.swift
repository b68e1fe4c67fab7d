import Foundation
import TestSupport
import Testing
import TimelineCBOR

/// What `CBORJSONTranscoder` should write for `value`, built the slow way from a `CBORValue`:
/// the reference the transcoder is checked against. `nil` where it must refuse (a map key JSON
/// cannot hold). Dates under tag 1 are left out of the random comparison (checked by hand below).
func plainJSONModel(_ value: CBORValue) -> String? {
    func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
    func negative(_ n: UInt64) -> String { n == .max ? "-18446744073709551616" : "-\(n + 1)" }
    switch value {
    case .unsigned(let n): return String(n)
    case .negative(let n): return negative(n)
    case .float(let x): return x.isFinite ? "\(x)" : "null"
    case .text(let text): return string(text)
    case .bytes(let bytes): return "\"" + Data(bytes).base64EncodedString() + "\""
    case .array(let items):
        var parts: [String] = []
        for item in items { guard let part = plainJSONModel(item) else { return nil }; parts.append(part) }
        return "[" + parts.joined(separator: ",") + "]"
    case .map(let entries):
        var parts: [String] = []
        for entry in entries {
            let key: String
            switch entry.key {
            case .text(let text): key = string(text)
            case .unsigned(let n): key = "\"\(n)\""
            case .negative(let n): key = "\"" + negative(n) + "\""
            default: return nil
            }
            guard let part = plainJSONModel(entry.value) else { return nil }
            parts.append(key + ":" + part)
        }
        return "{" + parts.joined(separator: ",") + "}"
    case .tagged(37, .bytes(let b)) where b.count == 16:
        return "\"" + UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])).uuidString + "\""
    case .tagged(_, let item): return plainJSONModel(item)
    case .bool(let flag): return flag ? "true" : "false"
    case .null, .undefined, .simple: return "null"
    }
}

/// Whether `value` holds a tag 1 anywhere (a date, written as text by the transcoder).
func holdsDateTag(_ value: CBORValue) -> Bool {
    switch value {
    case .tagged(1, _): true
    case .tagged(_, let item): holdsDateTag(item)
    case .array(let items): items.contains(where: holdsDateTag)
    case .map(let entries): entries.contains { holdsDateTag($0.key) || holdsDateTag($0.value) }
    default: false
    }
}

@Suite("CBOR → plain JSON, straight from the bytes")
struct JSONTranscoderTests {
    static func transcode(_ bytes: [UInt8]) throws -> String {
        var out: [UInt8] = []
        let used = try bytes.withUnsafeBytes { try CBORJSONTranscoder.append($0, to: &out) }
        #expect(used == bytes.count)
        return String(decoding: out, as: UTF8.self)
    }

    @Test("5,000 random values: the JSON parses and equals the mapping built from CBORValue, or both refuse")
    func randomValues() throws {
        var random = SeededGenerator(seed: 2611)
        var transcoded = 0
        for _ in 0..<5_000 {
            let value = randomValue(&random)
            let bytes = value.encoded()
            let model = plainJSONModel(value)
            var out: [UInt8] = []
            do {
                try bytes.withUnsafeBytes { _ = try CBORJSONTranscoder.append($0, to: &out) }
            } catch let error as CBORError {
                #expect(model == nil && error.kind == .unsupportedMapKey, "\(value): \(error)")
                continue
            }
            let text = String(decoding: out, as: UTF8.self)
            #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(out), options: [.fragmentsAllowed]) }
            if holdsDateTag(value) { continue }
            #expect(text == model, "\(value)")
            transcoded += 1
        }
        #expect(transcoded > 3_000)
    }

    @Test("dates, UUIDs, floats, escapes and integer keys")
    func specificForms() throws {
        let date = CBORValue.tagged(1, .float(1_795_655_105.123456))
        #expect(try Self.transcode(date.encoded()) == #""2026-11-26T01:05:05.123456Z""#)
        #expect(try Self.transcode(CBORValue.tagged(1, .unsigned(0)).encoded()) == #""1970-01-01T00:00:00.000000Z""#)
        #expect(try Self.transcode(CBORValue.tagged(1, .text("not a time")).encoded()) == #""not a time""#)
        #expect(try Self.transcode(CBORValue.tagged(1, .float(1e300)).encoded()) == "1e+300")     // no such year: the number
        let id = UUID()
        let encodedID = try CBOREncoder().encode(id)
        #expect(try Self.transcode(encodedID) == "\"\(id.uuidString)\"")
        #expect(try Self.transcode(CBORValue.float(.nan).encoded()) == "null")
        #expect(try Self.transcode(CBORValue.text("a\"b\\c\n\u{1}é").encoded()) == #""a\"b\\c\n\u0001é""#)
        #expect(try Self.transcode(CBORValue.map([.init(.unsigned(7), .bool(true)), .init(.negative(0), .null)]).encoded()) == #"{"7":true,"-1":null}"#)
        #expect(try Self.transcode(CBORValue.bytes([0xFF, 0x00, 0x10]).encoded()) == #""/wAQ""#)
        #expect(try Self.transcode(CBORValue.negative(.max).encoded()) == "-18446744073709551616")
    }

    @Test("integers on each side of every power of ten, and the largest: their decimal text (the digits' count is estimated from the highest bit)")
    func integersAtDigitBoundaries() throws {
        var values: [UInt64] = [0, 1, 9, .max, .max - 1]
        var power: UInt64 = 1
        for _ in 0...19 {
            values += [power - 1, power, power + 1, power / 2 * 3]
            if power > UInt64.max / 10 { break }
            power *= 10
        }
        for exponent in 0..<64 { values += [1 << exponent, (1 << exponent) - 1] }
        for value in values {
            #expect(try Self.transcode(CBORValue.unsigned(value).encoded()) == String(value))
            if value < .max { #expect(try Self.transcode(CBORValue.negative(value).encoded()) == "-\(value + 1)") }
        }
    }

    @Test("every byte at every position of texts of 1–65 bytes: escaped, copied or refused exactly as the model says (the scan sixteen bytes a step)")
    func everyByteEverywhere() throws {
        func check(_ sequence: [UInt8], length: Int) throws {
            for position in 0...(length - sequence.count) {
                let text = [UInt8](repeating: UInt8(ascii: "a"), count: position) + sequence
                    + [UInt8](repeating: UInt8(ascii: "z"), count: length - sequence.count - position)
                let value = CBORValue.text(String(decoding: text, as: UTF8.self))
                #expect(try Self.transcode(value.encoded()) == plainJSONModel(value), "\(sequence) at \(position) of \(length)")
            }
        }
        let multibyte: [[UInt8]] = [[0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x99, 0x82]]
        for sequence in (0...0x7F).map({ [UInt8($0)] }) + multibyte { try check(sequence, length: 40) }
        let edges: [[UInt8]] = [[0x00], [0x1F], [0x20], [0x22], [0x5C], [0x7E], [0x7F]] + multibyte
        for length in [4, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65] {
            for sequence in edges { try check(sequence, length: length) }
        }
        // A lone byte of 0x80 or more is not UTF-8, wherever the scan meets it.
        for byte in UInt8(0x80)...0xFF {
            for (length, position) in [(40, 0), (40, 7), (40, 15), (40, 16), (40, 31), (40, 32), (40, 39), (17, 16), (5, 2)] {
                var text = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                text[position] = byte
                let encoded = [0x78, UInt8(text.count)] + text
                #expect(throws: CBORError.self, "\(byte) at \(position) of \(length)") { try Self.transcode(encoded) }
            }
        }
    }

    @Test("malformed input is an error, never a trap: 5,000 truncated and mutated encodings, deep nesting, bad UTF-8")
    func hostileInput() throws {
        var random = SeededGenerator(seed: 77)
        for _ in 0..<5_000 {
            var bytes = randomValue(&random).encoded()
            if Bool.random(using: &random), !bytes.isEmpty { bytes.removeLast(Int.random(in: 1...bytes.count, using: &random)) }
            for _ in 0..<Int.random(in: 0...3, using: &random) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            var out: [UInt8] = []
            if (try? bytes.withUnsafeBytes({ try CBORJSONTranscoder.append($0, to: &out) })) != nil {
                // Whatever it accepts, it writes as valid JSON.
                #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(out), options: [.fragmentsAllowed]) }
            }
        }
        let deep = [UInt8](repeating: 0x81, count: 100_000) + [0x00]
        #expect { try Self.transcode(deep) } throws: { ($0 as? CBORError)?.kind == .tooDeep }
        #expect { try Self.transcode([0x62, 0xC3, 0x28]) } throws: { ($0 as? CBORError)?.kind == .invalidUTF8 }
        #expect { try Self.transcode([0x9F, 0x01, 0xFF]) } throws: { ($0 as? CBORError)?.kind == .indefiniteLength }
        #expect { try Self.transcode([0xA1, 0x41, 0x00, 0x01]) } throws: { ($0 as? CBORError)?.kind == .unsupportedMapKey }
        #expect { try Self.transcode([0x5B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) } throws: { ($0 as? CBORError)?.kind == .lengthExceedsInput }
    }
}
