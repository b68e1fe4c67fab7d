import TestSupport
import TimelineCBOR
import TimelineDocumentStore
import Foundation
import Testing
@testable import Timeline

/// Decodes through `Decodable` only (in a generic context the fast-path overload is not chosen).
func viaDecodable<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
    try CBORDecoder().decode(T.self, from: bytes)
}

@Suite("Timeline records")
struct RecordTests {
    /// A random turn with every optional field sometimes present.
    func randomTurn(_ random: inout SeededGenerator) -> Turn {
        func maybe<T>(_ value: T) -> T? { Bool.random(using: &random) ? value : nil }
        let roles: [Turn.Role] = [.system, .user, .assistant, .tool, .other("critic")]
        return Turn(
            sessionID: UUID(), sequence: Int.random(in: 0...1_000_000, using: &random), id: UUID(),
            role: roles.randomElement(using: &random)!, content: String(repeating: "é ✓ x", count: Int.random(in: 0...50, using: &random)),
            created: Date(timeIntervalSince1970: Double.random(in: 0...2e9, using: &random)).storable,
            duration: maybe(Double.random(in: 0...100, using: &random)), inputTokens: maybe(Int.random(in: 0...10_000, using: &random)),
            outputTokens: maybe(-1), cost: maybe(0.001),
            toolCalls: Bool.random(using: &random) ? [Turn.ToolCall(id: "c", name: "n", arguments: "{}", result: maybe("r"), isError: true)] : [],
            blocks: Bool.random(using: &random) ? [Turn.Block(kind: "k", text: "t")] : [],
            metadata: Bool.random(using: &random) ? ["a": "1", "b": "2"] : [:]
        )
    }

    @Test("the fast paths read what Decodable reads, for 2,000 random turns, sessions and change entries")
    func fastPathsMatchDecodable() throws {
        var random = SeededGenerator(seed: 42)
        for _ in 0..<2_000 {
            let turn = randomTurn(&random)
            let bytes = try CBOREncoder().encode(turn)
            #expect(try viaDecodable(Turn.self, bytes) == turn)
            #expect(try CBORDecoder().decode(Turn.self, from: bytes) == turn)

            let session = Session(
                id: UUID(), title: "t", project: Bool.random(using: &random) ? "p" : nil, parentID: Bool.random(using: &random) ? UUID() : nil,
                branchPoint: 3, branchName: "b", model: "m", provider: nil, created: turn.created, updated: turn.created,
                lastActivity: turn.created, turnCount: 9, inputTokens: 1, outputTokens: 2, cost: 0.5, archived: Bool.random(using: &random),
                metadata: ["x": "y"], checkpointCount: 4, crystalCount: 5
            )
            let sessionBytes = try CBOREncoder().encode(session)
            #expect(try viaDecodable(Session.self, sessionBytes) == session)
            #expect(try CBORDecoder().decode(Session.self, from: sessionBytes) == session)

            let maybe = { (value: UUID) in Bool.random(using: &random) ? value : nil }
            let first = Int.random(in: 0..<1_000, using: &random)
            let change = Change(position: Int.random(in: 1..<Int.max, using: &random), kind: Change.Kind.allCases.randomElement(using: &random)!,
                                session: UUID(), time: turn.created, parent: maybe(UUID()),
                                sequences: Bool.random(using: &random) ? first..<first + Int.random(in: 0..<9, using: &random) : nil,
                                checkpoint: maybe(UUID()), number: Bool.random(using: &random) ? first : nil)
            let changeBytes = try CBOREncoder().encode(change)
            #expect(try viaDecodable(Change.self, changeBytes) == change)
            #expect(try CBORDecoder().decode(Change.self, from: changeBytes) == change)
        }
        // An unknown kind (written by newer code) is an error on both paths, not a trap.
        struct NewerChange: Encodable { var position = 1, kind = "sessionSplit", session = UUID(), time = Date() }
        let newer = try CBOREncoder().encode(NewerChange())
        #expect(throws: DecodingError.self) { try viaDecodable(Change.self, newer) }
        #expect(throws: DecodingError.self) { try CBORDecoder().decode(Change.self, from: newer) }
    }

