import BosunProtocol

/// Replies in Anthropic's Messages format.
enum AnthropicWire {
    /// A non-streaming `message`.
    static func message(_ plan: ReplyPlan) -> JSONValue {
        var content: [JSONValue] = []
        if !plan.text.isEmpty { content.append(["type": "text", "text": .string(plan.text)]) }
        for call in plan.toolCalls {
            content.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": call.input])
        }
        return [
            "id": .string(plan.id),
            "type": "message",
            "role": "assistant",
            "model": .string(plan.model),
            "content": .array(content),
            "stop_reason": .string(plan.finishReason.anthropic),
            "stop_sequence": .null,
            "usage": [
                "input_tokens": .number(Double(plan.usage.input)),
                "output_tokens": .number(Double(plan.usage.output)),
                "cache_read_input_tokens": .number(Double(plan.usage.cacheRead)),
                "cache_creation_input_tokens": .number(Double(plan.usage.cacheWrite)),
            ],
        ]
    }

    /// The streamed events: message_start, ping, per block content_block_start /
    /// content_block_delta (text_delta or input_json_delta pieces) / content_block_stop,
    /// message_delta with the stop reason and output tokens, message_stop.
    static func events(_ plan: ReplyPlan) -> [ServerSentEvent] {
        func event(_ type: String, _ fields: [String: JSONValue]) -> ServerSentEvent {
            var object = fields
            object["type"] = .string(type)
            return ServerSentEvent(event: type, data: ReplyPlan.encode(.object(object)))
        }
        var events = [
            event(
                "message_start",
                [
                    "message": [
                        "id": .string(plan.id), "type": "message", "role": "assistant", "model": .string(plan.model),
                        "content": [], "stop_reason": .null, "stop_sequence": .null,
                        "usage": [
                            "input_tokens": .number(Double(plan.usage.input)),
                            "cache_read_input_tokens": .number(Double(plan.usage.cacheRead)),
                            "cache_creation_input_tokens": .number(Double(plan.usage.cacheWrite)),
                            "output_tokens": 1,
                        ],
                    ]
                ]),
            event("ping", [:]),
        ]
        var index = 0
        if !plan.text.isEmpty {
            events.append(event("content_block_start", ["index": 0, "content_block": ["type": "text", "text": ""]]))
            for piece in plan.textPieces {
                events.append(
                    event("content_block_delta", ["index": 0, "delta": ["type": "text_delta", "text": .string(piece)]]))
            }
            events.append(event("content_block_stop", ["index": 0]))
            index += 1
        }
        for call in plan.toolCalls {
            let blockIndex = JSONValue.number(Double(index))
            events.append(
                event(
                    "content_block_start",
                    [
                        "index": blockIndex,
                        "content_block": ["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": [:]],
                    ]))
            for piece in ReplyPlan.argumentPieces(call.argumentsText) {
                events.append(
                    event(
                        "content_block_delta",
                        ["index": blockIndex, "delta": ["type": "input_json_delta", "partial_json": .string(piece)]]))
            }
            events.append(event("content_block_stop", ["index": blockIndex]))
            index += 1
        }
        events.append(
            event(
                "message_delta",
                [
                    "delta": ["stop_reason": .string(plan.finishReason.anthropic), "stop_sequence": .null],
                    "usage": ["output_tokens": .number(Double(plan.usage.output))],
                ]))
        events.append(event("message_stop", [:]))
        return events
    }

    /// An event whose data starts like a delta and breaks off: not JSON.
    static func invalidEvent(_ plan: ReplyPlan) -> ServerSentEvent {
        ServerSentEvent(
            event: "content_block_delta",
            data: #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"#)
    }

    /// `{"type": "error", "error": {"type", "message"}}`.
    static func error(status: Int, message: String) -> JSONValue {
        let type =
            switch status {
            case 401: "authentication_error"
            case 402: "billing_error"
            case 403: "permission_error"
            case 404: "not_found_error"
            case 413: "request_too_large"
            case 429: "rate_limit_error"
            case 529: "overloaded_error"
            case 500...: "api_error"
            default: "invalid_request_error"
            }
        return ["type": "error", "error": ["type": .string(type), "message": .string(message)]]
    }
}
