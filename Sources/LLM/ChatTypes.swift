import BosunProtocol
import Foundation

/// Provider-neutral conversation types. Runtimes build conversations from these; the gateway
/// client maps them onto the OpenAI chat-completions or Anthropic Messages wire format, so a
/// stored conversation (turn messages in the control plane) does not depend on the provider.

public enum ChatRole: String, Codable, Sendable {
    case user
    case assistant
    /// The result of one tool call (OpenAI `role: tool`; an Anthropic `tool_result` block).
    case tool
}

/// A tool call the model asked for.
public struct ChatToolCall: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// The parsed arguments; `.object([:])` when they could not be parsed (see `argumentsError`).
    public var arguments: JSONValue
    /// Set when the model's arguments were not a JSON object: the runtime answers the call with
    /// an error tool result instead of running it.
    public var argumentsError: String?

    public init(id: String, name: String, arguments: JSONValue, argumentsError: String? = nil) {
        self.id = id
        self.name = name
        self.arguments = arguments
        self.argumentsError = argumentsError
    }

    enum CodingKeys: String, CodingKey {
        case id, name, arguments
        case argumentsError = "arguments_error"
    }
}

/// One message of a conversation. `system` instructions travel separately in `ChatRequest`.
public struct ChatMessage: Codable, Sendable, Equatable {
    public var role: ChatRole
    /// User or assistant text; for `.tool`, the tool result as text.
    public var text: String?
    /// Assistant messages only.
    public var toolCalls: [ChatToolCall]
    /// `.tool` messages only.
    public var toolCallId: String?
    public var toolName: String?
    public var isError: Bool?

    public init(
        role: ChatRole, text: String? = nil, toolCalls: [ChatToolCall] = [], toolCallId: String? = nil,
        toolName: String? = nil, isError: Bool? = nil
    ) {
        self.role = role
        self.text = text
        self.toolCalls = toolCalls
        self.toolCallId = toolCallId
        self.toolName = toolName
        self.isError = isError
    }

    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, text: text) }

    public static func toolResult(id: String, name: String, text: String, isError: Bool = false) -> ChatMessage {
        ChatMessage(role: .tool, text: text, toolCallId: id, toolName: name, isError: isError)
    }

    enum CodingKeys: String, CodingKey {
        case role, text
        case toolCalls = "tool_calls"
        case toolCallId = "tool_call_id"
        case toolName = "tool_name"
        case isError = "is_error"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.role = try c.decode(ChatRole.self, forKey: .role)
        self.text = try c.decodeIfPresent(String.self, forKey: .text)
        self.toolCalls = try c.decodeIfPresent([ChatToolCall].self, forKey: .toolCalls) ?? []
        self.toolCallId = try c.decodeIfPresent(String.self, forKey: .toolCallId)
        self.toolName = try c.decodeIfPresent(String.self, forKey: .toolName)
        self.isError = try c.decodeIfPresent(Bool.self, forKey: .isError)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encodeIfPresent(text, forKey: .text)
        if !toolCalls.isEmpty { try c.encode(toolCalls, forKey: .toolCalls) }
        try c.encodeIfPresent(toolCallId, forKey: .toolCallId)
        try c.encodeIfPresent(toolName, forKey: .toolName)
        try c.encodeIfPresent(isError, forKey: .isError)
    }
}

/// A tool the model may call. Names must match `^[a-zA-Z0-9_-]{1,64}$` for both providers.
public struct ToolSpec: Codable, Sendable, Equatable {
    public var name: String
    public var description: String
    /// JSON Schema of the arguments object.
    public var inputSchema: JSONValue

    public init(name: String, description: String, inputSchema: JSONValue) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
    }

    enum CodingKeys: String, CodingKey {
        case name, description
        case inputSchema = "input_schema"
    }
}

/// Structured output: the answer must be JSON matching `schema`.
public struct ResponseSchema: Sendable, Equatable {
    public var name: String
    public var schema: JSONValue
    public var strict: Bool

    public init(name: String, schema: JSONValue, strict: Bool = true) {
        self.name = name
        self.schema = schema
        self.strict = strict
    }
}

public enum WireFormat: String, Sendable, Codable {
    /// `POST {base}/v1/chat/completions`
    case openAI = "openai"
    /// `POST {base}/v1/messages`
    case anthropic
}

public struct ChatRequest: Sendable, Equatable {
    /// `provider/model`, as LiteLLM names models; sent unchanged.
    public var model: String
    public var system: String?
    public var messages: [ChatMessage]
    public var tools: [ToolSpec]
    public var maxTokens: Int
    public var temperature: Double?
    public var parallelToolCalls: Bool?
    public var responseSchema: ResponseSchema?

    public init(
        model: String, system: String? = nil, messages: [ChatMessage], tools: [ToolSpec] = [], maxTokens: Int = 4096,
        temperature: Double? = nil, parallelToolCalls: Bool? = nil, responseSchema: ResponseSchema? = nil
    ) {
        self.model = model
        self.system = system
        self.messages = messages
        self.tools = tools
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.parallelToolCalls = parallelToolCalls
        self.responseSchema = responseSchema
    }
}

/// An incremental piece of a streamed reply, delivered as it arrives.
public enum ChatDelta: Sendable, Equatable {
    case text(String)
    /// A tool call began (its id and name are known; arguments follow).
    case toolCallStarted(id: String, name: String)
}

public struct ChatResponse: Sendable, Equatable {
    /// The assistant message (text and/or tool calls).
    public var message: ChatMessage
    public var finishReason: FinishReason
    /// The provider's own stop reason, as sent (`stop`, `tool_calls`, `end_turn`, ...).
    public var rawFinishReason: String?
    public var usage: Usage
    /// The model that answered (a fallback model when the primary one failed).
    public var model: String
    /// From the pricing table; 0 when the model has no price.
    public var costUsd: Double
    public var timeToFirstTokenMs: Double?
    public var durationMs: Double
    /// HTTP attempts this response took, across retries and fallbacks (1 when the first worked).
    public var attempts: Int

    public init(
        message: ChatMessage, finishReason: FinishReason, rawFinishReason: String?, usage: Usage, model: String,
        costUsd: Double, timeToFirstTokenMs: Double?, durationMs: Double, attempts: Int
    ) {
        self.message = message
        self.finishReason = finishReason
        self.rawFinishReason = rawFinishReason
        self.usage = usage
        self.model = model
        self.costUsd = costUsd
        self.timeToFirstTokenMs = timeToFirstTokenMs
        self.durationMs = durationMs
        self.attempts = attempts
    }
}
