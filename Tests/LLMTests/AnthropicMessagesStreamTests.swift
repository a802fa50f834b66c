import BosunProtocol
import Foundation
import Testing

@testable import LLM

@Suite struct AnthropicMessagesStreamTests {
    static let start: (String, String) = (
        "message_start",
        #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4","stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":400,"cache_creation_input_tokens":0}}}"#
    )
    static let ping: (String, String) = ("ping", #"{"type": "ping"}"#)

    static func stop(_ reason: String, output: Int) -> [(String, String)] {
        [
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"\#(reason)","stop_sequence":null},"usage":{"output_tokens":\#(output)}}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ]
    }

    @Test(arguments: [[1], [2, 9], [31], [4096]])
    func textAndToolUseWithInputJSONDeltas(sizes: [Int]) throws {
        let body = anthropicStream(
            [
                Self.start,
                ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
                Self.ping,
                ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"check ✓"}}"#),
                ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
                ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}"#),
                Self.ping,
                ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ris\", \"days\": 2}"}}"#),
                ("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
                ("content_block_start", #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_2","name":"list_files","input":{}}}"#),
                ("content_block_stop", #"{"type":"content_block_stop","index":2}"#),
            ] + Self.stop("tool_use", output: 42))
        let (deltas, reply) = try accumulate(AnthropicMessagesStream.self, body, chunkSizes: sizes)
        #expect(
            deltas == [
                .text("Let me "), .text("check ✓"), .toolCallStarted(id: "toolu_1", name: "get_weather"),
                .toolCallStarted(id: "toolu_2", name: "list_files"),
            ])
        #expect(reply.message.text == "Let me check ✓")
        #expect(
            reply.message.toolCalls == [
                ChatToolCall(id: "toolu_1", name: "get_weather", arguments: ["city": "Paris", "days": 2]),
                ChatToolCall(id: "toolu_2", name: "list_files", arguments: [:]),
            ])
        #expect(reply.finishReason == .toolCalls)
        #expect(reply.usage == Usage(inputTokens: 25, outputTokens: 42, cacheReadTokens: 400, cacheWriteTokens: 0))
    }

    @Test func inputThatIsNotJSONSetsArgumentsError() throws {
        let body = anthropicStream(
            [
                Self.start,
                ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_9","name":"run","input":{}}}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"cmd\": "}}"#),
                ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            ] + Self.stop("max_tokens", output: 4096))
        let (_, reply) = try accumulate(AnthropicMessagesStream.self, body)
        let call = try #require(reply.message.toolCalls.first)
        #expect(call.id == "toolu_9")
        #expect(call.arguments == .object([:]))
        #expect(call.argumentsError?.contains(#"{"cmd":"#) == true)
        #expect(reply.finishReason == .length)
    }

    @Test func pauseTurn() throws {
        let (_, reply) = try accumulate(AnthropicMessagesStream.self, anthropicStream([Self.start] + Self.stop("pause_turn", output: 3)))
        #expect(reply.finishReason == .pause)
        #expect(reply.message.text == nil)
    }

    @Test func errorEventIsAProviderError() {
        let body = anthropicStream([
            Self.start, Self.ping,
            ("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
        ])
        let error = #expect(throws: LLMError.self) { try accumulate(AnthropicMessagesStream.self, body) }
        #expect(error?.code == .providerError)
        #expect(error?.providerMessage == "Overloaded (overloaded_error)")
        #expect(error?.isRetryable == true)
    }

    @Test func streamWithoutMessageStopOrStopReasonIsTruncated() {
        let body = anthropicStream([
            Self.start,
            ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#),
        ])
        let error = #expect(throws: LLMError.self) { try accumulate(AnthropicMessagesStream.self, body) }
        #expect(error?.code == .truncatedStream)
    }

    @Test func invalidJSONEventIsMalformedResponse() {
        let error = #expect(throws: LLMError.self) {
            try accumulate(AnthropicMessagesStream.self, "event: message_start\ndata: {\"type\":\n\n")
        }
        #expect(error?.code == .malformedResponse)
    }
}
