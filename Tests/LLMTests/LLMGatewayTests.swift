import AsyncHTTPClient
import BosunProtocol
import Foundation
import Synchronization
import Testing

@testable import LLM

/// The gateway over real HTTP against `CannedResponseServer`. Serialized: several tests
/// measure delays, which two cores running everything at once would blur.
@Suite(.serialized) struct LLMGatewayTests {
    static let request = ChatRequest(model: "openai/gpt-4o", messages: [.user("Say hello")], maxTokens: 64)

    static let okBody =
        #"{"id":"c1","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#

    static func gateway(
        _ server: CannedResponseServer, apiKey: String? = "sk-test-key", maxRetries: Int = 3,
        requestTimeout: Duration = .seconds(5), fallbacks: [String] = []
    ) -> LLMGateway {
        LLMGateway(
            configuration: LLMGatewayConfiguration(
                baseURL: server.baseURL + "/", apiKey: apiKey, requestTimeout: requestTimeout, maxRetries: maxRetries,
                retryBaseDelay: .milliseconds(1), retryMaxDelay: .seconds(5), fallbacks: fallbacks,
                pricing: ["gpt-4o": ModelPrice(inputPerMtok: 2.5, outputPerMtok: 10)]))
    }

    static func sse(_ payload: String) -> CannedResponse.Part { .bytes("data: \(payload)\n\n") }

