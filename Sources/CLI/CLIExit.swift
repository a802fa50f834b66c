/// The exit codes scripts can rely on (listed in `bosun --help`).
enum CLIExit: Int32, Sendable {
    case ok = 0
    case failure = 1
    case usage = 2
    case notFound = 3
    case auth = 4
    case conflict = 5
    case unavailable = 6
    /// `run --follow`: the execution failed.
    case executionFailed = 10
    /// `run --follow`: the execution was cancelled.
    case executionCancelled = 11
    /// `run --follow`: the execution waits for a human and standard input is not a terminal.
    case needsHuman = 12

    /// The code for an HTTP error status from the control API.
    static func forHTTPStatus(_ status: Int) -> CLIExit {
        switch status {
        case 404: .notFound
        case 401, 403: .auth
        case 409: .conflict
        case 500...: .unavailable
        default: .failure
        }
    }
}

/// An error the CLI reports as `bosun: <message>` and turns into an exit code.
struct CLIError: Error, CustomStringConvertible, Sendable {
    var message: String
    var exit: CLIExit

    init(_ message: String, exit: CLIExit = .failure) {
        self.message = message
        self.exit = exit
    }

    var description: String { message }
}

/// Not an error: a command that finished and wants a particular exit code (e.g. `run --follow`
/// ending with a failed execution), after printing what it had to print.
struct CLIExitRequest: Error, Sendable {
    var exit: CLIExit
}
