import TestSupport
import TimelineCBOR
import Foundation
import Testing

func randomValue(_ random: inout SeededGenerator, depth: Int = 0) -> CBORValue {
    let pick = Int.random(in: 0..<(depth > 3 ? 9 : 12), using: &random)
    switch pick {
    case 0: return .unsigned([0, 23, 24, 255, 256, 65535, 65536, UInt64.max, UInt64.random(in: 0...UInt64.max, using: &random)].randomElement(using: &random)!)
    case 1: return .negative([0, 23, 24, 255, UInt64.max, UInt64.random(in: 0...UInt64.max, using: &random)].randomElement(using: &random)!)
    case 2: return .bytes((0..<Int.random(in: 0...30, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
    case 3: return .text(randomString(&random))
    case 4: return .float([0.0, -0.0, 1.5, 65504, 1e300, 5.960464477539063e-8, .infinity, -.infinity, .nan, Double.random(in: -1e10...1e10, using: &random)].randomElement(using: &random)!)
    case 5: return [.bool(true), .bool(false), .null, .undefined, .simple(16), .simple(255)].randomElement(using: &random)!
    case 6: return .tagged([0, 1, 2, 24, 37, 1000, UInt64.max].randomElement(using: &random)!, .text("x"))
    case 7, 8: return .text("leaf")
    case 9: return .array((0..<Int.random(in: 0...5, using: &random)).map { _ in randomValue(&random, depth: depth + 1) })
    case 10:
        // Text keys, sometimes one named like a JSON-form marker.
        return .map((0..<Int.random(in: 0...5, using: &random)).map { index in
            .init(.text(index == 0 && Bool.random(using: &random) ? "$bytes" : "k\(index)"), randomValue(&random, depth: depth + 1))
        })
    default:
        return .map((0..<Int.random(in: 0...4, using: &random)).map { _ in .init(randomValue(&random, depth: depth + 1), randomValue(&random, depth: depth + 1)) })
    }
}

/// Equality that treats NaN as equal to NaN.
func same(_ a: CBORValue, _ b: CBORValue) -> Bool { a.encoded() == b.encoded() }

@Suite("Hostile input and the JSON form")
struct HostileInputTests {
    @Test("random CBORValues round-trip through bytes and through JSON")
    func valueRoundTrips() throws {
        var random = SeededGenerator(seed: 99)
        for _ in 0..<5_000 {
            let value = randomValue(&random)
            let bytes = value.encoded()
            #expect(same(try CBORValue(decoding: bytes), value))
            let json = value.jsonText()
            let back = try CBORValue(json: json)
            #expect(same(back, value), "\(json)")
            #expect(back.jsonText() == json)
        }
    }

    @Test("100,000 random and mutated inputs: errors only, never a crash")
    func fuzz() throws {
        var random = SeededGenerator(seed: 7)
        var seeds: [[UInt8]] = (0..<200).map { _ in randomValue(&random).encoded() }
        seeds.append(try CBOREncoder().encode(randomTurn(&random)))
        var decoded = 0, refused = 0
        for round in 0..<100_000 {
            var bytes: [UInt8]
            if round % 4 == 0 {
                bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                bytes = seeds.randomElement(using: &random)!
                for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0: bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                    case 1: bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
                    case 2: bytes.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
                    default: bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 0x1B  // big lengths
                    }
                }
            }
            do {
                _ = try CBORValue(decoding: bytes)
                decoded += 1
            } catch {
                refused += 1
            }
            _ = try? CBORDecoder().decode(Turn.self, from: bytes)
            _ = try? CBORDecoder().decode([String: CBORValue].self, from: bytes)
        }
        #expect(decoded + refused == 100_000)
        #expect(decoded > 1_000 && refused > 1_000)
    }

    @Test("specific hostile inputs are refused with the right error")
    func specificCases() {
        let cases: [([UInt8], CBORError.Kind)] = [
            ([0x1B, 0x00], .truncated),
            ([0x5B, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00], .lengthExceedsInput),  // a 2^63-byte string
            ([0x9B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], .lengthExceedsInput),        // 2^64-1 items
            ([0xBB, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], .lengthExceedsInput),
            ([0x1C], .reservedAdditionalInformation),
            ([0x3D], .reservedAdditionalInformation),
            ([0x62, 0xC3, 0x28], .invalidUTF8),
            ([0xFF], .unexpectedBreak),
            ([0x1F], .indefiniteLength),
            ([0xF8, 0x10], .invalidSimpleValue),
            ([0x01, 0x02], .trailingBytes),
            ([0x5F, 0x61, 0x61, 0xFF], .indefiniteLength),  // a text chunk inside a byte string
            (Array(repeating: 0x81, count: 10_000) + [0x00], .tooDeep),
        ]
        for (bytes, kind) in cases {
            do {
                _ = try CBORValue(decoding: bytes)
                Issue.record("\(bytes.prefix(10)) was accepted")
            } catch {
                #expect(error.kind == kind, "\(bytes.prefix(10)) gave \(error)")
            }
        }
        // The Codable decoder refuses indefinite lengths and wraps the CBORError.
        #expect {
            try CBORDecoder().decode([Int].self, from: [0x9F, 0x01, 0xFF])
        } throws: { error in
            guard case DecodingError.dataCorrupted(let context) = error else { return false }
            return (context.underlyingError as? CBORError)?.kind == .indefiniteLength
        }
    }

    @Test("a date of NaN seconds is refused both ways, with errors that are safe to describe (a NaN Date traps when described)")
    func nanDates() throws {
        struct Stamped: Codable { var at: Date }
        // Tag 1 over a half, single or double NaN, and a NaN without the tag.
        let encodings: [[UInt8]] = [[0xC1, 0xF9, 0x7E, 0x00], [0xC1, 0xFA, 0x7F, 0xC0, 0x00, 0x00],
                                    [0xC1, 0xFB, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0], [0xF9, 0x7E, 0x00]]
        for date in encodings {
            let record = [0xA1, 0x62, 0x61, 0x74] + date   // {"at": date}
            #expect { try CBORDecoder().decode(Stamped.self, from: record) } throws: { error in
                guard case DecodingError.dataCorrupted(let context) = error else { return false }
                return "\(error)".contains("NaN") && context.codingPath.map(\.stringValue) == ["at"]
            }
            #expect { try CBORDecoder().decode(Date.self, from: date) } throws: { "\($0)".contains("NaN") }
        }
        // The same bytes read as a CBORValue: no Date is made, so nothing to refuse.
        guard case .tagged(1, .float(let seconds)) = try CBORValue(decoding: encodings[0]) else { Issue.record("not a tagged float"); return }
        #expect(seconds.isNaN)
        #expect { try CBOREncoder().encode(Stamped(at: Date(timeIntervalSince1970: .nan))) } throws: { "\($0)".contains("NaN") }
        // Infinite and far-out dates still round-trip: Foundation describes them.
        for seconds in [Double.infinity, -1e300] {
            let back = try CBORDecoder().decode(Stamped.self, from: CBOREncoder().encode(Stamped(at: Date(timeIntervalSince1970: seconds))))
            #expect(back.at.timeIntervalSince1970 == seconds)
        }
    }

    @Test("a maxDepth past 1,024 is taken as 1,024 by every reader: input 100,000 levels deep is refused, where maxDepth: .max overflowed the stack")
    func depthLimit() throws {
        let deep = Array(repeating: UInt8(0x81), count: 100_000) + [0x00]
        #expect { try CBORValue(decoding: deep, maxDepth: .max) } throws: { ($0 as? CBORError)?.kind == .tooDeep }
        #expect(throws: DecodingError.self) { try CBORDecoder(maxDepth: .max).decode(CBORValue.self, from: deep) }
        #expect(throws: CBORJSONError.self) {
            try CBORValue(json: String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), maxDepth: .max)
        }
        var out: [UInt8] = []
        #expect { try deep.withUnsafeBytes { try CBORJSONTranscoder.append($0, to: &out, maxDepth: .max) } }
            throws: { ($0 as? CBORError)?.kind == .tooDeep }
        // Up to the limit, a deeper maxDepth than the default is honoured.
        let atLimit = Array(repeating: UInt8(0x81), count: CBORDecoder.maxDepthLimit - 1) + [0x00]
        _ = try CBORValue(decoding: atLimit, maxDepth: .max)
        #expect { try CBORValue(decoding: [0x81] + atLimit, maxDepth: .max) } throws: { ($0 as? CBORError)?.kind == .tooDeep }
    }

    @Test("a value as deep as the decoder allows round-trips through its JSON form, maps with non-text keys and leaves written as markers included (two fuzz findings)")
    func deepJSONRoundTrip() throws {
        // Each leaf with the levels it takes in CBOR: a UUID and a date are a tag and an item.
        let leaves: [(CBORValue, levels: Int)] = [
            (.unsigned(0), 1), (.negative(5), 1), (.text("x"), 1), (.null, 1), (.bool(true), 1),
            (.simple(1), 1), (.undefined, 1), (.bytes([1, 2, 3]), 1), (.float(1.5), 1), (.float(.nan), 1), (.float(-.infinity), 1),
            (.tagged(37, .bytes(Array(repeating: 7, count: 16))), 2), (.tagged(1, .unsigned(1_800_000_000)), 2),
        ]
        for wrap in [{ CBORValue.map([.init(.unsigned(1), $0)]) }, { CBORValue.tagged(7, $0) }, { CBORValue.array([$0]) }] {
            for (leaf, levels) in leaves {
                var value = leaf
                for _ in 0..<(256 - levels) { value = wrap(value) }
                let decoded = try CBORValue(decoding: value.encoded())
                #expect(try CBORValue(json: decoded.jsonText()).encoded() == decoded.encoded(), "\(leaf)")
                // One level more is refused by both, alike.
                let deeper = wrap(value)
                #expect(throws: CBORError.self, "\(leaf)") { try CBORValue(decoding: deeper.encoded()) }
                #expect(throws: CBORJSONError.self, "\(leaf)") { try CBORValue(json: deeper.jsonText()) }
            }
        }
        // A leaf's marker is read at the leaf's own depth, but markers nested in markers (which
        // no value writes) still count a level each: refused, not a stack overflow.
        for marker in ["$simple", "$bytes", "$float", "$undefined", "$tag", "$date", "$uuid", "$map"] {
            let nested = String(repeating: "{\"\(marker)\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000)
            #expect(throws: CBORJSONError.self, "\(marker)") { try CBORValue(json: nested) }
        }
    }

    @Test("malformed JSON forms are refused with an offset")
    func badJSON() throws {
        for text in ["", "{", "[1,]", #"{"$bytes":"***"}"#, #"{"$tag":"x","value":1}"#, "18446744073709551616",
                     #""\u12""#, "nul", "1 2", #"{"$simple":21}"#, #"{"a" 1}"#,
                     "1e400", "-1e400", "[1.5e309]", "1e-400", "2.5E-999"] {
            #expect(throws: CBORJSONError.self, "\(text)") { try CBORValue(json: text) }
        }
        #expect(try CBORValue(json: "-18446744073709551616") == .negative(.max))
        #expect(try CBORValue(json: #"{"$map":[[1,2]]}"#) == .map([.init(.unsigned(1), .unsigned(2))]))
        #expect(try CBORValue(json: #""\ud83d\ude00""#) == .text("😀"))
        // Numbers at the edges of a 64-bit float still read exactly; zero stays zero.
        #expect(try CBORValue(json: "1.7976931348623157e308") == .float(.greatestFiniteMagnitude))
        #expect(try CBORValue(json: "5e-324") == .float(.leastNonzeroMagnitude))
        #expect(try CBORValue(json: "0.0e-999") == .float(0))
    }
}
