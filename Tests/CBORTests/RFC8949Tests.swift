import TestSupport
import TimelineCBOR
import Testing

/// The examples of RFC 8949 Appendix A.
@Suite("RFC 8949 Appendix A")
struct RFC8949Tests {
    struct Example: CustomStringConvertible, Sendable {
        let hex: String
        let value: CBORValue
        /// Whether the bytes are the preferred (deterministic) encoding, so re-encoding gives them back.
        let preferred: Bool
        var description: String { hex }
    }

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func t(_ s: String) -> CBORValue { .text(s) }
    static func u(_ n: UInt64) -> CBORValue { .unsigned(n) }
    static func i(_ n: Int64) -> CBORValue { CBORValue(n) }
    static func a(_ items: CBORValue...) -> CBORValue { .array(items) }
    static func m(_ pairs: (CBORValue, CBORValue)...) -> CBORValue { .map(pairs.map { CBORValue.MapEntry($0.0, $0.1) }) }

    static let examples: [Example] = [
        Example(hex: "00", value: u(0), preferred: true),
        Example(hex: "01", value: u(1), preferred: true),
        Example(hex: "0a", value: u(10), preferred: true),
        Example(hex: "17", value: u(23), preferred: true),
        Example(hex: "1818", value: u(24), preferred: true),
        Example(hex: "1819", value: u(25), preferred: true),
        Example(hex: "1864", value: u(100), preferred: true),
        Example(hex: "1903e8", value: u(1000), preferred: true),
        Example(hex: "1a000f4240", value: u(1_000_000), preferred: true),
        Example(hex: "1b000000e8d4a51000", value: u(1_000_000_000_000), preferred: true),
        Example(hex: "1bffffffffffffffff", value: u(.max), preferred: true),
        Example(hex: "c249010000000000000000", value: .tagged(2, .bytes([1, 0, 0, 0, 0, 0, 0, 0, 0])), preferred: true),
        Example(hex: "3bffffffffffffffff", value: .negative(.max), preferred: true),
        Example(hex: "c349010000000000000000", value: .tagged(3, .bytes([1, 0, 0, 0, 0, 0, 0, 0, 0])), preferred: true),
        Example(hex: "20", value: i(-1), preferred: true),
        Example(hex: "29", value: i(-10), preferred: true),
        Example(hex: "3863", value: i(-100), preferred: true),
        Example(hex: "3903e7", value: i(-1000), preferred: true),
        Example(hex: "f90000", value: .float(0.0), preferred: true),
        Example(hex: "f98000", value: .float(-0.0), preferred: true),
        Example(hex: "f93c00", value: .float(1.0), preferred: true),
        Example(hex: "fb3ff199999999999a", value: .float(1.1), preferred: true),
        Example(hex: "f93e00", value: .float(1.5), preferred: true),
        Example(hex: "f97bff", value: .float(65504.0), preferred: true),
        Example(hex: "fa47c35000", value: .float(100000.0), preferred: true),
        Example(hex: "fa7f7fffff", value: .float(3.4028234663852886e+38), preferred: true),
        Example(hex: "fb7e37e43c8800759c", value: .float(1.0e+300), preferred: true),
        Example(hex: "f90001", value: .float(5.960464477539063e-8), preferred: true),
        Example(hex: "f90400", value: .float(0.00006103515625), preferred: true),
        Example(hex: "f9c400", value: .float(-4.0), preferred: true),
        Example(hex: "fbc010666666666666", value: .float(-4.1), preferred: true),
        Example(hex: "f97c00", value: .float(.infinity), preferred: true),
        Example(hex: "f97e00", value: .float(.nan), preferred: true),
        Example(hex: "f9fc00", value: .float(-.infinity), preferred: true),
        Example(hex: "fa7f800000", value: .float(.infinity), preferred: false),
        Example(hex: "fa7fc00000", value: .float(.nan), preferred: false),
        Example(hex: "faff800000", value: .float(-.infinity), preferred: false),
        Example(hex: "fb7ff0000000000000", value: .float(.infinity), preferred: false),
        Example(hex: "fb7ff8000000000000", value: .float(.nan), preferred: false),
        Example(hex: "fbfff0000000000000", value: .float(-.infinity), preferred: false),
        Example(hex: "f4", value: .bool(false), preferred: true),
        Example(hex: "f5", value: .bool(true), preferred: true),
        Example(hex: "f6", value: .null, preferred: true),
        Example(hex: "f7", value: .undefined, preferred: true),
        Example(hex: "f0", value: .simple(16), preferred: true),
        Example(hex: "f8ff", value: .simple(255), preferred: true),
        Example(hex: "c074323031332d30332d32315432303a30343a30305a", value: .tagged(0, t("2013-03-21T20:04:00Z")), preferred: true),
        Example(hex: "c11a514b67b0", value: .tagged(1, u(1_363_896_240)), preferred: true),
        Example(hex: "c1fb41d452d9ec200000", value: .tagged(1, .float(1_363_896_240.5)), preferred: true),
        Example(hex: "d74401020304", value: .tagged(23, .bytes([1, 2, 3, 4])), preferred: true),
        Example(hex: "d818456449455446", value: .tagged(24, .bytes([0x64, 0x49, 0x45, 0x54, 0x46])), preferred: true),
        Example(hex: "d82076687474703a2f2f7777772e6578616d706c652e636f6d", value: .tagged(32, t("http://www.example.com")), preferred: true),
        Example(hex: "40", value: .bytes([]), preferred: true),
        Example(hex: "4401020304", value: .bytes([1, 2, 3, 4]), preferred: true),
        Example(hex: "60", value: t(""), preferred: true),
        Example(hex: "6161", value: t("a"), preferred: true),
        Example(hex: "6449455446", value: t("IETF"), preferred: true),
        Example(hex: "62225c", value: t("\"\\"), preferred: true),
        Example(hex: "62c3bc", value: t("\u{00fc}"), preferred: true),
        Example(hex: "63e6b0b4", value: t("\u{6c34}"), preferred: true),
        Example(hex: "64f0908591", value: t("\u{10151}"), preferred: true),
        Example(hex: "80", value: a(), preferred: true),
        Example(hex: "83010203", value: a(u(1), u(2), u(3)), preferred: true),
        Example(hex: "8301820203820405", value: a(u(1), a(u(2), u(3)), a(u(4), u(5))), preferred: true),
        Example(hex: "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
                value: .array((1...25).map { u($0) }), preferred: true),
        Example(hex: "a0", value: m(), preferred: true),
        Example(hex: "a201020304", value: m((u(1), u(2)), (u(3), u(4))), preferred: true),
        Example(hex: "a26161016162820203", value: m((t("a"), u(1)), (t("b"), a(u(2), u(3)))), preferred: true),
        Example(hex: "826161a161626163", value: a(t("a"), m((t("b"), t("c")))), preferred: true),
        Example(hex: "a56161614161626142616361436164614461656145",
                value: m((t("a"), t("A")), (t("b"), t("B")), (t("c"), t("C")), (t("d"), t("D")), (t("e"), t("E"))), preferred: true),
        Example(hex: "5f42010243030405ff", value: .bytes([1, 2, 3, 4, 5]), preferred: false),
        Example(hex: "7f657374726561646d696e67ff", value: t("streaming"), preferred: false),
        Example(hex: "9fff", value: a(), preferred: false),
        Example(hex: "9f018202039f0405ffff", value: a(u(1), a(u(2), u(3)), a(u(4), u(5))), preferred: false),
        Example(hex: "9f01820203820405ff", value: a(u(1), a(u(2), u(3)), a(u(4), u(5))), preferred: false),
        Example(hex: "83018202039f0405ff", value: a(u(1), a(u(2), u(3)), a(u(4), u(5))), preferred: false),
        Example(hex: "83019f0203ff820405", value: a(u(1), a(u(2), u(3)), a(u(4), u(5))), preferred: false),
        Example(hex: "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
                value: .array((1...25).map { u($0) }), preferred: false),
        Example(hex: "bf61610161629f0203ffff", value: m((t("a"), u(1)), (t("b"), a(u(2), u(3)))), preferred: false),
        Example(hex: "826161bf61626163ff", value: a(t("a"), m((t("b"), t("c")))), preferred: false),
        Example(hex: "bf6346756ef563416d7421ff", value: m((t("Fun"), .bool(true)), (t("Amt"), i(-2))), preferred: false),
    ]

