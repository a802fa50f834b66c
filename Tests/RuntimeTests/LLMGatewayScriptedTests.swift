import BosunProtocol
import Foundation
import LLM
import ScriptedLLM
import Testing

/// The gateway client against the scripted LLM server over real HTTP: both wire formats,
/// streamed and not, text and parallel tool calls, usage and cost.
@Suite struct LLMGatewayScriptedTests {
    static let cases: [(WireFormat, Bool)] = [(.openAI, false), (.openAI, true), (.anthropic, false), (.anthropic, true)]

    @Test(arguments: cases)
    func toolCallsThenTextInEveryFormat(format: WireFormat, stream: Bool) async throws {
        let script = try JSONDecoder().decode(
            ScriptedLLMScript.self,
            from: Data(
                #"""
                {"replies": [
                  {"text": "Checking two cities.", "tool_calls": [
                     {"id": "t1", "name": "get_weather", "arguments": {"city": "Lisbon", "days": 2}},
                     {"id": "t2", "name": "get_weather", "arguments": {"city": "Porto", "days": 1}}],
                   "usage": {"input_tokens": 120, "output_tokens": 40, "cache_read_tokens": 30}},
                  {"match": {"contains": "rain"}, "text": "Lisbon is sunny; Porto is not.", "usage": {"input_tokens": 200, "output_tokens": 9}}
                ]}
                """#.utf8))
        let server = try await ScriptedLLMServer.start(script: script, requireKey: "k", logger: RuntimeHarness.logger)
        defer { Task { await server.stop() } }
        let gateway = LLMGateway(
            configuration: LLMGatewayConfiguration(
                baseURL: server.url, apiKey: "k", requestTimeout: .seconds(10), maxRetries: 0,
                pricing: ["m/model": ModelPrice(inputPerMtok: 1, outputPerMtok: 2, cacheReadPerMtok: 0.5)]))
        let tools = [
            ToolSpec(
                name: "get_weather", description: "Weather for a city",
                inputSchema: ["type": "object", "properties": ["city": ["type": "string"], "days": ["type": "integer"]]])
        ]
        let deltas = DeltaLog()
        var messages: [ChatMessage] = [.user("Weather in Lisbon and Porto?")]
        let first = try await gateway.complete(
            ChatRequest(model: "m/model", system: "Be brief.", messages: messages, tools: tools), format: format,
            stream: stream, onDelta: { await deltas.add($0) })
        #expect(first.finishReason == .toolCalls)
        #expect(first.message.text == "Checking two cities.")
        #expect(first.message.toolCalls.map(\.id) == ["t1", "t2"])
        #expect(first.message.toolCalls.first?.arguments == ["city": "Lisbon", "days": 2])
        #expect(first.message.toolCalls.allSatisfy { $0.argumentsError == nil })
        #expect(first.usage == Usage(inputTokens: 120, outputTokens: 40, cacheReadTokens: 30))
        #expect(abs(first.costUsd - (120 * 1 + 40 * 2 + 30 * 0.5) / 1_000_000) < 1e-12)
        if stream {
            let seen = await deltas.all
            #expect(seen.contains(.toolCallStarted(id: "t1", name: "get_weather")))
            #expect(seen.compactMap { if case .text(let t) = $0 { t } else { nil } }.joined() == "Checking two cities.")
        }

        messages.append(first.message)
        messages.append(.toolResult(id: "t1", name: "get_weather", text: "sunny, 22C"))
        messages.append(.toolResult(id: "t2", name: "get_weather", text: "rain, 15C"))
        let second = try await gateway.complete(
            ChatRequest(model: "m/model", messages: messages, tools: tools), format: format, stream: stream)
        #expect(second.finishReason == .stop)
        #expect(second.message.text == "Lisbon is sunny; Porto is not.")
        let requests = await server.requests()
        #expect(requests.map(\.status) == [200, 200])
        #expect(requests.allSatisfy { $0.stream == stream })
    }
}

actor DeltaLog {
    private(set) var all: [ChatDelta] = []
    func add(_ delta: ChatDelta) { all.append(delta) }
}
