import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the CLI asks of the terminal: whether a human is there, and a line from them.
enum Terminal {
    static var stdinIsTTY: Bool { isatty(STDIN_FILENO) == 1 }
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }

    /// Prints `prompt` on standard error and reads one line from standard input (nil at EOF).
    /// The read blocks, so it runs on its own thread, off Swift's cooperative pool.
    static func ask(_ prompt: String) async -> String? {
        Output.writeError(prompt)
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: readLine(strippingNewline: true)) }
        }
    }
}

/// A one-line progress indicator on standard error (`waiting for a worker… 4s`), redrawn every
/// second while a wait lasts; silent when standard error is not a terminal, so logs and pipes
/// stay clean.
actor ProgressLine {
    private let enabled: Bool
    private var ticker: Task<Void, Never>?
    private var visible = false

    init(enabled: Bool = Terminal.stderrIsTTY) { self.enabled = enabled }

    /// Starts (or restarts) the indicator with `label`, counting seconds from now.
    func show(_ label: String) {
        guard enabled else { return }
        ticker?.cancel()
        let started = ContinuousClock.now
        ticker = Task { [weak self] in
            // Nothing for short waits: only a wait that lasts gets a line.
            try? await Task.sleep(for: .seconds(1))
            while !Task.isCancelled {
                let seconds = Int((ContinuousClock.now - started).components.seconds)
                await self?.draw("\(label)… \(seconds)s")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Stops the indicator and erases its line, before anything else is printed.
    func clear() {
        ticker?.cancel()
        ticker = nil
        if visible {
            Output.writeError("\r\u{1B}[2K")
            visible = false
        }
    }

    private func draw(_ text: String) {
        guard ticker != nil else { return }
        Output.writeError("\r\u{1B}[2K" + text)
        visible = true
    }
}
