import TestSupport
import TimelineCBOR
import Foundation
import Testing

/// Checks against an independent CBOR implementation, Python's cbor2 (installed by scripts/deps.sh).
@Suite("Cross-check with Python's cbor2")
struct CrossCheckTests {
    static let script = #"""
    import binascii, sys, cbor2
    lines = open(sys.argv[1]).read().split()
    out = []
    for line in lines:
        value = cbor2.loads(binascii.unhexlify(line))
        out.append(cbor2.dumps(value, canonical=True, datetime_as_timestamp=True).hex())
    import datetime, uuid
    known = {
        "id": uuid.UUID("e621e1f8-c36c-495a-93fc-0c247a3e6e5f"),
        "sequence": 2**64 - 1,
        "role": "assistant",
        "content": "naïve café 😀",
        "created": datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc),
        "inputTokens": -(2**63),
        "cost": 0.1,
        "tools": [{"name": "grep", "arguments": {"pattern": "a.b"}}],
        "metadata": {},
        "attachment": b"\x00\xff",
        "nested": [[1, -2], []],
        "flags": ["x"],
        "score": 1.5,
        "delta": 7,
        "unknownFieldIgnored": [1, 2, {"deep": None}],
    }
    out.append(cbor2.dumps(known, datetime_as_timestamp=True).hex())
    open(sys.argv[2], "w").write("\n".join(out))
    """#

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func unhex(_ text: Substring) -> [UInt8] {
        stride(from: 0, to: text.count, by: 2).map { offset in
            let start = text.index(text.startIndex, offsetBy: offset)
            return UInt8(text[start..<text.index(start, offsetBy: 2)], radix: 16) ?? 0
        }
    }

    @Test("cbor2 reads what we write, and we read what cbor2 writes")
    func crossCheck() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") || FileManager.default.fileExists(atPath: "/usr/local/bin/python3")
            || ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/python3") }) == true
        else {
            print("CrossCheckTests: skipped — python3 is not installed, so cbor2 cannot be run")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cbor-cross-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        var random = SeededGenerator(seed: 31)
        let turns: [Turn] = (0..<300).map { _ in
            var turn = randomTurn(&random)
            // Python's datetime keeps microseconds: use whole and half seconds.
            turn.created = Date(timeIntervalSince1970: Double(Int.random(in: 0...4_000_000_000, using: &random)) + (Bool.random(using: &random) ? 0.5 : 0))
            turn.content = turn.content.replacingOccurrences(of: "\u{0}", with: "")
            return turn
        }
        let input = try turns.map { Self.hex(try CBOREncoder().encode($0)) }.joined(separator: "\n")
        try input.write(to: dir.appendingPathComponent("in.txt"), atomically: true, encoding: .utf8)
        try Self.script.write(to: dir.appendingPathComponent("check.py"), atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", dir.appendingPathComponent("check.py").path,
                             dir.appendingPathComponent("in.txt").path, dir.appendingPathComponent("out.txt").path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if message.contains("No module named 'cbor2'") {
            Issue.record("python3 is installed but cbor2 is not: run scripts/deps.sh (pip install cbor2)")
            return
        }
        try #require(process.terminationStatus == 0, "cbor2 failed: \(message)")

        let lines = try String(contentsOf: dir.appendingPathComponent("out.txt"), encoding: .utf8).split(separator: "\n")
        try #require(lines.count == turns.count + 1)
        // cbor2 re-encoded every record canonically (sorted keys, its own float widths): same values.
        for (turn, line) in zip(turns, lines) {
            #expect(try CBORDecoder().decode(Turn.self, from: Self.unhex(line)) == turn)
        }
        // A record cbor2 wrote from scratch, with a field we do not know.
        let known = try CBORDecoder().decode(Turn.self, from: Self.unhex(lines[turns.count]))
        #expect(known.id == UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F"))
        #expect(known.sequence == .max)
        #expect(known.content == "naïve café 😀")
        #expect(known.created == Date(timeIntervalSince1970: 1_714_564_800))
        #expect(known.inputTokens == .min)
        #expect(known.cost == 0.1)
        #expect(known.tools == [ToolCall(name: "grep", arguments: ["pattern": "a.b"], durationMs: nil)])
        #expect(known.attachment == Data([0, 255]))
        #expect(known.nested == [[1, -2], []])
        #expect(known.score == 1.5 && known.delta == 7 && known.outputTokens == nil && known.link == nil)
    }
}
