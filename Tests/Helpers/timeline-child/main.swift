// A child process for the timeline crash test: appends turns from four concurrent tasks through
// the group-committing writer, durably, and prints "ack SESSION SEQUENCE" for each append that
// returned — until it is killed.
//   timeline-child PATH
import Foundation
import Timeline

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: timeline-child PATH\n".utf8))
    exit(2)
}
let timeline = try TimelineStore(path: CommandLine.arguments[1])
let sessions = try await (0..<4).asyncMap { index in try await timeline.createSession(NewSession(title: "writer \(index)")).id }
try await withThrowingTaskGroup(of: Void.self) { group in
    for session in sessions {
        group.addTask {
            var index = 0
            while true {
                let turn = try await timeline.append(NewTurn(role: .user, content: "turn \(index) " + String(repeating: "x", count: index % 300)), to: session)
                FileHandle.standardOutput.write(Data("ack \(session.uuidString) \(turn.sequence)\n".utf8))
                index += 1
            }
        }
    }
    try await group.waitForAll()
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
