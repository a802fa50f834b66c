/// A permission rule string that does not parse; the message names the rule.
public struct PermissionRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var rule: String
    public var reason: String

    public init(rule: String, reason: String) {
        self.rule = rule
        self.reason = reason
    }

    public var description: String { "invalid permission rule \"\(rule)\": \(reason)" }
}
