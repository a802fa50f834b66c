import Glibc

/// How a child process ended.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    /// The process called exit with this code (0...255). -1 means the status was lost because
    /// something else reaped the child first (SIGCHLD set to SIG_IGN, or a `waitpid(-1)`
    /// elsewhere in the process); the launcher never produces it otherwise.
    case exited(Int32)
    /// A signal ended the process.
    case signalled(Int32)

    public var isSuccess: Bool { self == .exited(0) }

    /// Decodes a `waitpid` status word. The WIFEXITED/WTERMSIG family are C macros Swift cannot
    /// import, so their arithmetic is spelt out: the low 7 bits hold the terminating signal (0
    /// for a normal exit, 0x7f for a stopped child), bits 8-15 the exit code.
    /// Returns nil for stop/continue reports (0x7f in the low bits), which are not endings.
    public init?(waitStatus status: Int32) {
        let signal = status & 0x7f
        if signal == 0 {
            self = .exited((status >> 8) & 0xff)
        } else if signal != 0x7f {
            self = .signalled(signal)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with code \(code)"
        case .signalled(let signal): "killed by \(Self.signalName(signal))"
        }
    }

    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
            SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
            SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGSYS: "SIGSYS",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}
