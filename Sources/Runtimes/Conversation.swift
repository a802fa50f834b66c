import BosunProtocol
import Foundation
import LLM

/// The conversation a turn starts from: earlier turns (from the control plane, so any worker
/// can resume an execution), this turn's input, and what earlier attempts of this same turn
/// recorded in the tool ledger.
public struct Conversation: Sendable, Equatable {
    /// Everything the model sees, oldest first.
    public private(set) var messages: [ChatMessage]
    /// How many of `messages` came from this turn's ledger (replayed, not re-run).
    public let replayedCount: Int
    /// What the replayed model replies cost: they count against this turn's limits and usage.
    public let replayedUsage: Usage
    public let replayedCostUsd: Double
    public let replayedModelCalls: Int
    /// Where this turn's own messages start (after history and input).
    public let turnStart: Int

    /// - Parameter historyTurns: how many earlier turns to include (Agno's `num_history_runs`); `nil` is all.
    public init(assignment: TaskAssignment, historyTurns: Int? = nil) throws {
        var messages: [ChatMessage] = []
        let history = historyTurns.map { Array(assignment.history.suffix(max($0, 0))) } ?? assignment.history
        for turn in history {
            if let input = Self.inputText(turn.input) { messages.append(.user(input)) }
            for stored in turn.messages {
                messages.append(try Self.decode(stored, what: "turn \(turn.turn)'s messages"))
            }
        }
        messages = Self.droppingOrphanedToolResults(messages)
        if let input = Self.inputText(assignment.input) { messages.append(.user(input)) }
        turnStart = messages.count
        var usage = Usage()
        var cost = 0.0
        var calls = 0
        for entry in assignment.ledger {
            let message = try Self.decode(entry["message"] ?? .null, what: "the tool ledger")
            messages.append(message)
            if let spent = entry["usage"], let counted = try? JSONValue.decode(Usage.self, from: spent) {
                usage.inputTokens += counted.inputTokens
                usage.outputTokens += counted.outputTokens
                usage.cacheReadTokens += counted.cacheReadTokens
                usage.cacheWriteTokens += counted.cacheWriteTokens
                cost += entry["cost_usd"]?.numberValue ?? 0
                calls += 1
            } else if message.role == .assistant {
                calls += 1
            }
        }
        replayedCount = assignment.ledger.count
        replayedUsage = usage
        replayedCostUsd = cost
        replayedModelCalls = calls
        self.messages = messages
    }

    public mutating func append(_ message: ChatMessage) { messages.append(message) }

    /// This turn's own messages (replayed and new): what the turn result stores.
    public var turnMessages: [ChatMessage] { Array(messages[min(turnStart, messages.count)...]) }

    /// This turn's tool calls with their results (truncated), for the turn record and its analytics.
    public var turnToolCalls: [ToolCallRecord] {
        let messages = turnMessages
        var results: [String: ChatMessage] = [:]
        for message in messages where message.role == .tool {
            if let id = message.toolCallId { results[id] = message }
        }
        return messages.flatMap { message in
            message.toolCalls.map { call in
                let result = results[call.id]
                return ToolCallRecord(
                    id: call.id, name: call.name, arguments: call.arguments,
                    result: result.map { .string(String(($0.text ?? "").prefix(4000))) }, isError: result?.isError)
            }
        }
    }

    /// Tool calls of the last assistant message that have no result yet: on a retried attempt,
    /// the calls the previous attempt did not finish (or never started).
    public var pendingToolCalls: [ChatToolCall] {
        guard let index = messages.lastIndex(where: { $0.role == .assistant }) else { return [] }
        let answered = Set(messages[(index + 1)...].compactMap { $0.role == .tool ? $0.toolCallId : nil })
        return messages[index].toolCalls.filter { !answered.contains($0.id) }
    }

    /// The final answer a replayed attempt already produced (the worker died after the model
    /// answered but before the turn was completed): no need to ask again.
    public var replayedAnswer: ChatMessage? {
        guard replayedCount > 0, let last = messages.last, last.role == .assistant, last.toolCalls.isEmpty else {
            return nil
        }
        return last
    }

    /// User input as text: a string stays as it is; other JSON is sent as JSON text.
    static func inputText(_ input: JSONValue) -> String? {
        switch input {
        case .null: nil
        case .string(let text): text
        default:
            input["text"]?.stringValue ?? input["content"]?.stringValue ?? input.jsonString
        }
    }

    static func decode(_ value: JSONValue, what: String) throws -> ChatMessage {
        do {
            return try JSONValue.decode(ChatMessage.self, from: value)
        } catch {
            throw TurnFailure("\(what) hold a message this runtime cannot read: \(value.jsonString.prefix(200))", retryable: false)
        }
    }

    /// Providers refuse a tool result whose call is not in the conversation (a history cut by
    /// `historyTurns` can start with one); such results are dropped.
    static func droppingOrphanedToolResults(_ messages: [ChatMessage]) -> [ChatMessage] {
        var known = Set<String>()
        var kept: [ChatMessage] = []
        for message in messages {
            if message.role == .assistant { known.formUnion(message.toolCalls.map(\.id)) }
            if message.role == .tool, let id = message.toolCallId, !known.contains(id) { continue }
            kept.append(message)
        }
        return kept
    }
}

extension ChatMessage {
    /// The neutral message as stored in turns and ledger events.
    public var jsonValue: JSONValue { (try? JSONValue(encoding: self)) ?? .null }
}
