import Foundation
import TimelineLMDB
import Testing
import TestSupport

/// A store directory inside `directory`.
func storePath(_ directory: String) -> String { directory + "/store" }

/// The UTF-8 bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The bytes of a buffer read from LMDB, copied out.
func copy(_ buffer: UnsafeRawBufferPointer?) -> [UInt8]? { buffer.map { Array($0) } }

/// Every entry of `db` in the given range and direction, copied out.
func collect(_ db: Database, _ range: KeyRange = .all, reverse: Bool = false, in txn: borrowing Transaction<some TransactionAccess>) throws -> [([UInt8], [UInt8])] {
    try db.withCursor(in: txn) { cursor throws in
        var result: [([UInt8], [UInt8])] = []
        var entries = cursor.entries(in: range, reverse: reverse)
        while let entry = try entries.next() { result.append((Array(entry.key), Array(entry.value))) }
        return result
    }
}

/// A running child process with its standard output captured.
final class Child: @unchecked Sendable {
    let process = Process()
    let output = Pipe()
    let errors = Pipe()

    /// Starts `lmdb-child` with `arguments`, optionally through a wrapper command (e.g. setpriv)
    /// and with more environment variables.
    init(_ arguments: [String], wrapper: [String] = [], environment: [String: String] = [:]) throws {
        let executable = try helperExecutable("lmdb-child")
        if wrapper.isEmpty {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: wrapper[0])
            process.arguments = Array(wrapper.dropFirst()) + [executable] + arguments
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    /// Reads the child's output until it has printed `text` (or closed its output).
    func waitFor(_ text: String) {
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains(text) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return }
            seen += chunk
        }
    }

    /// Waits for the exit and returns (status, stdout, stderr).
    func finish() -> (status: Int32, output: String, errors: String) {
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
