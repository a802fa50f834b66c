import BosunProtocol
import Foundation
import LLM

/// The per-agent knobs the runtimes read from `limits` and `settings`, checked once per turn
/// with clear errors (a bad value fails the turn for good: retrying cannot fix it).
public struct AgentOptions: Sendable, Equatable {
    /// Model calls within one turn (Agno's loop iterations; Claude Code's `max_turns`).
    public var maxIterations: Int
    /// Tool calls within one turn; calls past it get an error result (Agno's `tool_call_limit`).
    public var toolCallLimit: Int?
    /// Earlier turns the model sees (Agno's `num_history_runs`); `nil` is all.
    public var historyTurns: Int?
    public var maxTokens: Int
    /// Stop once the turn's cost reaches this (Claude Code's `max_budget_usd`).
    public var maxBudgetUsd: Double?
    /// Structured output (agno): the final answer must be JSON matching this schema.
    public var outputSchema: JSONValue?
    /// Tools the agent may use, by name; empty means the runtime's defaults.
    public var toolNames: [String]

    public init(agent: AgentSpec, defaultIterations: Int, iterationLimitKey: String, defaultHistoryTurns: Int?) throws {
        func count(_ key: String) throws -> Int? {
            guard let value = agent.limits[key] else { return nil }
            guard let number = value.numberValue, number >= 1, number.rounded() == number else {
                throw TurnFailure("limit '\(key)' must be a whole number of at least 1", retryable: false)
            }
            return Int(number)
        }
        maxIterations = try count(iterationLimitKey) ?? defaultIterations
        toolCallLimit = try count("tool_call_limit")
        historyTurns = try count("history_runs") ?? defaultHistoryTurns
        maxTokens = try count("max_tokens") ?? 4096
        if let budget = agent.limits["max_budget_usd"] {
            guard let value = budget.numberValue, value > 0 else {
                throw TurnFailure("limit 'max_budget_usd' must be a positive number", retryable: false)
            }
            maxBudgetUsd = value
        }
        outputSchema = agent.settings["output_schema"]
        toolNames = try agent.tools.map { entry in
            if let name = entry.stringValue ?? entry["name"]?.stringValue, !name.isEmpty { return name }
            throw TurnFailure("agent tool \(entry.jsonString) needs a name", retryable: false)
        }
    }
}
