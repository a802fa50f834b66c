import BosunProtocol
import Foundation

/// The Anthropic Messages wire format (`POST /v1/messages`), as Anthropic and LiteLLM serve it.
public enum AnthropicMessagesWire: ChatWire {
    public typealias Stream = AnthropicMessagesStream

    public static let path = "/v1/messages"
    public static let apiVersion = "2023-06-01"

    /// Anthropic reads `x-api-key`; LiteLLM's proxy accepts that or a bearer token, so both go.
    public static func headers(apiKey: String?) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("anthropic-version", apiVersion)]
        if let apiKey {
            headers.append(("x-api-key", apiKey))
            headers.append(("Authorization", "Bearer \(apiKey)"))
        }
        return headers
    }

    // MARK: Request

    public static func body(for request: ChatRequest, stream: Bool) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "messages": .array(messages(request.messages)),
            // Required by Anthropic.
            "max_tokens": .number(Double(request.maxTokens)),
        ]
        if let system = system(for: request) { body["system"] = .string(system) }
        if let temperature = request.temperature { body["temperature"] = .number(temperature) }
        if !request.tools.isEmpty {
            body["tools"] = .array(
                request.tools.map { tool in
                    [
                        "name": .string(tool.name),
                        "description": .string(tool.description),
                        "input_schema": tool.inputSchema,
                    ]
                })
            // Anthropic's spelling of `parallel_tool_calls: false`.
            if request.parallelToolCalls == false {
                body["tool_choice"] = ["type": "auto", "disable_parallel_tool_use": true]
            }
        }
        if stream { body["stream"] = true }
        return .object(body)
    }

    /// The system prompt, plus the structured-output instruction when a schema is asked for.
    ///
    /// The Messages API has no `response_format`: the way to get JSON is to ask for it. The
    /// instruction goes in the system prompt (not the last user message) so it holds for every
    /// turn of the conversation and leaves the stored messages untouched. The runtime still
    /// validates the answer against the schema; this only makes a valid answer likely.
    static func system(for request: ChatRequest) -> String? {
        guard let schema = request.responseSchema else { return request.system }
        let instruction = """
            Answer with only a JSON value that matches the JSON Schema below (named \
            "\(schema.name)"): no prose before or after it and no Markdown code fence.
            \(WireJSON.encodeToString(schema.schema))
            """
        guard let system = request.system, !system.isEmpty else { return instruction }
        return system + "\n\n" + instruction
    }

    /// Maps the conversation onto alternating user/assistant messages of content blocks.
    ///
    /// Tool results are `tool_result` blocks of a *user* message, so consecutive `.tool`
    /// messages (and a user message next to them) become one user message: Anthropic rejects
    /// two messages of the same role in a row.
    static func messages(_ conversation: [ChatMessage]) -> [JSONValue] {
        var merged: [(role: String, blocks: [JSONValue])] = []
        for message in conversation {
            let role = message.role == .assistant ? "assistant" : "user"
            let blocks = contentBlocks(message)
            // An empty text block is rejected; a message with nothing in it is dropped.
            if blocks.isEmpty { continue }
            if let last = merged.last, last.role == role {
                merged[merged.count - 1].blocks += blocks
            } else {
                merged.append((role, blocks))
            }
        }
        return merged.map { role, blocks in
            // Anthropic wants a user message's tool results before any text in it.
            let results = blocks.filter { $0["type"] == "tool_result" }
            let others = blocks.filter { $0["type"] != "tool_result" }
            return ["role": .string(role), "content": .array(results + others)]
        }
    }

    static func contentBlocks(_ message: ChatMessage) -> [JSONValue] {
        switch message.role {
        case .user:
            return textBlock(message.text).map { [$0] } ?? []
        case .assistant:
            var blocks = textBlock(message.text).map { [$0] } ?? []
            for call in message.toolCalls {
                blocks.append([
                    "type": "tool_use",
                    "id": .string(call.id),
                    "name": .string(call.name),
                    "input": call.arguments.objectValue == nil ? .object([:]) : call.arguments,
                ])
            }
            return blocks
        case .tool:
            var block: [String: JSONValue] = [
                "type": "tool_result",
                "tool_use_id": .string(message.toolCallId ?? ""),
                "content": .string(message.text ?? ""),
            ]
            if let isError = message.isError { block["is_error"] = .bool(isError) }
            return [.object(block)]
        }
    }

    private static func textBlock(_ text: String?) -> JSONValue? {
        guard let text, !text.isEmpty else { return nil }
        return ["type": "text", "text": .string(text)]
    }

    // MARK: Reply

    public static func decodeReply(_ data: Data) throws -> ChatReply {
        let json = try WireJSON.decode(data, what: "the messages reply")
        if json["type"] == "error" || (json["content"] == nil && json["error"] != nil) {
            let error = ProviderErrorBody(json) ?? ProviderErrorBody(message: WireJSON.prefix(of: data))
            throw LLMError(
                .providerError, "the gateway answered with an error body", providerMessage: error.summary,
                retryable: error.isRetryable)
        }
        guard let content = json["content"]?.arrayValue else {
            throw LLMError(.malformedResponse, "the messages reply has no content array: \(WireJSON.prefix(of: data))")
        }
        var text: String?
        var toolCalls: [ChatToolCall] = []
        for block in content {
            switch block["type"]?.stringValue {
            case "text":
                text = (text ?? "") + (block["text"]?.stringValue ?? "")
            case "tool_use":
                let input = block["input"] ?? .object([:])
                var call = ChatToolCall(
                    id: block["id"]?.stringValue ?? "toolu_\(toolCalls.count)",
                    name: block["name"]?.stringValue ?? "", arguments: .object([:]))
                if input.objectValue != nil {
                    call.arguments = input
                } else {
                    call.argumentsError =
                        "the input of tool call '\(call.name)' must be a JSON object, got \(input.kindName)"
                }
                toolCalls.append(call)
            default:
                break  // `thinking`, `redacted_thinking` and server-tool blocks are not part of the answer.
            }
        }
        let raw = json["stop_reason"]?.stringValue
        return ChatReply(
            message: ChatMessage(role: .assistant, text: text, toolCalls: toolCalls),
            finishReason: finishReason(raw, hasToolCalls: !toolCalls.isEmpty),
            rawFinishReason: raw,
            usage: usage(json["usage"]))
    }

    static func finishReason(_ raw: String?, hasToolCalls: Bool) -> FinishReason {
        switch raw {
        case "end_turn", "stop_sequence": .stop
        case "tool_use": .toolCalls
        case "max_tokens", "model_context_window_exceeded": .length
        case "pause_turn": .pause
        case "refusal": .contentFilter
        default: hasToolCalls ? .toolCalls : .stop
        }
    }

    /// Anthropic's `input_tokens` already exclude cache reads and writes, like `Usage`.
    static func usage(_ json: JSONValue?) -> Usage {
        var usage = Usage()
        merge(json, into: &usage)
        return usage
    }

    /// Streams report usage in pieces (`message_start`, then `message_delta`); a field present
    /// in a later piece replaces the earlier value, an absent one keeps it.
    static func merge(_ json: JSONValue?, into usage: inout Usage) {
        guard let json else { return }
        if let value = json["input_tokens"]?.intValue { usage.inputTokens = value }
        if let value = json["output_tokens"]?.intValue { usage.outputTokens = value }
        if let value = json["cache_read_input_tokens"]?.intValue { usage.cacheReadTokens = value }
        if let value = json["cache_creation_input_tokens"]?.intValue { usage.cacheWriteTokens = value }
    }
}
