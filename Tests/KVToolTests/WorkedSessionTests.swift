import Foundation
import TestSupport
import Testing

/// `Docs/kvtool.md`'s worked session is what kvtool prints: each command of its console block is
/// run in order, in an empty directory, and its output compared with the lines the page shows.
@Suite("kvtool.md's worked session")
struct WorkedSessionTests {
    /// One `$ kvtool …` line of the page and the lines shown under it.
    struct Step {
        var command: String
        var expected: [String]
    }

    /// The steps of the first console block after "## A worked session".
    static func steps() throws -> [Step] {
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Docs/kvtool.md")
        let text = try String(contentsOf: page, encoding: .utf8)
        let section = try #require(text.range(of: "## A worked session"))
        let start = try #require(text.range(of: "```console\n", range: section.upperBound..<text.endIndex))
        let end = try #require(text.range(of: "\n```", range: start.upperBound..<text.endIndex))
        var steps: [Step] = []
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("$ ") {
                steps.append(Step(command: String(line.dropFirst(2)), expected: []))
            } else {
                steps[steps.count - 1].expected.append(String(line))
            }
        }
        return steps
    }

    /// Whether `actual` is one of the lines `pattern` shows: a "…" in it stands for any text.
    static func line(_ actual: Substring, matches pattern: String) -> Bool {
        let parts = pattern.components(separatedBy: "…")
        guard parts.count > 1 else { return actual == pattern }
        guard actual.hasPrefix(parts[0]), actual.hasSuffix(parts[parts.count - 1]),
              actual.count >= parts[0].count + parts[parts.count - 1].count else { return false }
        var rest = actual.dropFirst(parts[0].count).dropLast(parts[parts.count - 1].count)
        for middle in parts.dropFirst().dropLast() {
            guard let found = rest.range(of: middle) else { return false }
            rest = rest[found.upperBound...]
        }
        return true
    }

    /// Whether the lines `actual` are those `expected` shows; a line that is only "…" stands for
    /// any number of lines.
    static func lines(_ actual: ArraySlice<Substring>, match expected: ArraySlice<String>) -> Bool {
        guard let first = expected.first else { return actual.isEmpty }
        if first == "…" {
            return (actual.startIndex...actual.endIndex).contains { lines(actual[$0...], match: expected.dropFirst()) }
        }
        guard let line = actual.first, self.line(line, matches: first) else { return false }
        return lines(actual.dropFirst(), match: expected.dropFirst())
    }

    @Test("every command of the worked session prints what the page shows")
    func workedSession() throws {
        let steps = try Self.steps()
        #expect(steps.count >= 10)
        try withTemporaryDirectory { dir in
            for step in steps {
                var words = step.command.split(separator: " ").map(String.init)
                try #require(words.first == "kvtool", "\(step.command)")
                words.removeFirst()
                var output: String
                if let pipe = words.firstIndex(of: "|") {
                    // `kvtool dump X | cmp - FILE && echo identical`
                    try #require(Array(words[pipe...]) == ["|", "cmp", "-", words[pipe + 3], "&&", "echo", "identical"], "\(step.command)")
                    let result = try kvtool(Array(words[..<pipe]), directory: dir)
                    let file = try String(contentsOfFile: dir + "/" + words[pipe + 3], encoding: .utf8)
                    output = result.output == file ? "identical\n" : "differ\n"
                } else {
                    let result = try kvtool(words, directory: dir)
                    #expect(result.status == 0, "\(step.command): \(result)")
                    output = result.output + result.errors
                }
                var actual = output.split(separator: "\n", omittingEmptySubsequences: false)[...]
                var expected = step.expected[...]
                while actual.last?.isEmpty == true { actual = actual.dropLast() }
                while expected.last?.isEmpty == true { expected = expected.dropLast() }
                #expect(Self.lines(actual, match: expected), "\(step.command) printed:\n\(output)\nwhere Docs/kvtool.md shows:\n\(expected.joined(separator: "\n"))")
            }
        }
    }
}
