/// What the hooks of one event decided.
public enum HookVerdict: Sendable, Equatable {
    /// Go on. `warnings` are non-blocking hook failures (a non-zero exit other than 2, a
    /// timeout, a command that could not start) for the runtime to log; the model never sees them.
    case `continue`(warnings: [String])
    /// A hook exited 2 (or answered with a JSON block/deny decision). For PreToolUse the call
    /// does not run and `message` (the hook's stderr) is the tool result for the model; for
    /// PostToolUse the call already ran and `message` is appended to its result.
    case block(message: String, warnings: [String])

    public static let proceed = HookVerdict.continue(warnings: [])

    public var warnings: [String] {
        switch self {
        case .continue(let warnings), .block(_, let warnings): warnings
        }
    }

    /// The message for the model when a hook blocked; nil otherwise.
    public var blockMessage: String? {
        if case .block(let message, _) = self { return message }
        return nil
    }

    public var isBlocked: Bool { blockMessage != nil }
}
