import BosunProtocol

/// Replies in OpenAI's chat completions format (also what LiteLLM's proxy sends).
enum OpenAIWire {
    /// A non-streaming `chat.completion`.
    static func completion(_ plan: ReplyPlan) -> JSONValue {
        var message: [String: JSONValue] = [
            "role": "assistant",
            "content": plan.text.isEmpty && !plan.toolCalls.isEmpty ? .null : .string(plan.text),
            "refusal": .null,
        ]
        if !plan.toolCalls.isEmpty {
            message["tool_calls"] = .array(
                plan.toolCalls.map { call in
                    [
                        "id": .string(call.id), "type": "function",
                        "function": ["name": .string(call.name), "arguments": .string(call.argumentsText)],
                    ]
                })
        }
        return [
            "id": .string(plan.id),
            "object": "chat.completion",
            "created": .number(Double(plan.created)),
            "model": .string(plan.model),
            "choices": [
                [
                    "index": 0, "message": .object(message), "logprobs": .null,
                    "finish_reason": .string(plan.finishReason.openAI),
                ]
            ],
            "usage": usage(plan),
        ]
    }

    static func usage(_ plan: ReplyPlan) -> JSONValue {
        [
            "prompt_tokens": .number(Double(plan.usage.promptTokens)),
            "completion_tokens": .number(Double(plan.usage.output)),
            "total_tokens": .number(Double(plan.usage.promptTokens + plan.usage.output)),
            "prompt_tokens_details": ["cached_tokens": .number(Double(plan.usage.cacheRead))],
        ]
    }

    /// The streamed `chat.completion.chunk`s: role, content pieces, tool call fragments (id and
    /// name in the first fragment of each call, argument pieces after), the finish reason, the
    /// usage chunk when `stream_options.include_usage` asked for it, and `[DONE]`.
    static func events(_ plan: ReplyPlan) -> [ServerSentEvent] {
        func chunk(choices: JSONValue, usage: JSONValue? = nil) -> ServerSentEvent {
            var object: [String: JSONValue] = [
                "id": .string(plan.id),
                "object": "chat.completion.chunk",
                "created": .number(Double(plan.created)),
                "model": .string(plan.model),
                "choices": choices,
            ]
            // With include_usage every chunk carries `usage`, null until the last one.
            if plan.includeUsage { object["usage"] = usage ?? .null }
            return ServerSentEvent(data: ReplyPlan.encode(.object(object)))
        }
        func delta(_ delta: JSONValue, finishReason: JSONValue = .null) -> ServerSentEvent {
            chunk(choices: [["index": 0, "delta": delta, "logprobs": .null, "finish_reason": finishReason]])
        }

        let toolCallsOnly = plan.text.isEmpty && !plan.toolCalls.isEmpty
        var events = [delta(["role": "assistant", "content": toolCallsOnly ? .null : "", "refusal": .null])]
        for piece in plan.textPieces {
            events.append(delta(["content": .string(piece)]))
        }
        for (index, call) in plan.toolCalls.enumerated() {
            events.append(
                delta([
                    "tool_calls": [
                        [
                            "index": .number(Double(index)), "id": .string(call.id), "type": "function",
                            "function": ["name": .string(call.name), "arguments": ""],
                        ]
                    ]
                ]))
            for piece in ReplyPlan.argumentPieces(call.argumentsText) {
                events.append(
                    delta(["tool_calls": [["index": .number(Double(index)), "function": ["arguments": .string(piece)]]]]))
            }
        }
        events.append(delta([:], finishReason: .string(plan.finishReason.openAI)))
        if plan.includeUsage { events.append(chunk(choices: [], usage: usage(plan))) }
        events.append(ServerSentEvent(data: "[DONE]"))
        return events
    }

    /// A data line that starts like a chunk and breaks off: not JSON.
    static func invalidEvent(_ plan: ReplyPlan) -> ServerSentEvent {
        ServerSentEvent(data: #"{"id":"\#(plan.id)","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"#)
    }

    /// `{"error": {"message", "type", "param", "code"}}`.
    static func error(status: Int, message: String) -> JSONValue {
        let (type, code): (String, String?) =
            switch status {
            case 401: ("invalid_request_error", "invalid_api_key")
            case 404: ("invalid_request_error", "model_not_found")
            case 429: ("requests", "rate_limit_exceeded")
            case 500...: ("server_error", nil)
            default: ("invalid_request_error", nil)
            }
        return [
            "error": [
                "message": .string(message), "type": .string(type), "param": .null,
                "code": code.map(JSONValue.string) ?? .null,
            ]
        ]
    }
}
