import BosunProtocol
import Foundation

/// The answer to one question put to the policies, with the rule that gave it.
public struct PolicyDecision: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case allow
        case deny
        /// Allowed once a person approves this very call.
        case requireApproval = "require_approval"
    }

    public var outcome: Outcome
    /// Which rule decided, e.g. `tools.deny "Bash"`; nil for an allow no rule constrained.
    public var rule: String?
    public var policyId: UUID?
    public var policyName: String?
    /// One sentence for people and models.
    public var reason: String
    /// Which evaluator answered: `embedded` or `opa`.
    public var evaluator: String

    public init(
        outcome: Outcome, rule: String? = nil, policyId: UUID? = nil, policyName: String? = nil, reason: String,
        evaluator: String = "embedded"
    ) {
        self.outcome = outcome
        self.rule = rule
        self.policyId = policyId
        self.policyName = policyName
        self.reason = reason
        self.evaluator = evaluator
    }

    public static func allow(_ reason: String = "no policy rule restricts this") -> PolicyDecision {
        PolicyDecision(outcome: .allow, reason: reason)
    }

    /// A denial because the policies could not be evaluated at all: fail closed.
    public static func evaluationFailed(_ why: String, evaluator: String = "embedded") -> PolicyDecision {
        PolicyDecision(
            outcome: .deny, rule: "evaluation-failed", reason: "policy evaluation failed, so it is denied: \(why)",
            evaluator: evaluator)
    }

    public var isAllowed: Bool { outcome == .allow }

    /// The decision as stored in the audit log and sent in events.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "decision": .string(outcome.rawValue), "reason": .string(reason), "evaluator": .string(evaluator),
        ]
        if let rule { object["rule"] = .string(rule) }
        if let policyId { object["policy_id"] = .string(policyId.uuidString.lowercased()) }
        if let policyName { object["policy_name"] = .string(policyName) }
        return .object(object)
    }
}
