import Foundation

/// Token counts of one turn, as the LLM gateway reported them.
public struct Usage: Codable, Sendable, Equatable {
    public var inputTokens: Int
    public var outputTokens: Int
    public var cacheReadTokens: Int
    public var cacheWriteTokens: Int

    public init(inputTokens: Int = 0, outputTokens: Int = 0, cacheReadTokens: Int = 0, cacheWriteTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
    }

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheReadTokens = "cache_read_tokens"
        case cacheWriteTokens = "cache_write_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.inputTokens = try c.decodeIfPresent(Int.self, forKey: .inputTokens) ?? 0
        self.outputTokens = try c.decodeIfPresent(Int.self, forKey: .outputTokens) ?? 0
        self.cacheReadTokens = try c.decodeIfPresent(Int.self, forKey: .cacheReadTokens) ?? 0
        self.cacheWriteTokens = try c.decodeIfPresent(Int.self, forKey: .cacheWriteTokens) ?? 0
    }
}

public struct TurnTimings: Codable, Sendable, Equatable {
    public var startedAt: Date?
    public var durationMs: Double?
    public var timeToFirstTokenMs: Double?

    public init(startedAt: Date? = nil, durationMs: Double? = nil, timeToFirstTokenMs: Double? = nil) {
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.timeToFirstTokenMs = timeToFirstTokenMs
    }

    enum CodingKeys: String, CodingKey {
        case startedAt = "started_at"
        case durationMs = "duration_ms"
        case timeToFirstTokenMs = "time_to_first_token_ms"
    }
}

/// One tool call of a turn: the ledger entry that lets a retried turn replay instead of re-running.
public struct ToolCallRecord: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var arguments: JSONValue
    /// `nil` while the call has no result yet (the model asked for it; nobody ran it).
    public var result: JSONValue?
    public var isError: Bool?
    public var durationMs: Double?

    public init(
        id: String, name: String, arguments: JSONValue, result: JSONValue? = nil, isError: Bool? = nil,
        durationMs: Double? = nil
    ) {
        self.id = id
        self.name = name
        self.arguments = arguments
        self.result = result
        self.isError = isError
        self.durationMs = durationMs
    }

    enum CodingKeys: String, CodingKey {
        case id, name, arguments, result
        case isError = "is_error"
        case durationMs = "duration_ms"
    }
}

/// Why a turn's model call stopped, normalised across the OpenAI and Anthropic wire formats.
public enum FinishReason: String, Codable, Sendable, CaseIterable {
    /// The model gave its answer (`stop`, `end_turn`).
    case stop
    /// The model asked for tools that the turn did not run (`tool_calls`, `tool_use`).
    case toolCalls = "tool_calls"
    /// The output hit its token limit (`length`, `max_tokens`).
    case length
    case contentFilter = "content_filter"
    /// The provider paused a long turn (`pause_turn`); the next turn continues it.
    case pause
    case cancelled
    case error
}

/// The outcome of one turn, stored append-only and fed to the state decision.
public struct TurnResult: Codable, Sendable, Equatable {
    /// Messages this turn added to the conversation (assistant and tool messages), in order.
    public var messages: [JSONValue]
    public var toolCalls: [ToolCallRecord]
    public var usage: Usage
    public var costUsd: Double
    public var finishReason: FinishReason
    /// The final text answer, when the turn produced one.
    public var output: String?
    /// Set by a runtime when the agent explicitly asked the user something and needs a reply.
    public var requestsInput: Bool
    public var error: String?
    public var model: String?
    public var timings: TurnTimings?

    public init(
        messages: [JSONValue] = [], toolCalls: [ToolCallRecord] = [], usage: Usage = Usage(), costUsd: Double = 0,
        finishReason: FinishReason, output: String? = nil, requestsInput: Bool = false, error: String? = nil,
        model: String? = nil, timings: TurnTimings? = nil
    ) {
        self.messages = messages
        self.toolCalls = toolCalls
        self.usage = usage
        self.costUsd = costUsd
        self.finishReason = finishReason
        self.output = output
        self.requestsInput = requestsInput
        self.error = error
        self.model = model
        self.timings = timings
    }

    enum CodingKeys: String, CodingKey {
        case messages
        case toolCalls = "tool_calls"
        case usage
        case costUsd = "cost_usd"
        case finishReason = "finish_reason"
        case output
        case requestsInput = "requests_input"
        case error, model, timings
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.messages = try c.decodeIfPresent([JSONValue].self, forKey: .messages) ?? []
        self.toolCalls = try c.decodeIfPresent([ToolCallRecord].self, forKey: .toolCalls) ?? []
        self.usage = try c.decodeIfPresent(Usage.self, forKey: .usage) ?? Usage()
        self.costUsd = try c.decodeIfPresent(Double.self, forKey: .costUsd) ?? 0
        self.finishReason = try c.decode(FinishReason.self, forKey: .finishReason)
        self.output = try c.decodeIfPresent(String.self, forKey: .output)
        self.requestsInput = try c.decodeIfPresent(Bool.self, forKey: .requestsInput) ?? false
        self.error = try c.decodeIfPresent(String.self, forKey: .error)
        self.model = try c.decodeIfPresent(String.self, forKey: .model)
        self.timings = try c.decodeIfPresent(TurnTimings.self, forKey: .timings)
    }
}

/// `POST /api/v1/tasks/{id}/complete`: idempotent on (task, lease).
/// `events` are the attempt's last events, stored in the completion's transaction before the
/// turn (as a batch to `/events` would be, deduplicated by `seq`), which saves the worker a
/// request per turn. Optional: a completion without it stores only the turn.
public struct CompleteTaskRequest: Codable, Sendable, Equatable {
    public var leaseId: UUID
    public var result: TurnResult
    public var events: [TaskEvent]?

    public init(leaseId: UUID, result: TurnResult, events: [TaskEvent]? = nil) {
        self.leaseId = leaseId
        self.result = result
        self.events = events
    }

    enum CodingKeys: String, CodingKey {
        case leaseId = "lease_id"
        case result
        case events
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(leaseId, forKey: .leaseId)
        try c.encode(result, forKey: .result)
        if let events, !events.isEmpty { try c.encode(events, forKey: .events) }
    }
}

public struct CompleteTaskResponse: Codable, Sendable, Equatable {
    public var executionStatus: ExecutionStatus
    /// The state decision taken after this turn.
    public var decision: String
    /// `true` when this completion had already been recorded (a resent request).
    public var duplicate: Bool

    public init(executionStatus: ExecutionStatus, decision: String, duplicate: Bool) {
        self.executionStatus = executionStatus
        self.decision = decision
        self.duplicate = duplicate
    }

    enum CodingKeys: String, CodingKey {
        case executionStatus = "execution_status"
        case decision, duplicate
    }
}
