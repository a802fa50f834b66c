import BosunSystem

/// How a child run under a deadline ended.
struct BoundedOutput: Sendable {
    enum Ending: Sendable, Equatable {
        /// The leader exited on its own.
        case exited
        /// The deadline passed; the group got SIGTERM, then SIGKILL after the grace period.
        case timedOut
        /// The calling task was cancelled; the group got SIGKILL at once.
        case cancelled
    }

    var output: ChildOutput
    var ending: Ending
}