    @Test("decodes to the stated value; preferred encodings re-encode to the same bytes", arguments: examples)
    func example(_ example: Example) throws {
        let bytes = Self.hex(example.hex)
        let value = try CBORValue(decoding: bytes)
        if case .float(let expected) = example.value, expected.isNaN {
            guard case .float(let got) = value else { Issue.record("not a float"); return }
            #expect(got.isNaN)
        } else {
            #expect(value == example.value)
        }
        if example.preferred {
            #expect(value.encoded() == bytes)
        }
        // Its JSON form reads back as the same value, byte for byte once encoded.
        #expect(try CBORValue(json: value.jsonText()).encoded() == value.encoded())
    }

    @Test("the JSON form shows UUIDs and dates readably and reads them back byte for byte")
    func readableUUIDsAndDates() throws {
        let uuid: [UInt8] = [0xE6, 0x21, 0xE1, 0xF8, 0xC3, 0x6C, 0x49, 0x5A, 0x93, 0xFC, 0x0C, 0x24, 0x7A, 0x3E, 0x6E, 0x5F]
        let id = CBORValue.tagged(37, .bytes(uuid))
        #expect(id.jsonText() == #"{"$uuid":"E621E1F8-C36C-495A-93FC-0C247A3E6E5F"}"#)
        #expect(try CBORValue(json: #"{"$uuid":"e621e1f8-c36c-495a-93fc-0c247a3e6e5f"}"#) == id)
        let date = CBORValue.tagged(1, .float(1_800_000_000.25))
        #expect(date.jsonText() == #"{"$date":"2027-01-15T08:00:00.250000Z","value":1800000000.25}"#)
        for value in [date, .tagged(1, .unsigned(0)), .tagged(1, .negative(9_000_000_000)), .tagged(1, .float(-1.5)),
                      .tagged(1, .float(.nan)), .tagged(1, .text("x")), .tagged(37, .bytes([1, 2])), id] {
            #expect(try CBORValue(json: value.jsonText()).encoded() == value.encoded(), "\(value.jsonText())")
        }
        #expect(CBORValue.tagged(1, .negative(0)).jsonText().hasPrefix(#"{"$date":"1969-12-31T23:59:59.000000Z""#))
        #expect(CBORValue.tagged(1, .float(.nan)).jsonText().hasPrefix(#"{"$tag":1"#))
        for bad in [#"{"$uuid":"nope"}"#, #"{"$uuid":"E621E1F8C36C495A93FC0C247A3E6E5F0000"}"#, #"{"$date":"x"}"#, #"{"$date":"x","value":"y"}"#] {
            #expect(throws: CBORJSONError.self, "\(bad)") { try CBORValue(json: bad) }
        }
        // A map whose first key is a marker name is written in the $map form, so it is never misread.
        let plain = CBORValue.map([.init(.text("$uuid"), .text("not a uuid"))])
        #expect(try CBORValue(json: plain.jsonText()) == plain)
    }
}
