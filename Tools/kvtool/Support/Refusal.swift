import Foundation
import ArgumentParser

/// A refusal found while a command runs (not a usage mistake, so no usage text follows it).
struct Refusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Prints `message` to standard error. A standard error that cannot be written (a full disk, a
/// closed descriptor) loses the message rather than ending the process: `FileHandle.write(_:)`
/// traps on any write error.
func printError(_ message: String) {
    writeStandardError(message + "\n")
}

/// Writes `text` to standard error, ignoring a failure (see ``printError(_:)``).
func writeStandardError(_ text: String) {
    var text = text
    _ = text.withUTF8 { writeAll(STDERR_FILENO, UnsafeRawBufferPointer($0)) }
}


/// A usage mistake that only the opened store reveals (a database it does not have), reported as
/// one found while parsing the arguments is — the message and where to read more, exit status 64 —
/// but naming the command it was given to (a `ValidationError` thrown from `run()` would print
/// kvtool's own usage instead).
func usageMistake(_ message: String, command: String) -> ExitCode {
    printError("Error: \(message)\n  See 'kvtool \(command) --help' for more information.")
    return .validationFailure
}
