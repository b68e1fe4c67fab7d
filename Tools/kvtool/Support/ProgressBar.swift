import Foundation

/// A progress bar on standard error — only when it is a terminal, so scripts and logs stay clean.
final class ProgressBar {
    private let label: String
    private let total: Int
    private let enabled: Bool
    private var lastDrawn = -1

    init(_ label: String, total: Int) {
        self.label = label
        self.total = max(total, 1)
        enabled = isatty(STDERR_FILENO) == 1
    }

    /// Shows `done` of the total (redrawn at most once per percent).
    func update(_ done: Int) {
        guard enabled else { return }
        let percent = min(100, done * 100 / total)
        guard percent != lastDrawn else { return }
        lastDrawn = percent
        let filled = percent * 30 / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        writeStandardError("\r\(label) [\(bar)] \(percent)% (\(done)/\(total))")
    }

    /// Clears the bar's line.
    func finish() {
        guard enabled, lastDrawn >= 0 else { return }
        writeStandardError("\r\u{1B}[K")
    }
}
