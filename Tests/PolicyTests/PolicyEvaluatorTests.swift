import BosunProtocol
import Foundation
import Policy
import Testing

@Suite struct PolicyEvaluatorTests {
    func policy(_ name: String, _ level: PolicyLevel, _ rules: String) throws -> PolicySnapshot {
        PolicySnapshot(id: UUID(), name: name, level: level, rules: try #require(JSONValue(jsonText: rules)))
    }

    @Test func aDenyAnywhereWinsAndEveryAllowListMustMatch() throws {
        let evaluator = try PolicyEvaluator([
            policy("agent-opens-up", .agent, #"{"tools": {"allow": ["*"]}}"#),
            policy("org", .organization, #"{"tools": {"allow": ["Read", "Bash", "mcp__time__*"], "deny": ["Bash"]}}"#),
            policy("team", .team, #"{"tools": {"require_approval": ["mcp__time__convert*"]}}"#),
        ])
        // The agent's "*" cannot lift the organization's deny or its allow list.
        let bash = evaluator.toolCall("Bash")
        #expect(bash.outcome == .deny)
        #expect(bash.rule == #"tools.deny "Bash""#)
        #expect(bash.policyName == "org")
        let write = evaluator.toolCall("Write")
        #expect(write.outcome == .deny)
        #expect(write.rule == "tools.allow")
        #expect(write.reason.contains("not in the allowed tools"))
        #expect(evaluator.toolCall("Read").outcome == .allow)
        #expect(evaluator.toolCall("mcp__time__get_current_time").outcome == .allow)
        let convert = evaluator.toolCall("mcp__time__convert_time")
        #expect(convert.outcome == .requireApproval)
        #expect(convert.policyName == "team")
        #expect(!evaluator.offers(tool: "Bash"))
        #expect(evaluator.offers(tool: "mcp__time__convert_time"))
        #expect(PolicyEvaluator.none.toolCall("anything").outcome == .allow)
    }

    @Test func modelsAndSandboxMinimums() throws {
        let evaluator = try PolicyEvaluator([
            policy("org", .organization, #"{"models": {"allow": ["anthropic/*", "openai/gpt-4o-mini"]}, "sandbox": {"minimum_profile": "default"}}"#),
        ])
        #expect(evaluator.execution(model: "anthropic/claude-sonnet-4", sandboxProfile: "default").isAllowed)
        #expect(evaluator.execution(model: "openai/gpt-4o-mini", sandboxProfile: "strict").isAllowed)
        let model = evaluator.execution(model: "openai/gpt-4o", sandboxProfile: "default")
        #expect(model.outcome == .deny)
        #expect(model.rule == "models.allow")
        let weak = evaluator.execution(model: "openai/gpt-4o-mini", sandboxProfile: "trusted")
        #expect(weak.outcome == .deny)
        #expect(weak.rule == #"sandbox.minimum_profile "default""#)
        // A custom profile cannot be ranked: denied unless it is the minimum itself.
        #expect(evaluator.execution(model: "openai/gpt-4o-mini", sandboxProfile: "gpu-custom").outcome == .deny)
    }

    @Test func quotasAndTurnLimitsTakeTheStrictestValue() throws {
        let evaluator = try PolicyEvaluator([
            policy("org", .organization, #"{"quotas": {"organization_daily_cost_usd": 10, "execution_tokens": 5000}, "limits": {"max_turns": 8}}"#),
            policy("agent", .agent, #"{"quotas": {"execution_cost_usd": 0.5}, "limits": {"max_turns": 3}}"#),
        ])
        #expect(evaluator.maxTurns?.limit == 3)
        #expect(evaluator.maxTurns?.policy.name == "agent")
        #expect(evaluator.hasOrganizationQuota)
        #expect(evaluator.quotas(execution: .init(tokens: 100, costUSD: 0.1), organizationToday: .init(tokens: 0, costUSD: 2)).isAllowed)
        #expect(evaluator.quotas(execution: .init(tokens: 5000, costUSD: 0.1), organizationToday: nil).rule == "quotas.execution_tokens")
        #expect(evaluator.quotas(execution: .init(tokens: 10, costUSD: 0.5), organizationToday: nil).rule == "quotas.execution_cost_usd")
        let daily = evaluator.quotas(execution: .zero, organizationToday: .init(tokens: 1, costUSD: 10.01))
        #expect(daily.outcome == .deny)
        #expect(daily.rule == "quotas.organization_daily_cost_usd")
    }

    @Test(arguments: [
        (#"{"tool": {"deny": ["Bash"]}}"#, "unknown rule 'rules.tool'"),
        (#"{"tools": {"dney": ["Bash"]}}"#, "unknown rule 'rules.tools.dney'"),
        (#"{"tools": {"deny": "Bash"}}"#, "rules.tools.deny must be an array"),
        (#"{"tools": {"deny": [""]}}"#, "non-empty strings"),
        (#"{"quotas": {"execution_tokens": -1}}"#, "whole number"),
        (#"{"quotas": {"execution_cost_usd": "1"}}"#, "must be a number"),
        (#"{"sandbox": {"minimum_profile": "paranoid"}}"#, "must be one of trusted, default, strict"),
        (#"{"limits": {"max_turns": 0}}"#, "at least 1"),
        (#"[]"#, "rules must be an object"),
    ])
    func badRulesAreRejectedWithTheKeyNamed(rules: String, message: String) throws {
        let json = try #require(JSONValue(jsonText: rules))
        #expect { try PolicyRules(json: json) } throws: { error in
            "\(error)".contains(message)
        }
        // An evaluator with such a policy cannot be built: callers fail closed.
        #expect { try PolicyEvaluator([PolicySnapshot(id: UUID(), name: "broken", level: .agent, rules: json)]) } throws: {
            "\($0)".contains("policy 'broken' cannot be evaluated")
        }
    }

    @Test func decisionsCarryTheirProvenanceForTheAuditLog() throws {
        let id = UUID()
        let evaluator = try PolicyEvaluator([
            PolicySnapshot(id: id, name: "no-shell", level: .environment, rules: ["tools": ["deny": ["Bash"]]]),
        ])
        let json = evaluator.toolCall("Bash").json
        #expect(json["decision"] == "deny")
        #expect(json["policy_id"]?.stringValue == id.uuidString.lowercased())
        #expect(json["policy_name"] == "no-shell")
        #expect(json["evaluator"] == "embedded")
        #expect(PolicyDecision.evaluationFailed("OPA timed out").outcome == .deny)
    }
}
