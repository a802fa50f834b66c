import BosunProtocol
import Foundation
import Testing

@testable import LLM

@Suite struct OpenAIChatWireTests {
    static let weather = ToolSpec(
        name: "get_weather", description: "Current weather for a city",
        inputSchema: ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]])

    static let conversation: [ChatMessage] = [
        .user("Weather in Paris and Oslo?"),
        ChatMessage(
            role: .assistant, text: nil,
            toolCalls: [
                ChatToolCall(id: "call_1", name: "get_weather", arguments: ["city": "Paris"]),
                ChatToolCall(id: "call_2", name: "get_weather", arguments: ["city": "Oslo"]),
            ]),
        .toolResult(id: "call_1", name: "get_weather", text: "18C"),
        .toolResult(id: "call_2", name: "get_weather", text: "unreachable", isError: true),
    ]

    @Test func encodesSystemToolCallsToolResultsAndTools() {
        let request = ChatRequest(
            model: "openai/gpt-4o", system: "Be brief.", messages: Self.conversation, tools: [Self.weather],
            maxTokens: 256, temperature: 0.5, parallelToolCalls: true)
        let expected: JSONValue = [
            "model": "openai/gpt-4o",
            "max_tokens": 256,
            "temperature": 0.5,
            "parallel_tool_calls": true,
            "messages": [
                ["role": "system", "content": "Be brief."],
                ["role": "user", "content": "Weather in Paris and Oslo?"],
                [
                    "role": "assistant", "content": nil,
                    "tool_calls": [
                        [
                            "id": "call_1", "type": "function",
                            "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#],
                        ],
                        [
                            "id": "call_2", "type": "function",
                            "function": ["name": "get_weather", "arguments": #"{"city":"Oslo"}"#],
                        ],
                    ],
                ],
                ["role": "tool", "tool_call_id": "call_1", "content": "18C"],
                ["role": "tool", "tool_call_id": "call_2", "content": "unreachable"],
            ],
            "tools": [
                [
                    "type": "function",
                    "function": [
                        "name": "get_weather", "description": "Current weather for a city",
                        "parameters": Self.weather.inputSchema,
                    ],
                ]
            ],
        ]
        #expect(OpenAIChatWire.body(for: request, stream: false) == expected)
    }

    @Test func encodesResponseFormatAndStreamOptions() {
        let schema: JSONValue = ["type": "object", "properties": ["answer": ["type": "string"]]]
        let request = ChatRequest(
            model: "gpt-4o", messages: [.user("hi")], parallelToolCalls: false,
            responseSchema: ResponseSchema(name: "answer", schema: schema))
        let body = OpenAIChatWire.body(for: request, stream: true)
        #expect(body["response_format"] == ["type": "json_schema", "json_schema": ["name": "answer", "schema": schema, "strict": true]])
        #expect(body["stream"] == true)
        #expect(body["stream_options"] == ["include_usage": true])
        // Without tools OpenAI rejects `parallel_tool_calls`.
        #expect(body["parallel_tool_calls"].isAbsent)
        #expect(body["messages"] == [["role": "user", "content": "hi"]])
        #expect(body["tools"].isAbsent)
    }

    @Test func encodedBodyIsTheJSONSent() throws {
        let request = ChatRequest(model: "m", messages: [.user("x")], maxTokens: 10)
        let data = WireJSON.encode(OpenAIChatWire.body(for: request, stream: false))
        #expect(String(decoding: data, as: UTF8.self) == #"{"max_tokens":10,"messages":[{"content":"x","role":"user"}],"model":"m"}"#)
    }

    @Test func decodesTextUsageAndCachedTokens() throws {
        let reply = try OpenAIChatWire.decodeReply(
            Data(
                #"""
                {"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06",
                 "choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":1200,"completion_tokens":15,"total_tokens":1215,
                          "prompt_tokens_details":{"cached_tokens":1000}}}
                """#.utf8))
        #expect(reply.message == ChatMessage(role: .assistant, text: "Hello!"))
        #expect(reply.finishReason == .stop)
        #expect(reply.rawFinishReason == "stop")
        #expect(reply.usage == Usage(inputTokens: 200, outputTokens: 15, cacheReadTokens: 1000))
    }

    @Test func decodesToolCallsAndBadArguments() throws {
        let reply = try OpenAIChatWire.decodeReply(
            Data(
                #"""
                {"choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
                  "tool_calls":[
                    {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                    {"id":"call_b","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Os"}},
                    {"id":"call_c","type":"function","function":{"name":"get_weather","arguments":"[1,2]"}},
                    {"id":"call_d","type":"function","function":{"name":"list_all","arguments":""}}]}}],
                 "usage":{"prompt_tokens":10,"completion_tokens":5}}
                """#.utf8))
        #expect(reply.finishReason == .toolCalls)
        #expect(reply.message.text == nil)
        let calls = reply.message.toolCalls
        #expect(calls.map(\.id) == ["call_a", "call_b", "call_c", "call_d"])
        #expect(calls[0].arguments == ["city": "Paris"])
        #expect(calls[0].argumentsError == nil)
        #expect(calls[1].arguments == .object([:]))
        #expect(calls[1].argumentsError?.contains("not valid JSON") == true)
        #expect(calls[1].argumentsError?.contains(#"{"city": "Os"#) == true)
        #expect(calls[2].arguments == .object([:]))
        #expect(calls[2].argumentsError?.contains("must be a JSON object, got an array") == true)
        #expect(calls[3].arguments == .object([:]))
        #expect(calls[3].argumentsError == nil)
    }

    @Test(arguments: [
        ("stop", FinishReason.stop), ("length", .length), ("tool_calls", .toolCalls), ("function_call", .toolCalls),
        ("content_filter", .contentFilter),
    ])
    func mapsFinishReasons(raw: String, expected: FinishReason) {
        #expect(OpenAIChatWire.finishReason(raw, hasToolCalls: false) == expected)
    }

    @Test func invalidJSONIsMalformedResponse() {
        let error = #expect(throws: LLMError.self) { try OpenAIChatWire.decodeReply(Data("<html>Bad Gateway</html>".utf8)) }
        #expect(error?.code == .malformedResponse)
        #expect(error?.description.contains("<html>Bad Gateway</html>") == true)
        #expect(error?.isRetryable == false)
    }

    @Test func replyWithoutChoicesIsMalformedResponse() {
        let error = #expect(throws: LLMError.self) { try OpenAIChatWire.decodeReply(Data(#"{"id":"x","choices":[]}"#.utf8)) }
        #expect(error?.code == .malformedResponse)
    }

    @Test func errorBodyInA200IsAProviderError() {
        let error = #expect(throws: LLMError.self) {
            try OpenAIChatWire.decodeReply(Data(#"{"error":{"message":"upstream overloaded","type":"server_error"}}"#.utf8))
        }
        #expect(error?.code == .providerError)
        #expect(error?.providerMessage == "upstream overloaded (server_error)")
        #expect(error?.isRetryable == true)
    }
}
