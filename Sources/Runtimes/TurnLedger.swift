import BosunProtocol
import Foundation
import LLM

/// The tool ledger of one attempt: every message the turn adds to the conversation (the
/// model's replies with their tool calls, each tool result) is stored as a `ledger` event the
/// moment it exists, and the turn waits until the control API has it. A retried attempt gets
/// these messages back (`TaskAssignment.ledger`) and replays them instead of running the tools
/// again, so a tool's side effect happens once even when a worker dies between two calls.
public struct TurnLedger: Sendable {
    public static let eventType = "ledger"
    let events: any TurnEventSink

    public init(events: any TurnEventSink) {
        self.events = events
    }

    public func record(_ message: ChatMessage) async throws {
        try await events.record(Self.eventType, ["message": message.jsonValue])
    }
}
