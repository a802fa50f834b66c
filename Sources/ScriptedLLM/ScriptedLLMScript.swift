import BosunProtocol
import Foundation

/// What the scripted LLM server answers: a list of replies, taken in file order by the requests
/// they fit, and an optional default for requests no entry is left for.
///
/// The JSON file (`bosun dev llm --script FILE`), keys in snake_case:
/// ```json
/// {"replies": [{"match": {"contains": "weather", "system_contains": "pirate", "model": "openai/gpt-4o-mini",
///                         "format": "openai", "tool": "Bash"},
///               "text": "It is sunny.",
///               "tool_calls": [{"id": "call_1", "name": "Bash", "arguments": {"command": "ls"}},
///                              {"name": "Read", "raw_arguments": "{not json"}],
///               "usage": {"input_tokens": 12, "output_tokens": 7, "cache_read_tokens": 0, "cache_write_tokens": 0},
///               "finish_reason": "stop", "delay_ms": 0, "chunk_delay_ms": 0,
///               "fault": {"status": 429, "retry_after": 1, "truncate": true, "invalid_json": true},
///               "times": 1}],
///  "default": {"text": "..."}}
/// ```
/// Each request takes the first entry (in file order) that has uses left and whose `match` fits;
/// entries without `match` fit every request, so plain entries are answered in order.
public struct ScriptedLLMScript: Codable, Sendable, Hashable {
    public var replies: [Reply]
    /// The answer when no entry is left or fits; without it such a request gets HTTP 500.
    public var `default`: Reply?

    public init(replies: [Reply] = [], default: Reply? = nil) {
        self.replies = replies
        self.default = `default`
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case replies
        case `default`
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        replies = try container.decodeIfPresent([Reply].self, forKey: .replies) ?? []
        self.default = try container.decodeIfPresent(Reply.self, forKey: .default)
    }

    /// One scripted answer.
    public struct Reply: Codable, Sendable, Hashable {
        /// Which requests this entry fits (all given fields must fit); `nil` fits every request.
        public var match: Match?
        public var text: String?
        public var toolCalls: [ToolCall]?
        /// Token counts to report; by default rough counts of request and reply characters / 4.
        public var usage: Usage?
        /// By default `tool_calls` when the reply has tool calls, else `stop`.
        public var finishReason: FinishReason?
        /// Wait before answering (nothing is sent meanwhile).
        public var delayMs: Int?
        /// Streaming only: the pause between two SSE events.
        public var chunkDelayMs: Int?
        public var fault: Fault?
        /// How many requests this entry answers (default 1).
        public var times: Int?

        public init(
            match: Match? = nil, text: String? = nil, toolCalls: [ToolCall]? = nil, usage: Usage? = nil,
            finishReason: FinishReason? = nil, delayMs: Int? = nil, chunkDelayMs: Int? = nil, fault: Fault? = nil,
            times: Int? = nil
        ) {
            self.match = match
            self.text = text
            self.toolCalls = toolCalls
            self.usage = usage
            self.finishReason = finishReason
            self.delayMs = delayMs
            self.chunkDelayMs = chunkDelayMs
            self.fault = fault
            self.times = times
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case match, text, usage, fault, times
            case toolCalls = "tool_calls"
            case finishReason = "finish_reason"
            case delayMs = "delay_ms"
            case chunkDelayMs = "chunk_delay_ms"
        }
    }

    public struct Match: Codable, Sendable, Hashable {
        /// The text of the last message (user text or tool result content) contains this.
        public var contains: String?
        /// The system prompt contains this.
        public var systemContains: String?
        /// The request's model id is exactly this.
        public var model: String?
        public var format: ScriptedLLMFormat?
        /// The request offers a tool with this name.
        public var tool: String?

        public init(
            contains: String? = nil, systemContains: String? = nil, model: String? = nil,
            format: ScriptedLLMFormat? = nil, tool: String? = nil
        ) {
            self.contains = contains
            self.systemContains = systemContains
            self.model = model
            self.format = format
            self.tool = tool
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case contains, model, format, tool
            case systemContains = "system_contains"
        }
    }