    @Test("the fast encodings write Encodable's bytes, plain and compact, for 2,000 random turns, sessions and change entries")
    func fastEncodingsMatchEncodable() throws {
        var random = SeededGenerator(seed: 43)
        func fast<T: CBORRecordEncodable>(_ value: T, fieldIDs: Bool) throws -> [UInt8] {
            var bytes: [UInt8] = [0x54]   // appends after what is there
            try CBOREncoder(fieldIDs: fieldIDs).encodeRecord(value, appendingTo: &bytes)
            return Array(bytes.dropFirst())
        }
        func check<T: CBORRecordEncodable>(_ value: T) throws {
            for fieldIDs in [false, true] {
                #expect(try fast(value, fieldIDs: fieldIDs) == CBOREncoder(fieldIDs: fieldIDs).encode(value), "\(value), field ids \(fieldIDs)")
            }
        }
        for _ in 0..<2_000 {
            func maybe<T>(_ value: T) -> T? { Bool.random(using: &random) ? value : nil }
            var turn = randomTurn(&random)
            turn.cost = maybe(Cost(nanos: Int64.random(in: -5...Int64.max, using: &random)))
            turn.duration = maybe([0.5, 1e300, -0.0, 3].randomElement(using: &random)!)
            turn.created = [turn.created, Date(timeIntervalSince1970: 1.25), Date(timeIntervalSince1970: -7)].randomElement(using: &random)!
            turn.metadata = Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0..<30, using: &random)).map { ("key\($0)\(String(repeating: "é", count: $0 % 3))", "v\($0)") })
            turn.toolCalls = (0..<Int.random(in: 0..<30, using: &random)).map { Turn.ToolCall(id: "c\($0)", name: "n", arguments: "{}", result: maybe("r"), isError: $0 % 2 == 0) }
            try check(turn)
            let session = Session(
                id: UUID(), title: String(repeating: "t", count: Int.random(in: 0..<40, using: &random)), project: maybe("p"), parentID: maybe(UUID()),
                branchPoint: maybe(Int.random(in: 0...Int.max, using: &random)), branchName: maybe("b"), model: maybe("m"), provider: maybe("o"),
                created: turn.created, updated: Date(timeIntervalSince1970: 2e9), lastActivity: Date(timeIntervalSince1970: 1.5e9),
                turnCount: Int.random(in: 0...Int.max, using: &random), inputTokens: Int.random(in: 0...30, using: &random), outputTokens: 70_000,
                cost: Cost(nanos: Int64.random(in: 0...Int64.max, using: &random)), archived: Bool.random(using: &random),
                metadata: turn.metadata, checkpointCount: 4, crystalCount: Int.random(in: 0...300, using: &random)
            )
            try check(session)
            let first = Int.random(in: 0..<1_000, using: &random)
            let change = Change(position: Int.random(in: 1..<Int.max, using: &random), kind: Change.Kind.allCases.randomElement(using: &random)!,
                                session: UUID(), time: turn.created, parent: maybe(UUID()),
                                sequences: Bool.random(using: &random) ? first..<first + Int.random(in: 0..<9, using: &random) : nil,
                                checkpoint: maybe(UUID()), number: maybe(first))
            try check(change)
        }
    }

    @Test("a record missing a required field is an error on both paths")
    func missingField() throws {
        let bytes = try CBOREncoder().encode(["sessionID": "x"])
        #expect(throws: DecodingError.self) { try viaDecodable(Turn.self, bytes) }
        #expect(throws: DecodingError.self) { try CBORDecoder().decode(Turn.self, from: bytes) }
    }

    @Test("export timestamps: UTC microseconds, and text → date → text is stable")
    func timestamps() throws {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_655_105.123456)) == "2026-11-26T01:05:05.123456Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000000Z")
        #expect(Timestamp.parse("2026-11-22T01:05:05Z") == Date(timeIntervalSince1970: 1_795_309_505))
        #expect(Timestamp.parse("2026-11-22T01:05:05.5Z") == Date(timeIntervalSince1970: 1_795_309_505.5))
        for bad in ["", "2026-11-22", "2026-13-01T00:00:00Z", "2026-11-22T01:05:05.Z", "2026-11-22T01:05:05.1234567890Z", "2026-11-22 01:05:05Z"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
        var random = SeededGenerator(seed: 7)
        for _ in 0..<10_000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -2e9...4e9, using: &random))
            let text = try #require(Timestamp.format(date))
            let parsed = try #require(Timestamp.parse(text))
            #expect(Timestamp.format(parsed) == text)
            #expect(abs(parsed.timeIntervalSince(date)) <= 0.000_001)
        }
        for outside in [Double.nan, .infinity, -.infinity, 1e300, -1e300, 9.3e9, -9.3e9] {
            #expect(Timestamp.format(Date(timeIntervalSince1970: outside)) == nil, "\(outside)")
        }
    }
}
