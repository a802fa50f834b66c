import BosunProtocol
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Bosun's embedded policy evaluator: the same code decides on the control API (before an
/// execution is accepted, after every turn) and on the worker (before every tool call, with the
/// policies that travel with the task).
///
/// Inheritance is tighten-only: policies from the organization down to the agent all apply,
/// and a more specific level can add restrictions but never lift one. So a deny anywhere denies;
/// a tool or model must be in every `allow` list that exists; approvals add up; quotas, turn limits
/// and sandbox minimums take the strictest value.
public struct PolicyEvaluator: Sendable {
    public struct Entry: Sendable {
        public let policy: PolicySnapshot
        public let rules: PolicyRules
    }

    public let entries: [Entry]

    /// Parses every policy's rules; a policy that cannot be read is an error, and callers deny
    /// (fail closed) rather than evaluate without it.
    public init(_ policies: [PolicySnapshot]) throws(PolicyError) {
        var entries: [Entry] = []
        for policy in policies.sorted(by: { ($0.level.rank, $0.name) < ($1.level.rank, $1.name) }) {
            do {
                entries.append(Entry(policy: policy, rules: try PolicyRules(json: policy.rules)))
            } catch {
                throw PolicyError("policy '\(policy.name)' cannot be evaluated: \(error.message)")
            }
        }
        self.entries = entries
    }

    public static let none = try! PolicyEvaluator([])

    // MARK: Tools

    /// Whether a call to tool `name` may run now.
    public func toolCall(_ name: String) -> PolicyDecision {
        for entry in entries {
            if let pattern = entry.rules.toolDeny.first(where: { Self.matches($0, name) }) {
                return decision(.deny, entry, rule: "tools.deny \"\(pattern)\"", "tool '\(name)' is denied")
            }
        }
        let allowed = allowLists(\.toolAllow, name)
        if let missing = allowed.missingFrom {
            return decision(.deny, missing, rule: "tools.allow", "tool '\(name)' is not in the allowed tools")
        }
        for entry in entries {
            if let pattern = entry.rules.toolApproval.first(where: { Self.matches($0, name) }) {
                return decision(
                    .requireApproval, entry, rule: "tools.require_approval \"\(pattern)\"",
                    "tool '\(name)' needs a person's approval")
            }
        }
        if let allowedBy = allowed.allowedBy {
            return decision(.allow, allowedBy, rule: "tools.allow", "tool '\(name)' is allowed")
        }
        return .allow()
    }

    /// Whether the model should be offered tool `name` at all: not when a rule denies it outright.
    public func offers(tool name: String) -> Bool { toolCall(name).outcome != .deny }

    // MARK: Executions

    /// Whether an execution of this agent may start (or a turn of it run): the model must be
    /// allowed and the sandbox profile strong enough.
    public func execution(model: String, sandboxProfile: String) -> PolicyDecision {
        let allowed = allowLists(\.modelAllow, model)
        if let missing = allowed.missingFrom {
            return decision(.deny, missing, rule: "models.allow", "model '\(model)' is not in the allowed models")
        }
        for entry in entries {
            guard let minimum = entry.rules.minimumSandboxProfile else { continue }
            if sandboxProfile == minimum { continue }
            guard let required = SandboxStrength(profile: minimum), let actual = SandboxStrength(profile: sandboxProfile),
                actual >= required
            else {
                return decision(
                    .deny, entry, rule: "sandbox.minimum_profile \"\(minimum)\"",
                    "sandbox profile '\(sandboxProfile)' is weaker than the required '\(minimum)' (or cannot be compared)")
            }
        }
        if let allowedBy = allowed.allowedBy {
            return decision(.allow, allowedBy, rule: "models.allow", "model '\(model)' is allowed")
        }
        return .allow()
    }

    /// The strictest turn limit, and the policy that sets it.
    public var maxTurns: (limit: Int, policy: PolicySnapshot)? {
        entries.compactMap { entry in entry.rules.maxTurns.map { ($0, entry.policy) } }.min { $0.0 < $1.0 }
    }

    /// Whether any policy has a per-organization daily quota (which costs a query to check).
    public var hasOrganizationQuota: Bool {
        entries.contains { $0.rules.organizationDailyTokens != nil || $0.rules.organizationDailyCostUSD != nil }
    }

    /// Whether any policy sets a quota (so a task carries the usage so far).
    public var hasQuota: Bool {
        hasOrganizationQuota || entries.contains { $0.rules.executionTokens != nil || $0.rules.executionCostUSD != nil }
    }

    /// Checks usage against every quota: an execution's totals and the organization's today.
    /// At the limit counts as over: a quota of 0 forbids any use.
    public func quotas(execution: Usage, organizationToday: Usage?) -> PolicyDecision {
        for entry in entries {
            let rules = entry.rules
            if let limit = rules.executionTokens, execution.tokens >= limit {
                return decision(
                    .deny, entry, rule: "quotas.execution_tokens",
                    "the execution used \(execution.tokens) tokens of its quota of \(limit)")
            }
            if let limit = rules.executionCostUSD, execution.costUSD >= limit {
                return decision(
                    .deny, entry, rule: "quotas.execution_cost_usd",
                    "the execution cost \(Self.dollars(execution.costUSD)) of its quota of \(Self.dollars(limit))")
            }
            if let today = organizationToday {
                if let limit = rules.organizationDailyTokens, today.tokens >= limit {
                    return decision(
                        .deny, entry, rule: "quotas.organization_daily_tokens",
                        "the organization used \(today.tokens) tokens today of its daily quota of \(limit)")
                }
                if let limit = rules.organizationDailyCostUSD, today.costUSD >= limit {
                    return decision(
                        .deny, entry, rule: "quotas.organization_daily_cost_usd",
                        "the organization spent \(Self.dollars(today.costUSD)) today of its daily quota of \(Self.dollars(limit))")
                }
            }
        }
        return .allow()
    }

    public typealias Usage = QuotaUsage

    // MARK: Helpers

    /// Every `allow` list there is must name `value`: the first policy whose list does not is
    /// `missingFrom` (a deny); otherwise the most specific one that does is `allowedBy`.
    private func allowLists(_ list: KeyPath<PolicyRules, [String]?>, _ value: String)
        -> (missingFrom: Entry?, allowedBy: Entry?)
    {
        var allowedBy: Entry?
        for entry in entries {
            guard let patterns = entry.rules[keyPath: list] else { continue }
            guard patterns.contains(where: { Self.matches($0, value) }) else { return (entry, nil) }
            allowedBy = entry
        }
        return (nil, allowedBy)
    }

    private func decision(_ outcome: PolicyDecision.Outcome, _ entry: Entry, rule: String, _ what: String)
        -> PolicyDecision
    {
        PolicyDecision(
            outcome: outcome, rule: rule, policyId: entry.policy.id, policyName: entry.policy.name,
            reason: "\(what) by policy '\(entry.policy.name)' (\(entry.policy.level.rawValue)): \(rule)")
    }

    private static func dollars(_ value: Double) -> String { String(format: "$%.4f", value) }

    /// Shell-style glob match (`fnmatch`): `*`, `?` and `[...]`; no special meaning for `/`.
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