    public struct ToolCall: Codable, Sendable, Hashable {
        /// Generated when absent (`call_<n>` for OpenAI, `toolu_<n>` for Anthropic).
        public var id: String?
        public var name: String
        /// The arguments object; `{}` when neither this nor `rawArguments` is given.
        public var arguments: JSONValue?
        /// Sent verbatim as the argument string (OpenAI) or `partial_json` (Anthropic streaming).
        public var rawArguments: String?

        public init(id: String? = nil, name: String, arguments: JSONValue? = nil, rawArguments: String? = nil) {
            self.id = id
            self.name = name
            self.arguments = arguments
            self.rawArguments = rawArguments
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, name, arguments
            case rawArguments = "raw_arguments"
        }
    }

    /// Token counts in Anthropic's sense: `inputTokens` excludes cached input. OpenAI's
    /// `prompt_tokens` is their sum (input + cache read + cache write), `cached_tokens` the cache read.
    public struct Usage: Codable, Sendable, Hashable {
        public var inputTokens: Int?
        public var outputTokens: Int?
        public var cacheReadTokens: Int?
        public var cacheWriteTokens: Int?

        public init(inputTokens: Int? = nil, outputTokens: Int? = nil, cacheReadTokens: Int? = nil, cacheWriteTokens: Int? = nil) {
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.cacheReadTokens = cacheReadTokens
            self.cacheWriteTokens = cacheWriteTokens
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case cacheReadTokens = "cache_read_tokens"
            case cacheWriteTokens = "cache_write_tokens"
        }
    }

    /// Provider-neutral finish reasons, mapped per format.
    public enum FinishReason: String, Codable, Sendable, Hashable, CaseIterable {
        case stop
        case toolCalls = "tool_calls"
        case length
        case contentFilter = "content_filter"
        case pause

        public init(from decoder: any Decoder) throws {
            self = try decodeNamedCase(from: decoder)
        }

        var openAI: String {
            switch self {
            case .stop, .pause: "stop"
            case .toolCalls: "tool_calls"
            case .length: "length"
            case .contentFilter: "content_filter"
            }
        }

        var anthropic: String {
            switch self {
            case .stop: "end_turn"
            case .toolCalls: "tool_use"
            case .length: "max_tokens"
            case .contentFilter: "refusal"
            case .pause: "pause_turn"
            }
        }
    }

    /// A failure instead of (or in the middle of) a normal reply.
    public struct Fault: Codable, Sendable, Hashable {
        /// An HTTP error status (400-599) with a provider-shaped error body.
        public var status: Int?
        /// With `status`: a `Retry-After` header, in seconds.
        public var retryAfter: Int?
        /// Streaming: stop after about half the events and drop the connection (no `[DONE]` /
        /// `message_stop`). Not streaming: announce the whole JSON body, send half, drop the connection.
        public var truncate: Bool?
        /// Streaming: one SSE data line that is not JSON. Not streaming: a 200 body that is not JSON.
        public var invalidJSON: Bool?

        public init(status: Int? = nil, retryAfter: Int? = nil, truncate: Bool? = nil, invalidJSON: Bool? = nil) {
            self.status = status
            self.retryAfter = retryAfter
            self.truncate = truncate
            self.invalidJSON = invalidJSON
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case status, truncate
            case retryAfter = "retry_after"
            case invalidJSON = "invalid_json"
        }
    }
}

/// The two wire formats the server speaks.
public enum ScriptedLLMFormat: String, Codable, Sendable, Hashable, CaseIterable {
    /// OpenAI chat completions, `POST /v1/chat/completions` (also LiteLLM's proxy).
    case openai
    /// Anthropic Messages, `POST /v1/messages`.
    case anthropic

    public init(from decoder: any Decoder) throws {
        self = try decodeNamedCase(from: decoder)
    }
}

/// A string enum whose decoding error lists the values it takes.
func decodeNamedCase<Value: RawRepresentable<String> & CaseIterable>(from decoder: any Decoder) throws -> Value {
    let container = try decoder.singleValueContainer()
    let name = try container.decode(String.self)
    guard let value = Value(rawValue: name) else {
        let names = Value.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(name)\" is not one of \(names)")
    }
    return value
}
