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
    ///
    /// Tool results and replies that ask for tool calls are stored before this returns: the
    /// calls about to run have side effects, and an interrupted attempt's calls get their
    /// "may or may not have run" results from the stored reply. A reply without tool calls (the
    /// turn's answer) is only queued: nothing runs after it, and it reaches the control API with
    /// the next flush or, at the latest, inside the completion (`CompleteTaskRequest.events`).
    /// Waiting for it cost every turn a request and a commit; a worker that dies in the
    /// flush interval after the answer leaves a retry that asks the model again.
    public func record(_ message: ChatMessage, reply: ChatResponse? = nil) async throws {
        var entry: [String: JSONValue] = ["message": message.jsonValue]
        if let reply {
            entry["usage"] = (try? JSONValue(encoding: reply.usage)) ?? .null
            entry["cost_usd"] = .number(reply.costUsd)
            entry["model"] = .string(reply.model)
            if message.toolCalls.isEmpty {
                await events.emit(LedgerEvent.type, .object(entry))
                return
            }
        }
        try await events.record(LedgerEvent.type, .object(entry))
    }
}
