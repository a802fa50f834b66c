import BosunProtocol
import Foundation
import ScriptedLLM
import Testing

typealias Reply = ScriptedLLMScript.Reply
typealias ToolCall = ScriptedLLMScript.ToolCall

@Suite struct ScriptedLLMServerTests {
    @Test func withoutScriptEveryRequestGetsTheFixedReplyInBothFormats() async throws {
        try await withServer { _, client in
            let openAI = try await client.post("/v1/chat/completions", Fixtures.openAI(model: "openai/gpt-4o-mini"))
            #expect(openAI.status == 200)
            #expect(openAI.header("content-type") == "application/json")
            let completion = try #require(openAI.json)
            #expect(completion["object"] == "chat.completion")
            #expect(completion["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
            #expect(completion["model"] == "openai/gpt-4o-mini")
            #expect(completion["created"]?.intValue ?? 0 > 1_700_000_000)
            let choice = try #require(completion["choices"]?[0])
            #expect(choice["index"] == 0)
            #expect(choice["message"]?["role"] == "assistant")
            #expect(choice["message"]?["content"] == "Hello from the scripted LLM.")
            #expect(choice["message"]?["tool_calls"] == nil)
            #expect(choice["finish_reason"] == "stop")
            let usage = try #require(completion["usage"])
            #expect(usage["prompt_tokens"]?.intValue ?? 0 >= 1)
            #expect(usage["completion_tokens"]?.intValue == "Hello from the scripted LLM.".count / 4)
            #expect(
                usage["total_tokens"]?.intValue
                    == (usage["prompt_tokens"]?.intValue ?? 0) + (usage["completion_tokens"]?.intValue ?? 0))
            #expect(usage["prompt_tokens_details"]?["cached_tokens"] == 0)

            let anthropic = try await client.post("/v1/messages", Fixtures.anthropic(model: "claude-haiku-4-5"))
            #expect(anthropic.status == 200)
            let message = try #require(anthropic.json)
            #expect(message["type"] == "message")
            #expect(message["id"]?.stringValue?.hasPrefix("msg_") == true)
            #expect(message["role"] == "assistant")
            #expect(message["model"] == "claude-haiku-4-5")
            #expect(message["content"] == [["type": "text", "text": "Hello from the scripted LLM."]])
            #expect(message["stop_reason"] == "end_turn")
            #expect(message["stop_sequence"] == .null)
            let anthropicUsage = try #require(message["usage"])
            #expect(anthropicUsage["input_tokens"]?.intValue ?? 0 >= 1)
            #expect(anthropicUsage["output_tokens"]?.intValue == 7)
            #expect(anthropicUsage["cache_read_input_tokens"] == 0)
            #expect(anthropicUsage["cache_creation_input_tokens"] == 0)
        }
    }

    @Test func plainEntriesAreAnsweredInOrderThenTheScriptIsExhausted() async throws {
        let script = ScriptedLLMScript(replies: [Reply(text: "one"), Reply(text: "two"), Reply(text: "three")])
        try await withServer(script: script) { _, client in
            let first = try await client.post("/v1/chat/completions", Fixtures.openAI())
            let second = try await client.post("/v1/messages", Fixtures.anthropic())
            let third = try await client.post("/v1/chat/completions", Fixtures.openAI())
            #expect(first.json?["choices"]?[0]?["message"]?["content"] == "one")
            #expect(second.json?["content"]?[0]?["text"] == "two")
            #expect(third.json?["choices"]?[0]?["message"]?["content"] == "three")

            let openAI = try await client.post("/v1/chat/completions", Fixtures.openAI())
            #expect(openAI.status == 500)
            #expect(openAI.json?["error"]?["message"] == "scripted LLM: no scripted reply left for this request")
            #expect(openAI.json?["error"]?["type"] == "server_error")
            #expect(openAI.json?["error"]?["code"] == .null)
            let anthropic = try await client.post("/v1/messages", Fixtures.anthropic())
            #expect(anthropic.status == 500)
            #expect(
                anthropic.json
                    == [
                        "type": "error",
                        "error": ["type": "api_error", "message": "scripted LLM: no scripted reply left for this request"],
                    ])
        }
    }

    @Test func matchedEntriesAnswerTheRequestsTheyFit() async throws {
        let script = ScriptedLLMScript(
            replies: [
                Reply(match: .init(contains: "weather", format: .anthropic), text: "anthropic weather", times: 5),
                Reply(match: .init(contains: "weather"), text: "openai weather", times: 5),
                Reply(match: .init(tool: "Bash"), text: "you offered Bash", times: 5),
                Reply(match: .init(systemContains: "pirate"), text: "arr", times: 5),
                Reply(match: .init(model: "special-model"), text: "special", times: 5),
                Reply(match: .init(contains: "tool says"), text: "saw the tool result", times: 5),
            ],
            default: Reply(text: "fallback"))
        try await withServer(script: script) { (server, client) async throws in
            func openAIText(_ body: JSONValue) async throws -> String? {
                try await client.post("/v1/chat/completions", body).json?["choices"]?[0]?["message"]?["content"]?
                    .stringValue
            }
            func anthropicText(_ body: JSONValue) async throws -> String? {
                try await client.post("/v1/messages", body).json?["content"]?[0]?["text"]?.stringValue
            }
            #expect(try await anthropicText(Fixtures.anthropic("what is the weather?")) == "anthropic weather")
            #expect(try await openAIText(Fixtures.openAI("what is the weather?")) == "openai weather")
            #expect(try await openAIText(Fixtures.openAI("list files", tools: ["Read", "Bash"])) == "you offered Bash")
            #expect(try await anthropicText(Fixtures.anthropic("list files", tools: ["Bash"])) == "you offered Bash")
            #expect(try await openAIText(Fixtures.openAI("hello", tools: ["Read"])) == "fallback")
            #expect(try await openAIText(Fixtures.openAI("hello", system: "You are a pirate.")) == "arr")
            #expect(try await anthropicText(Fixtures.anthropic("hello", system: "You are a pirate.")) == "arr")
            #expect(try await openAIText(Fixtures.openAI("hello", model: "special-model")) == "special")

            // Only the last message counts.
            let earlierWeather: JSONValue = [
                "model": "m",
                "messages": [
                    ["role": "user", "content": "what is the weather?"],
                    ["role": "assistant", "content": "sunny"],
                    ["role": "user", "content": "thanks"],
                ],
            ]
            #expect(try await openAIText(earlierWeather) == "fallback")

            // OpenAI content parts, and tool results in both formats.
            let parts: JSONValue = [
                "model": "m",
                "messages": [["role": "user", "content": [["type": "text", "text": "the weather please"]]]],
            ]
            #expect(try await openAIText(parts) == "openai weather")
            let openAIToolResult: JSONValue = [
                "model": "m",
                "messages": [
                    ["role": "user", "content": "run it"],
                    [
                        "role": "assistant", "content": nil,
                        "tool_calls": [
                            ["id": "call_1", "type": "function", "function": ["name": "Bash", "arguments": "{}"]]
                        ],
                    ],
                    ["role": "tool", "tool_call_id": "call_1", "content": "the tool says hi"],
                ],
            ]
            #expect(try await openAIText(openAIToolResult) == "saw the tool result")
            for content: JSONValue in [
                "the tool says hi", [["type": "text", "text": "the tool says hi"]],
            ] {
                let anthropicToolResult: JSONValue = [
                    "model": "m", "max_tokens": 100,
                    "messages": [
                        ["role": "user", "content": "run it"],
                        [
                            "role": "assistant",
                            "content": [["type": "tool_use", "id": "toolu_1", "name": "Bash", "input": [:]]],
                        ],
                        [
                            "role": "user",
                            "content": [["type": "tool_result", "tool_use_id": "toolu_1", "content": content]],
                        ],
                    ],
                ]
                #expect(try await anthropicText(anthropicToolResult) == "saw the tool result")
            }

            let log = await server.requests()
            #expect(log.map(\.entry) == [0, 1, 2, 2, nil, 3, 3, 4, nil, 1, 5, 5, 5])
            #expect(log[4].answer == .default)
        }
    }

    @Test func timesLetsAnEntryAnswerSeveralRequests() async throws {
        let script = ScriptedLLMScript(replies: [Reply(text: "again", times: 2), Reply(text: "then this")])
        try await withServer(script: script) { _, client in
            var texts: [String?] = []
            for _ in 0..<3 {
                texts.append(
                    try await client.post("/v1/chat/completions", Fixtures.openAI()).json?["choices"]?[0]?["message"]?[
                        "content"]?.stringValue)
            }
            #expect(texts == ["again", "again", "then this"])
            #expect(try await client.post("/v1/chat/completions", Fixtures.openAI()).status == 500)
        }
    }

    @Test func toolCallsWithoutStreaming() async throws {
        let calls = [
            ToolCall(id: "call_given", name: "Bash", arguments: ["command": "ls -la /tmp", "timeout": 5]),
            ToolCall(name: "Read", rawArguments: "{not json"),
            ToolCall(name: "Glob"),
        ]
        let script = ScriptedLLMScript(replies: [
            Reply(toolCalls: calls), Reply(text: "Let me look.", toolCalls: calls),
        ])
        try await withServer(script: script) { _, client in
            let openAI = try #require(try await client.post("/v1/chat/completions", Fixtures.openAI()).json)
            let message = try #require(openAI["choices"]?[0]?["message"])
            #expect(message["content"] == .null)
            #expect(openAI["choices"]?[0]?["finish_reason"] == "tool_calls")
            #expect(
                message["tool_calls"]
                    == [
                        [
                            "id": "call_given", "type": "function",
                            "function": ["name": "Bash", "arguments": #"{"command":"ls -la /tmp","timeout":5}"#],
                        ],
                        ["id": "call_2", "type": "function", "function": ["name": "Read", "arguments": "{not json"]],
                        ["id": "call_3", "type": "function", "function": ["name": "Glob", "arguments": "{}"]],
                    ])

            let anthropic = try #require(try await client.post("/v1/messages", Fixtures.anthropic()).json)
            #expect(anthropic["stop_reason"] == "tool_use")
            #expect(
                anthropic["content"]
                    == [
                        ["type": "text", "text": "Let me look."],
                        [
                            "type": "tool_use", "id": "call_given", "name": "Bash",
                            "input": ["command": "ls -la /tmp", "timeout": 5],
                        ],
                        ["type": "tool_use", "id": "toolu_5", "name": "Read", "input": "{not json"],
                        ["type": "tool_use", "id": "toolu_6", "name": "Glob", "input": [:]],
                    ])
        }
    }

    @Test func openAIStreamingSendsRoleContentToolFragmentsFinishUsageAndDone() async throws {
        let text = "The files in the current directory are listed below for you."
        let arguments: JSONValue = ["command": "ls -la /srv/data", "description": "list the data"]
        let script = ScriptedLLMScript(
            replies: [
                Reply(
                    text: text,
                    toolCalls: [ToolCall(name: "Bash", arguments: arguments), ToolCall(name: "Read", rawArguments: "{\"path\":")],
                    usage: .init(inputTokens: 100, outputTokens: 20, cacheReadTokens: 30, cacheWriteTokens: 5),
                    times: 2)
            ])
        try await withServer(script: script) { _, client in
            let reply = try await client.post(
                "/v1/chat/completions", Fixtures.openAI(model: "gpt-4.1", stream: true, includeUsage: true))
            #expect(reply.status == 200)
            #expect(reply.header("content-type") == "text/event-stream")
            #expect(reply.error == nil)
            let events = reply.events
            #expect(events.allSatisfy { $0.event == nil })
            #expect(events.last?.data == "[DONE]")
            let chunks = events.dropLast().map { $0.json }
            #expect(chunks.allSatisfy { $0 != nil })
            let objects = chunks.compactMap { $0 }
            for chunk in objects {
                #expect(chunk["object"] == "chat.completion.chunk")
                #expect(chunk["model"] == "gpt-4.1")
                #expect(chunk["id"] == objects[0]["id"])
            }
            let deltas = objects.dropLast().map { $0["choices"]?[0]?["delta"] ?? .null }
            #expect(deltas[0]["role"] == "assistant")
            #expect(deltas[0]["content"] == "")

            let contentPieces = deltas.compactMap { $0["content"]?.stringValue }.filter { !$0.isEmpty }
            #expect(contentPieces.count >= 3)
            #expect(contentPieces.joined() == text)

            // Tool call fragments: id, type and name only in the first fragment of each call.
            let fragments = deltas.compactMap { $0["tool_calls"]?[0] }
            var argumentsByIndex: [Int: String] = [:]
            var seen: Set<Int> = []
            for fragment in fragments {
                let index = try #require(fragment["index"]?.intValue)
                if seen.insert(index).inserted {
                    #expect(fragment["id"] == (index == 0 ? "call_1" : "call_2"))
                    #expect(fragment["type"] == "function")
                    #expect(fragment["function"]?["name"] == (index == 0 ? "Bash" : "Read"))
                    #expect(fragment["function"]?["arguments"] == "")
                } else {
                    #expect(fragment.objectValue?.keys.sorted() == ["function", "index"])
                    #expect(fragment["function"]?.objectValue?.keys.sorted() == ["arguments"])
                }
                argumentsByIndex[index, default: ""] += fragment["function"]?["arguments"]?.stringValue ?? ""
            }
            #expect(fragments.count > 4)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            #expect(argumentsByIndex[0] == String(decoding: try encoder.encode(arguments), as: UTF8.self))
            #expect(argumentsByIndex[1] == "{\"path\":")

            let finish = try #require(objects.dropLast().last)
            #expect(finish["choices"]?[0]?["finish_reason"] == "tool_calls")
            #expect(finish["choices"]?[0]?["delta"] == [:])
            #expect(objects.dropLast().dropLast().allSatisfy { $0["choices"]?[0]?["finish_reason"] == .null })
            #expect(objects.dropLast().allSatisfy { $0["usage"] == .null })
            let usageChunk = try #require(objects.last)
            #expect(usageChunk["choices"] == [])
            #expect(
                usageChunk["usage"]
                    == [
                        "prompt_tokens": 135, "completion_tokens": 20, "total_tokens": 155,
                        "prompt_tokens_details": ["cached_tokens": 30],
                    ])

            // Without include_usage: no usage chunk and no usage key.
            let plain = try await client.post("/v1/chat/completions", Fixtures.openAI(stream: true))
            let plainChunks = plain.events.dropLast().compactMap { $0.json }
            #expect(plain.events.last?.data == "[DONE]")
            #expect(plainChunks.allSatisfy { $0["usage"] == nil })
            #expect(plainChunks.last?["choices"]?[0]?["finish_reason"] == "tool_calls")
        }
    }

    @Test func anthropicStreamingSendsTheEventSequence() async throws {
        let arguments: JSONValue = ["command": "grep -rn needle /srv/haystack", "timeout": 30]
        let script = ScriptedLLMScript(replies: [
            Reply(
                text: "I will search the haystack for the needle now.",
                toolCalls: [ToolCall(name: "Bash", arguments: arguments)],
                usage: .init(inputTokens: 50, outputTokens: 12, cacheReadTokens: 7, cacheWriteTokens: 3)),
            Reply(text: "Just text."),
        ])
        try await withServer(script: script) { _, client in
            let reply = try await client.post("/v1/messages", Fixtures.anthropic(model: "claude-opus-4-1", stream: true))
            #expect(reply.status == 200)
            #expect(reply.header("content-type") == "text/event-stream")
            let events = reply.events
            let names = events.map { $0.event ?? "" }
            let textDeltas = events.filter { $0.json?["delta"]?["type"] == "text_delta" }.count
            let jsonDeltas = events.filter { $0.json?["delta"]?["type"] == "input_json_delta" }.count
            #expect(textDeltas >= 3)
            #expect(jsonDeltas >= 3)
            #expect(
                names
                    == ["message_start", "ping", "content_block_start"]
                    + Array(repeating: "content_block_delta", count: textDeltas)
                    + ["content_block_stop", "content_block_start"]
                    + Array(repeating: "content_block_delta", count: jsonDeltas)
                    + ["content_block_stop", "message_delta", "message_stop"])
            for event in events { #expect(event.json?["type"]?.stringValue == event.event) }

            let start = try #require(events[0].json?["message"])
            #expect(start["id"]?.stringValue?.hasPrefix("msg_") == true)
            #expect(start["model"] == "claude-opus-4-1")
            #expect(start["content"] == [])
            #expect(start["stop_reason"] == .null)
            #expect(start["usage"]?["input_tokens"] == 50)
            #expect(start["usage"]?["cache_read_input_tokens"] == 7)
            #expect(start["usage"]?["cache_creation_input_tokens"] == 3)

            #expect(events[2].json?["content_block"] == ["type": "text", "text": ""])
            #expect(events[2].json?["index"] == 0)
            let text = events.compactMap { $0.json?["delta"]?["text"]?.stringValue }.joined()
            #expect(text == "I will search the haystack for the needle now.")

            let toolStart = try #require(events[3 + textDeltas + 1].json)
            #expect(toolStart["index"] == 1)
            #expect(toolStart["content_block"] == ["type": "tool_use", "id": "toolu_1", "name": "Bash", "input": [:]])
            let partial = events.compactMap { $0.json?["delta"]?["partial_json"]?.stringValue }.joined()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            #expect(partial == String(decoding: try encoder.encode(arguments), as: UTF8.self))
            #expect(events.filter { $0.json?["delta"]?["type"] == "input_json_delta" }.allSatisfy { $0.json?["index"] == 1 })

            let delta = try #require(events[events.count - 2].json)
            #expect(delta["delta"] == ["stop_reason": "tool_use", "stop_sequence": nil])
            #expect(delta["usage"] == ["output_tokens": 12])

            // Text only: one block.
            let plain = try await client.post("/v1/messages", Fixtures.anthropic(stream: true))
            let plainNames = plain.events.map { $0.event ?? "" }
            #expect(plainNames.first == "message_start")
            #expect(plainNames.suffix(3) == ["content_block_stop", "message_delta", "message_stop"])
            #expect(plain.events.compactMap { $0.json?["delta"]?["stop_reason"] }.first == "end_turn")
        }
    }

    @Test func streamingReallyStreamsWithTheChunkDelay() async throws {
        let script = ScriptedLLMScript(replies: [
            Reply(text: "one two three four five six seven eight nine", chunkDelayMs: 150)
        ])
        try await withServer(script: script) { _, client in
            let started = ContinuousClock.now
            let reply = try await client.post("/v1/chat/completions", Fixtures.openAI(stream: true))
            // role, 3 content pieces, finish, [DONE]: 5 pauses.
            #expect(reply.events.count == 6)
            #expect(ContinuousClock.now - started >= .milliseconds(700))
            let first = try #require(reply.arrivals.first)
            let last = try #require(reply.arrivals.last)
            #expect(last - first >= .milliseconds(500))
            #expect(reply.arrivals.count >= 4)
        }
    }

    @Test func faultsWithAStatusAreProviderShapedErrors() async throws {
        let script = ScriptedLLMScript(replies: [
            Reply(fault: .init(status: 429, retryAfter: 2)),
            Reply(fault: .init(status: 429, retryAfter: 1)),
            Reply(text: "unused", fault: .init(status: 500)),
            Reply(fault: .init(status: 503)),
            Reply(text: "after the faults"),
        ])
        try await withServer(script: script) { server, client in
            let openAI = try await client.post("/v1/chat/completions", Fixtures.openAI(stream: true))
            #expect(openAI.status == 429)
            #expect(openAI.header("retry-after") == "2")
            #expect(openAI.header("content-type") == "application/json")
            #expect(openAI.json?["error"]?["type"] == "requests")
            #expect(openAI.json?["error"]?["code"] == "rate_limit_exceeded")
            #expect(openAI.json?["error"]?["message"]?.stringValue?.isEmpty == false)

            let anthropic = try await client.post("/v1/messages", Fixtures.anthropic())
            #expect(anthropic.status == 429)
            #expect(anthropic.header("retry-after") == "1")
            #expect(anthropic.json?["type"] == "error")
            #expect(anthropic.json?["error"]?["type"] == "rate_limit_error")

            let serverError = try await client.post("/v1/messages", Fixtures.anthropic())
            #expect(serverError.status == 500)
            #expect(serverError.header("retry-after") == nil)
            #expect(serverError.json?["error"]?["type"] == "api_error")
            let unavailable = try await client.post("/v1/chat/completions", Fixtures.openAI())
            #expect(unavailable.status == 503)
            #expect(unavailable.json?["error"]?["type"] == "server_error")

            let after = try await client.post("/v1/chat/completions", Fixtures.openAI())
            #expect(after.json?["choices"]?[0]?["message"]?["content"] == "after the faults")
            #expect(await server.requests().map(\.status) == [429, 429, 500, 503, 200])
        }
    }

    @Test func delayHoldsTheReplyBack() async throws {
        let script = ScriptedLLMScript(replies: [Reply(text: "slow", delayMs: 600), Reply(text: "fast")])
        try await withServer(script: script) { _, client in
            let started = ContinuousClock.now
            let slow = try await client.post("/v1/messages", Fixtures.anthropic())
            #expect(ContinuousClock.now - started >= .milliseconds(600))
            #expect(slow.json?["content"]?[0]?["text"] == "slow")
            let again = ContinuousClock.now
            _ = try await client.post("/v1/messages", Fixtures.anthropic())
            #expect(ContinuousClock.now - again < .milliseconds(600))
        }
    }

    @Test func truncatedStreamsEndWithoutTheirLastEvent() async throws {
        let text = "a reply long enough to be cut somewhere in the middle of its many words"
        let script = ScriptedLLMScript(replies: [
            Reply(text: text, fault: .init(truncate: true), times: 2), Reply(text: "whole again"),
        ])
        try await withServer(script: script) { _, client in
            let openAI = try await client.post("/v1/chat/completions", Fixtures.openAI(stream: true))
            #expect(openAI.status == 200)
            #expect(openAI.error != nil)
            #expect(!openAI.events.isEmpty)
            #expect(!openAI.events.contains { $0.data == "[DONE]" })
            #expect(!openAI.events.contains { $0.json?["choices"]?[0]?["finish_reason"] != .null })

            let anthropic = try await client.post("/v1/messages", Fixtures.anthropic(stream: true))
            #expect(anthropic.status == 200)
            #expect(anthropic.error != nil)
            #expect(anthropic.events.first?.event == "message_start")
            #expect(!anthropic.events.contains { $0.event == "message_stop" || $0.event == "message_delta" })

            // The server is fine afterwards.
            let whole = try await client.post("/v1/chat/completions", Fixtures.openAI(stream: true))
            #expect(whole.events.last?.data == "[DONE]")
        }
    }

    @Test func truncatedRepliesWithoutStreamingBreakOffHalfway() async throws {
        let script = ScriptedLLMScript(replies: [Reply(text: "cut short", fault: .init(truncate: true))])
        try await withServer(script: script) { _, client in
            let reply = try await client.post("/v1/chat/completions", Fixtures.openAI())
            #expect(reply.status == 200)
            #expect(reply.error != nil)
            #expect(!reply.body.isEmpty)
            #expect(reply.json == nil)
        }
    }

    @Test func stopEndsRepliesThatAreStillWaiting() async throws {
        let script = ScriptedLLMScript(replies: [Reply(text: "never", delayMs: 60_000)])
        let server = try await ScriptedLLMServer.start(script: script, logger: Fixtures.logger)
        let client = LLMClient(server)
        let pending = Task { try await client.post("/v1/chat/completions", Fixtures.openAI()) }
        while await server.requests().isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        let started = ContinuousClock.now
        await server.stop()
        // Far from the reply's minute, with room for a loaded CI machine.
        #expect(ContinuousClock.now - started < .seconds(15))
        // The waiting request ends one way or another instead of hanging for a minute.
        if let reply = try? await pending.value { #expect(reply.json?["choices"] == nil) }
    }

    @Test func invalidJSONFaults() async throws {
        let script = ScriptedLLMScript(replies: [
            Reply(text: "some text for the stream to carry", fault: .init(invalidJSON: true), times: 3)
        ])
        try await withServer(script: script) { _, client in
            let plain = try await client.post("/v1/chat/completions", Fixtures.openAI())
            #expect(plain.status == 200)
            #expect(plain.error == nil)
            #expect(!plain.body.isEmpty)
            #expect(plain.json == nil)

            let openAI = try await client.post("/v1/chat/completions", Fixtures.openAI(stream: true))
            #expect(openAI.error == nil)
            #expect(openAI.events.filter { $0.data != "[DONE]" && $0.json == nil }.count == 1)
            #expect(openAI.events.last?.data == "[DONE]")

            let anthropic = try await client.post("/v1/messages", Fixtures.anthropic(stream: true))
            #expect(anthropic.events.filter { $0.json == nil }.count == 1)
            #expect(anthropic.events.last?.event == "message_stop")
        }
    }

    @Test func requireKeyTurnsAwayOtherKeys() async throws {
        try await withServer(requireKey: "sk-test") { server, client in
            let missing = try await client.post("/v1/chat/completions", Fixtures.openAI())
            #expect(missing.status == 401)
            #expect(missing.json?["error"]?["type"] == "invalid_request_error")
            #expect(missing.json?["error"]?["code"] == "invalid_api_key")
            let wrong = try await client.post("/v1/messages", Fixtures.anthropic(), headers: [("x-api-key", "sk-other")])
            #expect(wrong.status == 401)
            #expect(wrong.json?["type"] == "error")
            #expect(wrong.json?["error"]?["type"] == "authentication_error")

            let bearer = try await client.post(
                "/v1/chat/completions", Fixtures.openAI(), headers: [("Authorization", "Bearer sk-test")])
            #expect(bearer.status == 200)
            let apiKey = try await client.post(
                "/v1/messages", Fixtures.anthropic(), headers: [("x-api-key", "sk-test"), ("anthropic-version", "2023-06-01")])
            #expect(apiKey.status == 200)

            let log = await server.requests()
            #expect(log.map(\.answer) == [.unauthorized, .unauthorized, .fixed, .fixed])
            #expect(log[3].headers["anthropic-version"] == "2023-06-01")
            #expect(log[3].headers["x-api-key"] == "sk-test")
        }
    }

    @Test func malformedRequestsGet400InTheProviderShape() async throws {
        let script = ScriptedLLMScript(replies: [Reply(text: "kept for a good request")])
        try await withServer(script: script) { server, client in
            let openAI = try await client.post("/v1/chat/completions", raw: Data("{\"model\": ".utf8))
            #expect(openAI.status == 400)
            #expect(openAI.json?["error"]?["type"] == "invalid_request_error")
            #expect(openAI.json?["error"]?["message"]?.stringValue?.contains("not valid JSON") == true)
            let anthropic = try await client.post("/v1/messages", raw: Data("not json".utf8))
            #expect(anthropic.status == 400)
            #expect(anthropic.json?["type"] == "error")
            #expect(anthropic.json?["error"]?["type"] == "invalid_request_error")
            let array = try await client.post("/v1/messages", raw: Data("[1, 2]".utf8))
            #expect(array.status == 400)

            // Bad requests use no script entry.
            let good = try await client.post("/v1/chat/completions", Fixtures.openAI())
            #expect(good.json?["choices"]?[0]?["message"]?["content"] == "kept for a good request")
            #expect(await server.requests().map(\.answer) == [.badRequest, .badRequest, .badRequest, .entry])
        }
    }

    @Test func theRequestLogAndResetInProcessAndOverHTTP() async throws {
        let script = ScriptedLLMScript(replies: [Reply(text: "first"), Reply(toolCalls: [ToolCall(name: "Bash")])])
        try await withServer(script: script) { server, client in
            _ = try await client.post("/v1/chat/completions", Fixtures.openAI("hello there", model: "openai/gpt-4o"))
            _ = try await client.post("/v1/messages", Fixtures.anthropic(stream: true))
            let log = await server.requests()
            #expect(log.count == 2)
            #expect(log[0].sequence == 1)
            #expect(log[0].path == "/v1/chat/completions")
            #expect(log[0].format == .openai)
            #expect(log[0].model == "openai/gpt-4o")
            #expect(log[0].stream == false)
            #expect(log[0].entry == 0)
            #expect(log[0].status == 200)
            #expect(log[0].headers["content-type"] == "application/json")
            #expect(log[0].body?["messages"]?[0]?["content"] == "hello there")
            #expect(log[1].path == "/v1/messages")
            #expect(log[1].format == .anthropic)
            #expect(log[1].stream == true)
            #expect(log[1].entry == 1)

            let overHTTP = try await client.send("GET", "/_scripted/requests")
            #expect(overHTTP.status == 200)
            #expect(try JSONDecoder().decode([ScriptedLLMRequest].self, from: overHTTP.body) == log)

            await server.reset()
            #expect(await server.requests().isEmpty)
            let again = try await client.post("/v1/chat/completions", Fixtures.openAI())
            #expect(again.json?["choices"]?[0]?["message"]?["content"] == "first")
            // Generated ids start again too.
            let tool = try await client.post("/v1/chat/completions", Fixtures.openAI())
            #expect(tool.json?["choices"]?[0]?["message"]?["tool_calls"]?[0]?["id"] == "call_1")

            #expect(try await client.send("POST", "/_scripted/reset").status == 204)
            #expect(await server.requests().isEmpty)
            #expect(
                try await client.post("/v1/chat/completions", Fixtures.openAI()).json?["choices"]?[0]?["message"]?[
                    "content"] == "first")

            // Replace the script over HTTP and in process.
            let replaced = try await client.post(
                "/_scripted/script", raw: Data(#"{"replies": [{"text": "from HTTP"}]}"#.utf8))
            #expect(replaced.status == 204)
            #expect(
                try await client.post("/v1/chat/completions", Fixtures.openAI()).json?["choices"]?[0]?["message"]?[
                    "content"] == "from HTTP")
            let rejected = try await client.post("/_scripted/script", raw: Data(#"{"replies": [{"txt": "x"}]}"#.utf8))
            #expect(rejected.status == 400)
            #expect(rejected.json?["error"]?.stringValue?.contains("replies[0].txt: unknown key") == true)
            await server.replace(script: ScriptedLLMScript(default: Reply(text: "in process")))
            #expect(
                try await client.post("/v1/messages", Fixtures.anthropic()).json?["content"]?[0]?["text"]
                    == "in process")
            await server.replace(script: nil)
            #expect(
                try await client.post("/v1/messages", Fixtures.anthropic()).json?["content"]?[0]?["text"]
                    == "Hello from the scripted LLM.")
        }
    }

    @Test func finishReasonsAreMappedPerFormat() async throws {
        let reasons: [(ScriptedLLMScript.FinishReason, String, String)] = [
            (.stop, "stop", "end_turn"), (.length, "length", "max_tokens"),
            (.contentFilter, "content_filter", "refusal"), (.pause, "stop", "pause_turn"),
            (.toolCalls, "tool_calls", "tool_use"),
        ]
        let script = ScriptedLLMScript(
            replies: reasons.map { Reply(text: "x", finishReason: $0.0, times: 2) })
        try await withServer(script: script) { _, client in
            for (_, openAI, anthropic) in reasons {
                let first = try await client.post("/v1/chat/completions", Fixtures.openAI())
                #expect(first.json?["choices"]?[0]?["finish_reason"]?.stringValue == openAI)
                let second = try await client.post("/v1/messages", Fixtures.anthropic())
                #expect(second.json?["stop_reason"]?.stringValue == anthropic)
            }
        }
    }
}
