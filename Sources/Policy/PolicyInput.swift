import BosunProtocol
import Foundation

/// The input document of a policy decision: what the audit log stores with each decision and
/// what an external OPA server receives as `input`, the same for both.
public enum PolicyInput {
    public static func execution(
        organization: UUID, principal: String, agent: AgentSpec, queue: UUID, environment: UUID?, teams: [UUID],
        organizationToday: PolicyEvaluator.Usage?
    ) -> JSONValue {
        var document: [String: JSONValue] = [
            "action": "execution.create",
            "organization_id": .string(organization.uuidString.lowercased()),
            "principal": .string(principal),
            "agent": agentDocument(agent),
            "queue_id": .string(queue.uuidString.lowercased()),
            "environment_id": environment.map { .string($0.uuidString.lowercased()) } ?? .null,
            "team_ids": .array(teams.map { .string($0.uuidString.lowercased()) }),
        ]
        if let today = organizationToday { document["organization_today"] = usageDocument(today) }
        return .object(document)
    }

    public static func toolCall(
        tool: String, arguments: JSONValue, execution: UUID, turn: Int, agent: AgentSpec
    ) -> JSONValue {
        [
            "action": "tool.call",
            "tool": ["name": .string(tool), "arguments": arguments],
            "execution_id": .string(execution.uuidString.lowercased()),
            "turn": .number(Double(turn)),
            "agent": agentDocument(agent),
        ]
    }

    /// Before a model call inside a turn: the execution's usage includes the turn's so far.
    public static func modelCall(
        model: String, execution: UUID, turn: Int, agent: AgentSpec, executionUsage: PolicyEvaluator.Usage,
        turnUsage: PolicyEvaluator.Usage, organizationToday: PolicyEvaluator.Usage?
    ) -> JSONValue {
        var document: [String: JSONValue] = [
            "action": "model.call",
            "model": .string(model),
            "execution_id": .string(execution.uuidString.lowercased()),
            "turn": .number(Double(turn)),
            "agent": agentDocument(agent),
            "execution_usage": usageDocument(executionUsage),
            "turn_usage": usageDocument(turnUsage),
        ]
        if let today = organizationToday { document["organization_today"] = usageDocument(today) }
        return .object(document)
    }

    static func usageDocument(_ usage: PolicyEvaluator.Usage) -> JSONValue {
        ["tokens": .number(Double(usage.tokens)), "cost_usd": .number(usage.costUSD)]
    }

    static func agentDocument(_ agent: AgentSpec) -> JSONValue {
        [
            "id": .string(agent.id.uuidString.lowercased()),
            "name": .string(agent.name),
            "runtime": .string(agent.runtime),
            "model": .string(agent.model),
            "sandbox_profile": .string(agent.sandboxProfile),
            "tools": .array(agent.tools),
            "mcp_servers": .array(agent.mcpServers.keys.sorted().map { .string($0) }),
            "limits": .object(agent.limits),
        ]
    }
}
