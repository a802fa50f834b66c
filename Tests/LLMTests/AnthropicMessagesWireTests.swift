import BosunProtocol
import Foundation
import Testing

@testable import LLM

@Suite struct AnthropicMessagesWireTests {
    @Test func encodesToolUseAndMergesToolResultsIntoOneUserMessage() {
        let request = ChatRequest(
            model: "anthropic/claude-sonnet-4", system: "Be brief.",
            messages: OpenAIChatWireTests.conversation + [.user("And Rome?")],
            tools: [OpenAIChatWireTests.weather], maxTokens: 1024, parallelToolCalls: false)
        let expected: JSONValue = [
            "model": "anthropic/claude-sonnet-4",
            "system": "Be brief.",
            "max_tokens": 1024,
            "messages": [
                ["role": "user", "content": [["type": "text", "text": "Weather in Paris and Oslo?"]]],
                [
                    "role": "assistant",
                    "content": [
                        ["type": "tool_use", "id": "call_1", "name": "get_weather", "input": ["city": "Paris"]],
                        ["type": "tool_use", "id": "call_2", "name": "get_weather", "input": ["city": "Oslo"]],
                    ],
                ],
                [
                    "role": "user",
                    "content": [
                        ["type": "tool_result", "tool_use_id": "call_1", "content": "18C", "is_error": false],
                        ["type": "tool_result", "tool_use_id": "call_2", "content": "unreachable", "is_error": true],
                        ["type": "text", "text": "And Rome?"],
                    ],
                ],
            ],
            "tools": [
                [
                    "name": "get_weather", "description": "Current weather for a city",
                    "input_schema": OpenAIChatWireTests.weather.inputSchema,
                ]
            ],
            "tool_choice": ["type": "auto", "disable_parallel_tool_use": true],
        ]
        #expect(AnthropicMessagesWire.body(for: request, stream: false) == expected)
    }

    @Test func assistantTextAndToolUseShareOneMessage() {
        let messages = AnthropicMessagesWire.messages([
            .user("hi"),
            ChatMessage(role: .assistant, text: "Let me look.", toolCalls: [ChatToolCall(id: "t1", name: "ls", arguments: [:])]),
            .toolResult(id: "t1", name: "ls", text: "a.txt"),
        ])
        #expect(
            messages[1]
                == [
                    "role": "assistant",
                    "content": [
                        ["type": "text", "text": "Let me look."],
                        ["type": "tool_use", "id": "t1", "name": "ls", "input": [:]],
                    ],
                ])
        #expect(messages.count == 3)
    }

    @Test func structuredOutputBecomesASystemInstruction() {
        let schema: JSONValue = ["type": "object", "required": ["answer"]]
        let request = ChatRequest(
            model: "claude", system: "You grade essays.", messages: [.user("grade")], responseSchema: ResponseSchema(name: "grade", schema: schema))
        let body = AnthropicMessagesWire.body(for: request, stream: true)
        let system = body["system"]?.stringValue ?? ""
        #expect(system.hasPrefix("You grade essays.\n\n"))
        #expect(system.contains("only a JSON value"))
        #expect(system.contains(#"{"required":["answer"],"type":"object"}"#))
        #expect(body["response_format"].isAbsent)
        #expect(body["stream"] == true)
    }

    @Test func headersCarryTheKeyBothWaysAndTheVersion() {
        let headers = AnthropicMessagesWire.headers(apiKey: "sk-test")
        #expect(headers.map(\.name) == ["anthropic-version", "x-api-key", "Authorization"])
        #expect(headers.map(\.value) == ["2023-06-01", "sk-test", "Bearer sk-test"])
        #expect(AnthropicMessagesWire.headers(apiKey: nil).map(\.name) == ["anthropic-version"])
    }

    @Test func decodesContentBlocksStopReasonAndUsage() throws {
        let reply = try AnthropicMessagesWire.decodeReply(
            Data(
                #"""
                {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514",
                 "content":[{"type":"thinking","thinking":"hmm","signature":"x"},
                            {"type":"text","text":"Checking."},
                            {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],
                 "stop_reason":"tool_use","stop_sequence":null,
                 "usage":{"input_tokens":30,"output_tokens":12,"cache_read_input_tokens":900,"cache_creation_input_tokens":100}}
                """#.utf8))
        #expect(
            reply.message
                == ChatMessage(
                    role: .assistant, text: "Checking.",
                    toolCalls: [ChatToolCall(id: "toolu_1", name: "get_weather", arguments: ["city": "Paris"])]))
        #expect(reply.finishReason == .toolCalls)
        #expect(reply.rawFinishReason == "tool_use")
        #expect(reply.usage == Usage(inputTokens: 30, outputTokens: 12, cacheReadTokens: 900, cacheWriteTokens: 100))
    }

    @Test(arguments: [
        ("end_turn", FinishReason.stop), ("stop_sequence", .stop), ("tool_use", .toolCalls), ("max_tokens", .length),
        ("pause_turn", .pause), ("refusal", .contentFilter),
    ])
    func mapsStopReasons(raw: String, expected: FinishReason) {
        #expect(AnthropicMessagesWire.finishReason(raw, hasToolCalls: false) == expected)
    }

    @Test func errorBodyIsAProviderErrorWithItsMessage() {
        let error = #expect(throws: LLMError.self) {
            try AnthropicMessagesWire.decodeReply(
                Data(#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#.utf8))
        }
        #expect(error?.code == .providerError)
        #expect(error?.providerMessage == "Overloaded (overloaded_error)")
        #expect(error?.isRetryable == true)
    }

    @Test func invalidJSONIsMalformedResponse() {
        let error = #expect(throws: LLMError.self) { try AnthropicMessagesWire.decodeReply(Data("{\"content\": [".utf8)) }
        #expect(error?.code == .malformedResponse)
    }
}
