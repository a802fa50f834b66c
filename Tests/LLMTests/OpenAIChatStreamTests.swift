import BosunProtocol
import Foundation
import Testing

@testable import LLM

@Suite struct OpenAIChatStreamTests {
    static func chunk(_ delta: String, finish: String? = nil) -> String {
        let reason = finish.map { "\"\($0)\"" } ?? "null"
        return #"{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":\#(delta),"finish_reason":\#(reason)}]}"#
    }

    static let usageChunk =
        #"{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":7,"total_tokens":57,"prompt_tokens_details":{"cached_tokens":20}}}"#

    @Test(arguments: [[1], [3, 11], [64], [4096]])
    func textDeltasAndTheUsageChunk(sizes: [Int]) throws {
        let body = openAIStream([
            Self.chunk(#"{"role":"assistant","content":""}"#),
            Self.chunk(#"{"content":"Hel"}"#),
            Self.chunk(#"{"content":"lo ✓"}"#),
            Self.chunk("{}", finish: "stop"),
            Self.usageChunk,
        ])
        let (deltas, reply) = try accumulate(OpenAIChatStream.self, body, chunkSizes: sizes)
        #expect(deltas == [.text("Hel"), .text("lo ✓")])
        #expect(reply.message == ChatMessage(role: .assistant, text: "Hello ✓"))
        #expect(reply.finishReason == .stop)
        #expect(reply.usage == Usage(inputTokens: 30, outputTokens: 7, cacheReadTokens: 20))
    }

    @Test func parallelToolCallsAccumulateByIndex() throws {
        // Fragments of two calls interleave; id and name come only with each call's first fragment.
        let body = openAIStream([
            Self.chunk(#"{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_p","type":"function","function":{"name":"get_weather","arguments":""}}]}"#),
            Self.chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]}"#),
            Self.chunk(#"{"tool_calls":[{"index":1,"id":"call_o","type":"function","function":{"name":"get_time","arguments":"{\"zone\":"}}]}"#),
            Self.chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Paris\"}"}}]}"#),
            Self.chunk(#"{"tool_calls":[{"index":1,"function":{"arguments":"\"CET\"}"}}]}"#),
            Self.chunk("{}", finish: "tool_calls"),
            Self.usageChunk,
        ])
        let (deltas, reply) = try accumulate(OpenAIChatStream.self, body)
        #expect(deltas == [.toolCallStarted(id: "call_p", name: "get_weather"), .toolCallStarted(id: "call_o", name: "get_time")])
        #expect(reply.finishReason == .toolCalls)
        #expect(reply.message.text == nil)
        #expect(
            reply.message.toolCalls == [
                ChatToolCall(id: "call_p", name: "get_weather", arguments: ["city": "Paris"]),
                ChatToolCall(id: "call_o", name: "get_time", arguments: ["zone": "CET"]),
            ])
    }

    @Test func argumentsThatAreNotJSONSetArgumentsError() throws {
        let body = openAIStream([
            Self.chunk(#"{"tool_calls":[{"index":0,"id":"call_x","type":"function","function":{"name":"run","arguments":"rm -rf"}}]}"#),
            Self.chunk("{}", finish: "tool_calls"),
        ])
        let (_, reply) = try accumulate(OpenAIChatStream.self, body)
        let call = try #require(reply.message.toolCalls.first)
        #expect(call.arguments == .object([:]))
        #expect(call.argumentsError?.contains("'rm -rf'") == true)
    }

    @Test func finishReasonWithoutDoneStillCompletes() throws {
        let body = openAIStream([Self.chunk(#"{"content":"ok"}"#, finish: "length")], done: false)
        let (_, reply) = try accumulate(OpenAIChatStream.self, body)
        #expect(reply.finishReason == .length)
    }

    @Test func streamWithoutDoneOrFinishReasonIsTruncated() {
        let body = openAIStream([Self.chunk(#"{"content":"Hel"}"#)], done: false)
        let error = #expect(throws: LLMError.self) { try accumulate(OpenAIChatStream.self, body) }
        #expect(error?.code == .truncatedStream)
        #expect(error?.isRetryable == true)
    }

    @Test func invalidJSONChunkIsMalformedResponse() {
        let body = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"\n\ndata: [DONE]\n\n"
        let error = #expect(throws: LLMError.self) { try accumulate(OpenAIChatStream.self, body) }
        #expect(error?.code == .malformedResponse)
    }

    @Test func errorChunkIsAProviderError() {
        let body = openAIStream(
            [Self.chunk(#"{"content":"a"}"#), #"{"error":{"message":"context window exceeded","type":"invalid_request_error"}}"#])
        let error = #expect(throws: LLMError.self) { try accumulate(OpenAIChatStream.self, body) }
        #expect(error?.code == .providerError)
        #expect(error?.isRetryable == false)
        #expect(error?.description.contains("context window exceeded") == true)
    }
}
