import BosunProtocol
import Foundation
import LLM

/// The tool ledger of one attempt: every message the turn adds to the conversation (the
/// model's replies with their tool calls, each tool result) is stored as a `ledger` event the
/// moment it exists, and the turn waits until the control API has it. A retried attempt gets
/// these messages back (`TaskAssignment.ledger`) and replays them instead of running the tools
/// again, so a tool's side effect happens once even when a worker dies between two calls.
public struct TurnLedger: Sendable {
    let events: any TurnEventSink

    public init(events: any TurnEventSink) {
        self.events = events
    }

    /// Records a message; a model reply also records what it cost, so a retried attempt counts
    /// it against the turn's limits and reports it in the turn's usage.
    public func record(_ message: ChatMessage, reply: ChatResponse? = nil) async throws {
        var entry: [String: JSONValue] = ["message": message.jsonValue]
        if let reply {
            entry["usage"] = (try? JSONValue(encoding: reply.usage)) ?? .null
            entry["cost_usd"] = .number(reply.costUsd)
            entry["model"] = .string(reply.model)
        }
        try await events.record(LedgerEvent.type, .object(entry))
    }
}