    static func textChunk(_ text: String) -> CannedResponse.Part {
        sse(OpenAIChatStreamTests.chunk(#"{"content":"\#(text)"}"#))
    }

    // MARK: Success

    @Test func nonStreamingCallSendsTheRequestAndFillsTheResponse() async throws {
        try await CannedResponseServer.with([.json(Self.okBody)]) { server in
            let response = try await Self.gateway(server).complete(Self.request, format: .openAI, stream: false)
            #expect(response.message.text == "Hello!")
            #expect(response.finishReason == .stop)
            #expect(response.model == "openai/gpt-4o")
            #expect(response.attempts == 1)
            #expect(response.usage == Usage(inputTokens: 1000, outputTokens: 100))
            #expect(abs(response.costUsd - (1000 * 2.5 + 100 * 10) / 1_000_000) < 1e-12)
            #expect(response.durationMs > 0)
            #expect(response.timeToFirstTokenMs != nil)

            let sent = try #require(server.requests.first)
            #expect(sent.method == .POST)
            #expect(sent.uri == "/v1/chat/completions")
            #expect(sent.headers["Authorization"] == ["Bearer sk-test-key"])
            #expect(sent.headers["Content-Type"] == ["application/json"])
            #expect(sent.json == OpenAIChatWire.body(for: Self.request, stream: false))
        }
    }

    @Test func streamingDeltasArriveBeforeTheStreamEnds() async throws {
        let stream = CannedResponse.events([
            Self.sse(OpenAIChatStreamTests.chunk(#"{"role":"assistant","content":""}"#)),
            Self.textChunk("Hel"),
            .pause(.milliseconds(300)),
            Self.textChunk("lo"),
            .pause(.milliseconds(300)),
            Self.sse(OpenAIChatStreamTests.chunk("{}", finish: "stop")),
            Self.sse(OpenAIChatStreamTests.usageChunk),
            .bytes("data: [DONE]\n\n"),
        ])
        try await CannedResponseServer.with([stream]) { server in
            let arrivals = Mutex<[(ChatDelta, ContinuousClock.Instant)]>([])
            let response = try await Self.gateway(server).complete(Self.request, format: .openAI, stream: true) { delta in
                arrivals.withLock { $0.append((delta, .now)) }
            }
            let returned = ContinuousClock.now
            let seen = arrivals.withLock { $0 }
            #expect(seen.map(\.0) == [.text("Hel"), .text("lo")])
            let first = try #require(seen.first?.1)
            #expect(returned - first >= .milliseconds(450), "the first delta came only \(returned - first) before the end")
            #expect(response.message.text == "Hello")
            #expect(response.usage == Usage(inputTokens: 30, outputTokens: 7, cacheReadTokens: 20))
            let ttft = try #require(response.timeToFirstTokenMs)
            #expect(ttft < response.durationMs - 450)
            #expect(server.requests.first?.json?["stream"] == true)
            #expect(server.requests.first?.headers["Accept"] == ["text/event-stream"])
        }
    }

    @Test func anthropicStreamOverHTTP() async throws {
        let events = AnthropicMessagesStreamTests.self
        let body = anthropicStream(
            [
                events.start,
                ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#),
                ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"Oslo\"}"}}"#),
                ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            ] + events.stop("tool_use", output: 9))
        // Split the body mid-line to exercise the parser across network chunks.
        let cut = body.utf8.count / 2
        let parts: [CannedResponse.Part] = [
            .bytes(String(decoding: Array(body.utf8)[..<cut], as: UTF8.self)), .pause(.milliseconds(50)),
            .bytes(String(decoding: Array(body.utf8)[cut...], as: UTF8.self)),
        ]
        try await CannedResponseServer.with([.events(parts)]) { server in
            let deltas = Mutex<[ChatDelta]>([])
            let request = ChatRequest(model: "anthropic/claude-sonnet-4", system: "s", messages: [.user("weather?")])
            let response = try await Self.gateway(server).complete(request, format: .anthropic, stream: true) { delta in
                deltas.withLock { $0.append(delta) }
            }
            #expect(deltas.withLock { $0 } == [.toolCallStarted(id: "toolu_1", name: "get_weather")])
            #expect(response.message.toolCalls == [ChatToolCall(id: "toolu_1", name: "get_weather", arguments: ["city": "Oslo"])])
            #expect(response.finishReason == .toolCalls)
            let sent = try #require(server.requests.first)
            #expect(sent.uri == "/v1/messages")
            #expect(sent.headers["x-api-key"] == ["sk-test-key"])
            #expect(sent.headers["anthropic-version"] == ["2023-06-01"])
            #expect(sent.headers["Authorization"] == ["Bearer sk-test-key"])
            #expect(sent.json?["system"] == "s")
        }
    }

    @Test func plainJSONAnswerToAStreamRequestStillReachesOnDelta() async throws {
        try await CannedResponseServer.with([.json(Self.okBody)]) { server in
            let deltas = Mutex<[ChatDelta]>([])
            let response = try await Self.gateway(server).complete(Self.request, format: .openAI, stream: true) { delta in
                deltas.withLock { $0.append(delta) }
            }
            #expect(response.message.text == "Hello!")
            #expect(deltas.withLock { $0 } == [.text("Hello!")])
        }
    }

    // MARK: Retries and fallbacks

    @Test func connectionRefusedIsRetriedThenExhausted() async throws {
        // A port that was just listening and no longer is.
        let port = try await CannedResponseServer.with([]) { $0.port }
        let client = LLMGateway.makeHTTPClient(connectTimeout: .milliseconds(200))
        let gateway = LLMGateway(
            configuration: LLMGatewayConfiguration(
                baseURL: "http://127.0.0.1:\(port)", requestTimeout: .seconds(5), maxRetries: 1,
                retryBaseDelay: .milliseconds(1)),
            httpClient: client)
        let start = ContinuousClock.now
        let error = await #expect(throws: LLMError.self) {
            try await gateway.complete(Self.request, format: .openAI, stream: false)
        }
        let elapsed = ContinuousClock.now - start
        try await client.shutdown()
        #expect(error?.code == .exhausted)
        #expect(error?.cause?.code == .connection)
        #expect(error?.cause?.isRetryable == true)
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
        // Each attempt ends at the client's connect timeout, not at the request timeout.
        #expect(elapsed < .seconds(2), "took \(elapsed)")
    }

    @Test func rateLimitWithRetryAfterIsWaitedOutThenRetried() async throws {
        let limited = CannedResponse.json(
            #"{"error":{"message":"Rate limit reached","type":"rate_limit_error"}}"#, status: .tooManyRequests,
            headers: [("Retry-After", "1")])
        try await CannedResponseServer.with([limited, .json(Self.okBody)]) { server in
            let start = ContinuousClock.now
            let response = try await Self.gateway(server).complete(Self.request, format: .openAI, stream: false)
            let elapsed = ContinuousClock.now - start
            #expect(elapsed >= .milliseconds(950), "Retry-After: 1 was not honoured (\(elapsed))")
            #expect(elapsed < .seconds(3))
            #expect(response.attempts == 2)
            #expect(server.requests.count == 2)
            #expect(response.durationMs >= 950)
        }
    }

    @Test func serverErrorThenSuccess() async throws {
        try await CannedResponseServer.with([.json(#"{"error":{"message":"boom"}}"#, status: .internalServerError), .json(Self.okBody)]) {
            server in
            let response = try await Self.gateway(server).complete(Self.request, format: .openAI, stream: false)
            #expect(response.message.text == "Hello!")
            #expect(response.attempts == 2)
        }
    }

    @Test func fallbackModelAnswersOnceThePrimaryRetriesRunOut() async throws {
        let unavailable = CannedResponse.json(#"{"error":{"message":"overloaded"}}"#, status: .serviceUnavailable)
        try await CannedResponseServer.with([unavailable, unavailable, .json(Self.okBody)]) { server in
            let gateway = Self.gateway(server, maxRetries: 1, fallbacks: ["anthropic/claude-haiku"])
            let response = try await gateway.complete(Self.request, format: .openAI, stream: false)
            #expect(response.model == "anthropic/claude-haiku")
            #expect(response.attempts == 3)
            #expect(response.costUsd == 0)  // the fallback has no price
            #expect(server.requests.compactMap { $0.json?["model"]?.stringValue } == ["openai/gpt-4o", "openai/gpt-4o", "anthropic/claude-haiku"])
        }
    }

    @Test func exhaustedAfterEveryAttemptFailed() async throws {
        let unavailable = CannedResponse.json(#"{"error":{"message":"overloaded right now"}}"#, status: .badGateway)
        try await CannedResponseServer.with([unavailable, unavailable, unavailable]) { server in
            let error = await #expect(throws: LLMError.self) {
                try await Self.gateway(server, maxRetries: 2).complete(Self.request, format: .openAI, stream: false)
            }
            #expect(error?.code == .exhausted)
            #expect(error?.cause?.code == .http(502))
            #expect(error?.status == 502)
            #expect(error?.isRetryable == false)
            #expect(error?.description.contains("3 attempt(s)") == true)
            #expect(error?.description.contains("overloaded right now") == true)
            #expect(server.requests.count == 3)
        }
    }

    @Test func badRequestIsNotRetriedNorFallenBack() async throws {
        let rejected = CannedResponse.json(
            #"{"error":{"message":"messages: roles must alternate","type":"invalid_request_error"}}"#, status: .badRequest)
        try await CannedResponseServer.with([rejected, .json(Self.okBody)]) { server in
            let error = await #expect(throws: LLMError.self) {
                try await Self.gateway(server, fallbacks: ["other"]).complete(Self.request, format: .openAI, stream: false)
            }
            #expect(error?.code == .http(400))
            #expect(error?.isRetryable == false)
            #expect(error?.description.contains("HTTP 400") == true)
            #expect(error?.description.contains("roles must alternate") == true)
            #expect(server.requests.count == 1)
        }
    }

    @Test func unauthorizedNeverShowsTheKey() async throws {
        let rejected = CannedResponse.json(
            #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key: sk-test-key"}}"#,
            status: .unauthorized)
        try await CannedResponseServer.with([rejected]) { server in
            let error = await #expect(throws: LLMError.self) {
                try await Self.gateway(server).complete(Self.request, format: .anthropic, stream: true)
            }
            #expect(error?.code == .http(401))
            let text = error?.description ?? ""
            #expect(!text.contains("sk-test-key"))
            #expect(text.contains("invalid x-api-key: <redacted>"))
            #expect(text.contains("Check the API key"))
        }
    }

    @Test func malformedReplyIsNotRetried() async throws {
        try await CannedResponseServer.with([.json("<html>oops</html>"), .json(Self.okBody)]) { server in
            let error = await #expect(throws: LLMError.self) {
                try await Self.gateway(server).complete(Self.request, format: .openAI, stream: false)
            }
            #expect(error?.code == .malformedResponse)
            #expect(server.requests.count == 1)
        }
    }

    // MARK: Timeouts, broken streams, cancellation

    @Test func requestTimeoutIsRetried() async throws {
        try await CannedResponseServer.with([.silent, .json(Self.okBody)]) { server in
            let start = ContinuousClock.now
            let response = try await Self.gateway(server, maxRetries: 1, requestTimeout: .milliseconds(300))
                .complete(Self.request, format: .openAI, stream: false)
            let elapsed = ContinuousClock.now - start
            #expect(response.attempts == 2)
            #expect(elapsed >= .milliseconds(290))
            #expect(elapsed < .seconds(3))
        }
    }

    @Test func timeoutOnEveryAttemptIsExhausted() async throws {
        try await CannedResponseServer.with([.silent, .silent]) { server in
            let error = await #expect(throws: LLMError.self) {
                try await Self.gateway(server, maxRetries: 1, requestTimeout: .milliseconds(200))
                    .complete(Self.request, format: .openAI, stream: false)
            }
            #expect(error?.code == .exhausted)
            #expect(error?.cause?.code == .timeout)
        }
    }

    @Test func streamSilentBeforeAnyDeltaIsRetried() async throws {
        let silentStream = CannedResponse.events([.bytes(": connected\n\n"), .stall])
        let stream = CannedResponse.events([Self.textChunk("Hi"), Self.sse(OpenAIChatStreamTests.chunk("{}", finish: "stop")), .bytes("data: [DONE]\n\n")])
        try await CannedResponseServer.with([silentStream, stream]) { server in
            let deltas = Mutex<[ChatDelta]>([])
            let response = try await Self.gateway(server, requestTimeout: .milliseconds(300))
                .complete(Self.request, format: .openAI, stream: true) { delta in deltas.withLock { $0.append(delta) } }
            #expect(response.attempts == 2)
            #expect(deltas.withLock { $0 } == [.text("Hi")])
        }
    }

    @Test func streamBrokenBeforeAnyDeltaIsRetried() async throws {
        let broken = CannedResponse.events([Self.sse(OpenAIChatStreamTests.chunk(#"{"role":"assistant"}"#)), .disconnect])
        let stream = CannedResponse.events([Self.textChunk("Hi"), .bytes("data: [DONE]\n\n")])
        try await CannedResponseServer.with([broken, stream]) { server in
            let response = try await Self.gateway(server).complete(Self.request, format: .openAI, stream: true) { _ in }
            #expect(response.attempts == 2)
            #expect(response.message.text == "Hi")
        }
    }

    @Test func streamCutAfterADeltaFailsWithoutRetry() async throws {
        // The body ends cleanly but without [DONE] or a finish reason.
        let cut = CannedResponse.events([Self.textChunk("Hel")])
        try await CannedResponseServer.with([cut, .json(Self.okBody)]) { server in
            let error = await #expect(throws: LLMError.self) {
                try await Self.gateway(server).complete(Self.request, format: .openAI, stream: true) { _ in }
            }
            #expect(error?.code == .truncatedStream)
            #expect(error?.isRetryable == false)
            #expect(error?.description.contains("already delivered") == true)
            #expect(server.requests.count == 1)
        }
    }

    @Test func cancellationMidStreamStopsAtOnce() async throws {
        let stalling = CannedResponse.events([Self.textChunk("Hel"), .stall])
        try await CannedResponseServer.with([stalling]) { server in
            let (firstDelta, signal) = AsyncStream<Void>.makeStream()
            let gateway = Self.gateway(server, requestTimeout: .seconds(30))
            let call = Task {
                try await gateway.complete(Self.request, format: .openAI, stream: true) { _ in signal.yield() }
            }
            for await _ in firstDelta { break }
            let cancelled = ContinuousClock.now
            call.cancel()
            let result = await call.result
            let took = ContinuousClock.now - cancelled
            #expect(took < .seconds(1), "cancellation took \(took)")
            #expect(throws: CancellationError.self) { try result.get() }
            // The HTTP request stopped too: the server sees the connection closed.
            let closedAt = try await eventually { server.clientClosedAt.first }
            #expect(closedAt - cancelled < .seconds(1))
            #expect(server.requests.count == 1)
        }
    }

    @Test func cancellationBeforeTheResponseHeadStopsAtOnce() async throws {
        try await CannedResponseServer.with([.silent]) { server in
            let gateway = Self.gateway(server, requestTimeout: .seconds(30))
            let call = Task { try await gateway.complete(Self.request, format: .openAI, stream: true) }
            _ = try await eventually { server.requests.first }
            let cancelled = ContinuousClock.now
            call.cancel()
            let result = await call.result
            #expect(ContinuousClock.now - cancelled < .seconds(1))
            #expect(throws: CancellationError.self) { try result.get() }
            let closedAt = try await eventually { server.clientClosedAt.first }
            #expect(closedAt - cancelled < .seconds(1))
        }
    }

    @Test func cancellationDuringRetryBackoffIsNotRetried() async throws {
        let limited = CannedResponse.json(#"{"error":{"message":"slow down"}}"#, status: .tooManyRequests, headers: [("Retry-After", "4")])
        try await CannedResponseServer.with([limited, .json(Self.okBody)]) { server in
            let gateway = Self.gateway(server)
            let call = Task { try await gateway.complete(Self.request, format: .openAI, stream: false) }
            _ = try await eventually { server.requests.first }
            try await Task.sleep(for: .milliseconds(100))
            let cancelled = ContinuousClock.now
            call.cancel()
            let result = await call.result
            #expect(ContinuousClock.now - cancelled < .seconds(1))
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(server.requests.count == 1)
        }
    }
}

/// Polls `probe` until it returns a value (at most `timeout`).
func eventually<T>(timeout: Duration = .seconds(3), _ probe: () -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = probe() { return value }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw LLMError(.timeout, "the condition a test waited for never came true")
}
