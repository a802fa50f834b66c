import BosunProtocol
import Foundation

/// The OpenAI chat-completions wire format (`POST /v1/chat/completions`), as LiteLLM serves
/// it for every provider.
public enum OpenAIChatWire: ChatWire {
    public typealias Stream = OpenAIChatStream

    public static let path = "/v1/chat/completions"

    public static func headers(apiKey: String?) -> [(name: String, value: String)] {
        guard let apiKey else { return [] }
        return [("Authorization", "Bearer \(apiKey)")]
    }

    // MARK: Request

    public static func body(for request: ChatRequest, stream: Bool) -> JSONValue {
        var messages: [JSONValue] = []
        if let system = request.system {
            messages.append(["role": "system", "content": .string(system)])
        }
        messages += request.messages.map(encode(message:))

        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "messages": .array(messages),
            "max_tokens": .number(Double(request.maxTokens)),
        ]
        if let temperature = request.temperature { body["temperature"] = .number(temperature) }
        if !request.tools.isEmpty {
            body["tools"] = .array(
                request.tools.map { tool in
                    [
                        "type": "function",
                        "function": [
                            "name": .string(tool.name),
                            "description": .string(tool.description),
                            "parameters": tool.inputSchema,
                        ],
                    ]
                })
            // OpenAI rejects `parallel_tool_calls` on a request without tools (400).
            if let parallel = request.parallelToolCalls { body["parallel_tool_calls"] = .bool(parallel) }
        }
        if let schema = request.responseSchema {
            body["response_format"] = [
                "type": "json_schema",
                "json_schema": [
                    "name": .string(schema.name),
                    "schema": schema.schema,
                    "strict": .bool(schema.strict),
                ],
            ]
        }
        if stream {
            body["stream"] = true
            // Without this a stream carries no token counts at all.
            body["stream_options"] = ["include_usage": true]
        }
        return .object(body)
    }

    static func encode(message: ChatMessage) -> JSONValue {
        switch message.role {
        case .user:
            return ["role": "user", "content": .string(message.text ?? "")]
        case .assistant:
            var object: [String: JSONValue] = ["role": "assistant"]
            if message.toolCalls.isEmpty {
                object["content"] = .string(message.text ?? "")
            } else {
                // An assistant turn that only called tools has `content: null`.
                object["content"] = message.text.map(JSONValue.string) ?? .null
                object["tool_calls"] = .array(
                    message.toolCalls.map { call in
                        [
                            "id": .string(call.id),
                            "type": "function",
                            "function": [
                                "name": .string(call.name),
                                // A JSON *string*, as OpenAI sends it.
                                "arguments": .string(WireJSON.encodeToString(call.arguments)),
                            ],
                        ]
                    })
            }
            return .object(object)
        case .tool:
            // OpenAI has no error flag on tool results; the text itself has to say it failed.
            return [
                "role": "tool",
                "tool_call_id": .string(message.toolCallId ?? ""),
                "content": .string(message.text ?? ""),
            ]
        }
    }

    // MARK: Reply

    public static func decodeReply(_ data: Data) throws -> ChatReply {
        let json = try WireJSON.decode(data, what: "the chat-completions reply")
        if let error = ProviderErrorBody(json), json["choices"] == nil {
            throw LLMError(
                .providerError, "the gateway answered with an error body", providerMessage: error.summary,
                retryable: error.isRetryable)
        }
        guard let choice = json["choices"]?.arrayValue?.first, let message = choice["message"]?.objectValue else {
            throw LLMError(
                .malformedResponse, "the chat-completions reply has no choices[0].message: \(WireJSON.prefix(of: data))")
        }
        let toolCalls = (message["tool_calls"]?.arrayValue ?? []).enumerated().map { index, call in
            ChatToolCall(
                id: call["id"]?.stringValue ?? "call_\(index)",
                name: call["function"]?["name"]?.stringValue ?? "",
                rawArguments: call["function"]?["arguments"]?.stringValue ?? "")
        }
        var text = message["content"]?.stringValue
        if text == nil, let refusal = message["refusal"]?.stringValue { text = refusal }
        let raw = choice["finish_reason"]?.stringValue
        return ChatReply(
            message: ChatMessage(role: .assistant, text: text, toolCalls: toolCalls),
            finishReason: finishReason(raw, hasToolCalls: !toolCalls.isEmpty),
            rawFinishReason: raw,
            usage: usage(json["usage"]))
    }

    static func finishReason(_ raw: String?, hasToolCalls: Bool) -> FinishReason {
        switch raw {
        case "stop": .stop
        case "length": .length
        case "tool_calls", "function_call": .toolCalls
        case "content_filter": .contentFilter
        default: hasToolCalls ? .toolCalls : .stop
        }
    }

    /// OpenAI's `prompt_tokens` include the cached ones; `Usage.inputTokens` does not.
    /// `cache_creation_input_tokens` is LiteLLM's addition for providers that bill cache
    /// writes (Anthropic behind the OpenAI format); LiteLLM does not count it in `prompt_tokens`.
    static func usage(_ json: JSONValue?) -> Usage {
        guard let json, json.objectValue != nil else { return Usage() }
        let prompt = json["prompt_tokens"]?.intValue ?? 0
        let cached = json["prompt_tokens_details"]?["cached_tokens"]?.intValue
            ?? json["cache_read_input_tokens"]?.intValue ?? 0
        return Usage(
            inputTokens: max(prompt - cached, 0),
            outputTokens: json["completion_tokens"]?.intValue ?? 0,
            cacheReadTokens: cached,
            cacheWriteTokens: json["cache_creation_input_tokens"]?.intValue ?? 0)
    }
}
