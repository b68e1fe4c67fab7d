// Helpers shared by the test targets.
import Foundation

/// The seeded generator (SplitMix64) of every random test.
@_exported import SeededRandom

/// The boot of the machine that the write-ahead log sees in the test process
/// (`TIMELINESTORE_BOOT_ID`): never a child writer's, so that opening what a child left behind is
/// opening it after a restart. Set once for the whole process, and only ever to this value, so
/// that it does not change while a test runs.
public let testProcessBootID = "after-the-power-cut"

/// Sets `TIMELINESTORE_BOOT_ID` to ``testProcessBootID`` for this process.
public func useTestProcessBootID() {
    setenv("TIMELINESTORE_BOOT_ID", testProcessBootID, 1)
}

/// Runs `body` with a new, empty temporary directory (mode 0755, so a child process running as
/// another user can reach into it) that is removed afterwards.
public func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let path = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// The async form of ``withTemporaryDirectory(_:)``.
public func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
    let path = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

private func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("timelinestore-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    return path
}

/// The path of `name`, a helper executable of this package built next to the test bundle
/// (`swift build --build-tests` builds it; scripts/test.sh does).
public func helperExecutable(_ name: String) throws -> String {
    let path = try buildDirectory().appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: path) else { throw HelperNotBuilt(name: name, path: path) }
    return path
}

/// Runs the helper `name` with `arguments` to its end (output discarded) and returns its exit
/// status; `environment` adds to (or replaces) the test process's variables.
@discardableResult
public func runHelper(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try helperExecutable(name))
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// A helper executable that was not built.
public struct HelperNotBuilt: Error, CustomStringConvertible {
    public let name: String
    public let path: String
    public var description: String { "\(name) not found at \(path): run `swift build --build-tests` first (scripts/test.sh does)" }
}

/// Starts the helper `name` with `arguments`, waits until its standard output holds `lines`
/// lines (or it exits), kills it with `SIGKILL`, and returns everything it printed and whether
/// the kill ended it — the crash tests' way of stopping a writer mid-work.
public func runUntilKilled(_ name: String, _ arguments: [String], afterLines lines: Int) throws -> (output: String, killed: Bool) {
    let process = Process()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: try helperExecutable(name))
    process.arguments = arguments
    process.standardOutput = output
    try process.run()
    var text = ""
    while text.components(separatedBy: "\n").count <= lines {
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        text += String(decoding: chunk, as: UTF8.self)
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (text, process.terminationReason == .uncaughtSignal)
}

/// Type-checks `source` with `swiftc -typecheck` against this package's modules as built for the
/// tests; returns the compiler's diagnostics when it does not compile, `nil` when it does. For
/// tests that prove a misuse is rejected at compile time.
public func compilerDiagnostics(_ source: String) throws -> String? {
    let modules = try buildDirectory().appendingPathComponent("Modules").path
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    return try withTemporaryDirectory { dir in
        let file = dir + "/snippet.swift"
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swiftc", "-typecheck", "-I", modules, "-I", root + "/Sources/CTimelineLMDB", "-I", root + "/Sources/CTimelineLZ4", "-I", root + "/Sources/CTimelineText/include", "-I", root + "/Sources/CTimelineChecksum/include", file]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : text
    }
}

/// The directory SwiftPM built the tests into (`.build/<triple>/debug`), where the helper
/// executables and `Modules/` are: next to the test executable on Linux, next to the `.xctest`
/// bundle on Darwin.
func buildDirectory() throws -> URL {
    #if os(Linux)
    let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    return URL(fileURLWithPath: me).deletingLastPathComponent()
    #else
    if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    #endif
}
