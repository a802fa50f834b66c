/// What the permission engine decided about one tool call, and why: the reason names the rule
/// or mode that decided (`denied by rule "Bash(rm *)"`, `plan mode: no changes`), and is what
/// the model and the execution's events see.
public enum PermissionDecision: Sendable, Equatable, CustomStringConvertible {
    case allow(String)
    /// The call needs a human's approval (the runtime turns this into `waiting_for_input`, or
    /// denies it where nobody can answer).
    case ask(String)
    case deny(String)

    public var reason: String {
        switch self {
        case .allow(let reason), .ask(let reason), .deny(let reason): reason
        }
    }

    public var isAllowed: Bool {
        if case .allow = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .allow(let reason): "allow (\(reason))"
        case .ask(let reason): "ask (\(reason))"
        case .deny(let reason): "deny (\(reason))"
        }
    }
}
