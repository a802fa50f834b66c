import BosunProtocol
import Foundation

/// What one policy says. Every part is optional; a part a policy leaves out does not constrain.
///
/// ```json
/// {"tools":   {"allow": ["Read", "mcp__time__*"], "deny": ["Bash"], "require_approval": ["Write"]},
///  "models":  {"allow": ["openai/gpt-4o-mini", "anthropic/*"]},
///  "quotas":  {"execution_tokens": 200000, "execution_cost_usd": 2.5,
///              "organization_daily_tokens": 5000000, "organization_daily_cost_usd": 100},
///  "sandbox": {"minimum_profile": "default"},
///  "limits":  {"max_turns": 20}}
/// ```
/// Tool and model entries are shell-style globs (`*`, `?`, `[...]`). Unknown keys are errors:
/// a misspelt rule that silently constrains nothing is the failure this design refuses.
public struct PolicyRules: Sendable, Equatable {
    public var toolAllow: [String]?
    public var toolDeny: [String] = []
    public var toolApproval: [String] = []
    public var modelAllow: [String]?
    public var executionTokens: Int?
    public var executionCostUSD: Double?
    public var organizationDailyTokens: Int?
    public var organizationDailyCostUSD: Double?
    public var minimumSandboxProfile: String?
    public var maxTurns: Int?

    public init() {}

    /// Parses and checks a policy's `rules`; the error names the offending key.
    public init(json: JSONValue) throws(PolicyError) {
        guard let root = json.objectValue else { throw PolicyError("rules must be an object") }
        try Self.onlyKeys(root, ["tools", "models", "quotas", "sandbox", "limits"], in: "rules")
        if let tools = root["tools"] {
            let object = try Self.object(tools, "rules.tools")
            try Self.onlyKeys(object, ["allow", "deny", "require_approval"], in: "rules.tools")
            toolAllow = try object["allow"].map { v throws(PolicyError) in try Self.patterns(v, "rules.tools.allow") }
            toolDeny = try object["deny"].map { v throws(PolicyError) in try Self.patterns(v, "rules.tools.deny") } ?? []
            toolApproval = try object["require_approval"].map { v throws(PolicyError) in
                try Self.patterns(v, "rules.tools.require_approval")
            } ?? []
        }
        if let models = root["models"] {
            let object = try Self.object(models, "rules.models")
            try Self.onlyKeys(object, ["allow"], in: "rules.models")
            modelAllow = try object["allow"].map { v throws(PolicyError) in try Self.patterns(v, "rules.models.allow") }
        }
        if let quotas = root["quotas"] {
            let object = try Self.object(quotas, "rules.quotas")
            try Self.onlyKeys(
                object,
                ["execution_tokens", "execution_cost_usd", "organization_daily_tokens", "organization_daily_cost_usd"],
                in: "rules.quotas")
            executionTokens = try Self.count(object["execution_tokens"], "rules.quotas.execution_tokens")
            executionCostUSD = try Self.amount(object["execution_cost_usd"], "rules.quotas.execution_cost_usd")
            organizationDailyTokens = try Self.count(
                object["organization_daily_tokens"], "rules.quotas.organization_daily_tokens")
            organizationDailyCostUSD = try Self.amount(
                object["organization_daily_cost_usd"], "rules.quotas.organization_daily_cost_usd")
        }
        if let sandbox = root["sandbox"] {
            let object = try Self.object(sandbox, "rules.sandbox")
            try Self.onlyKeys(object, ["minimum_profile"], in: "rules.sandbox")
            if let value = object["minimum_profile"] {
                guard let name = value.stringValue, SandboxStrength(profile: name) != nil else {
                    throw PolicyError(
                        "rules.sandbox.minimum_profile must be one of \(SandboxStrength.orderedNames.joined(separator: ", "))")
                }
                minimumSandboxProfile = name
            }
        }
        if let limits = root["limits"] {
            let object = try Self.object(limits, "rules.limits")
            try Self.onlyKeys(object, ["max_turns"], in: "rules.limits")
            maxTurns = try Self.count(object["max_turns"], "rules.limits.max_turns")
            if maxTurns == 0 { throw PolicyError("rules.limits.max_turns must be at least 1") }
        }
    }

    private static func object(_ value: JSONValue, _ path: String) throws(PolicyError) -> [String: JSONValue] {
        guard let object = value.objectValue else { throw PolicyError("\(path) must be an object") }
        return object
    }

    private static func onlyKeys(_ object: [String: JSONValue], _ known: [String], in path: String) throws(PolicyError) {
        for key in object.keys.sorted() where !known.contains(key) {
            throw PolicyError("unknown rule '\(path).\(key)' (known: \(known.joined(separator: ", ")))")
        }
    }

    private static func patterns(_ value: JSONValue, _ path: String) throws(PolicyError) -> [String] {
        guard let array = value.arrayValue else { throw PolicyError("\(path) must be an array of names or globs") }
        var patterns: [String] = []
        for item in array {
            guard let text = item.stringValue, !text.isEmpty, text.count <= 200 else {
                throw PolicyError("\(path) entries must be non-empty strings of at most 200 characters")
            }
            patterns.append(text)
        }
        return patterns
    }

    private static func count(_ value: JSONValue?, _ path: String) throws(PolicyError) -> Int? {
        guard let value else { return nil }
        guard let number = value.numberValue, number >= 0, number.rounded() == number, number < 1e15 else {
            throw PolicyError("\(path) must be a whole number of at least 0")
        }
        return Int(number)
    }

    private static func amount(_ value: JSONValue?, _ path: String) throws(PolicyError) -> Double? {
        guard let value else { return nil }
        guard let number = value.numberValue, number >= 0, number.isFinite else {
            throw PolicyError("\(path) must be a number of at least 0")
        }
        return number
    }
}

public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// How much a sandbox profile isolates, for `rules.sandbox.minimum_profile`. Only Bosun's own
/// profiles are ranked: an operator's custom profile cannot be compared, so a minimum rejects it
/// (fail closed) unless it names that very profile.
public enum SandboxStrength: Int, Sendable, Comparable {
    case trusted = 0
    case `default` = 1
    case strict = 2

    public static let orderedNames = ["trusted", "default", "strict"]

    public init?(profile: String) {
        switch profile {
        case "trusted": self = .trusted
        case "default": self = .default
        case "strict": self = .strict
        default: return nil
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
