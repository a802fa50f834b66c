import AsyncHTTPClient
import BosunProtocol
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The client of the LLM gateway (a LiteLLM proxy): sends a `ChatRequest` in the OpenAI or
/// Anthropic wire format, streams the answer to the caller as it arrives, retries what is
/// worth retrying, falls back to other models, and reports usage, cost and timings.
///
/// Holds no connection state of its own: the `HTTPClient` is passed in and owned by the
/// caller (the default, `HTTPClient.shared`, never needs shutting down).
public struct LLMGateway: Sendable {
    public let configuration: LLMGatewayConfiguration
    let http: HTTPClient
    let logger: Logger

    /// Errors bodies are read this far: enough for any provider's message.
    static let errorBodyLimit = 64 << 10
    /// A non-streaming reply larger than this is not an answer anyone asked for.
    static let replyLimit = 32 << 20

    /// - Parameters:
    ///   - httpClient: AsyncHTTPClient keeps re-trying a refused connection until its connect
    ///     timeout (10 s for `.shared`) before an attempt fails; `makeHTTPClient` makes one that
    ///     gives up sooner, for a gateway on the same host.
    ///   - logger: gets a warning per retry and fallback (model, attempt, status, delay; never
    ///     the key or any message content).
    public init(configuration: LLMGatewayConfiguration, httpClient: HTTPClient = .shared, logger: Logger? = nil) {
        self.configuration = configuration
        self.http = httpClient
        self.logger = logger ?? Logger(label: "bosun.llm")
    }

    /// An HTTP client whose connection attempts give up after `connectTimeout`, so a gateway
    /// that is down fails each attempt quickly instead of after 10 s. The caller owns it and
    /// must `try await client.shutdown()` when done with it.
    public static func makeHTTPClient(connectTimeout: Duration = .seconds(3)) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = connectTimeout.timeAmount
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends `request` and returns the whole answer. With `stream`, text and tool-call starts
    /// go to `onDelta` as they arrive; a retry never repeats a delta the caller has seen (a
    /// stream that breaks after output was delivered fails instead of being retried).
    ///
    /// Throws `LLMError` (`.exhausted` once retries and fallbacks ran out on retryable
    /// failures; other codes at once for failures that retrying cannot fix) or
    /// `CancellationError` when the task is cancelled, which also stops the HTTP request.
    public func complete(
        _ request: ChatRequest, format: WireFormat, stream: Bool,
        onDelta: (@Sendable (ChatDelta) async -> Void)? = nil
    ) async throws -> ChatResponse {
        switch format {
        case .openAI: try await complete(request, wire: OpenAIChatWire.self, stream: stream, onDelta: onDelta)
        case .anthropic: try await complete(request, wire: AnthropicMessagesWire.self, stream: stream, onDelta: onDelta)
        }
    }

    private func complete<Wire: ChatWire>(
        _ request: ChatRequest, wire: Wire.Type, stream: Bool, onDelta: (@Sendable (ChatDelta) async -> Void)?
    ) async throws -> ChatResponse {
        let start = ContinuousClock.now
        var plan = RetryPlan(
            model: request.model, fallbacks: configuration.fallbacks, maxRetries: configuration.maxRetries,
            baseDelay: configuration.retryBaseDelay, maxDelay: configuration.retryMaxDelay)
        while true {
            try Task.checkCancellation()
            plan.attemptStarted()
            var attemptRequest = request
            attemptRequest.model = plan.model
            do {
                let (reply, firstDeltaAt) = try await attempt(attemptRequest, wire: wire, stream: stream, onDelta: onDelta)
                let end = ContinuousClock.now
                return ChatResponse(
                    message: reply.message, finishReason: reply.finishReason, rawFinishReason: reply.rawFinishReason,
                    usage: reply.usage, model: plan.model,
                    costUsd: configuration.pricing.cost(model: plan.model, usage: reply.usage),
                    // From the start of the call, so retries count: it is what the user waited.
                    timeToFirstTokenMs: ((firstDeltaAt ?? end) - start).milliseconds,
                    durationMs: (end - start).milliseconds, attempts: plan.attempts)
            } catch let error as LLMError {
                if Task.isCancelled { throw CancellationError() }
                let error = error.redacting(configuration.apiKey)
                guard error.isRetryable else { throw error }
                let failedModel = plan.model
                var metadata: Logger.Metadata = [
                    "llm.model": "\(failedModel)", "llm.attempt": "\(plan.attempts)", "llm.error": "\(error.code.name)",
                ]
                if let status = error.status { metadata["llm.status"] = "\(status)" }
                switch plan.next(retryAfter: error.retryAfter) {
                case .retry(let delay):
                    metadata["llm.delay_ms"] = "\(Int(delay.milliseconds))"
                    logger.warning("LLM call failed; retrying", metadata: metadata)
                    try await Task.sleep(for: delay)
                case .fallback(let model):
                    metadata["llm.fallback_model"] = "\(model)"
                    logger.warning("LLM model failed after its retries; trying the fallback model", metadata: metadata)
                case .giveUp:
                    throw LLMError(
                        .exhausted,
                        "gave up after \(plan.attempts) attempt(s) on model(s) \(plan.models.joined(separator: ", "))",
                        model: request.model, cause: error)
                }
            }
        }
    }

    /// One HTTP request. Returns the reply and when its first delta was decoded.
    private func attempt<Wire: ChatWire>(
        _ request: ChatRequest, wire: Wire.Type, stream: Bool, onDelta: (@Sendable (ChatDelta) async -> Void)?
    ) async throws -> (ChatReply, ContinuousClock.Instant?) {
        let url = configuration.url(for: Wire.path)
        var http = HTTPClientRequest(url: url)
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Accept", value: stream ? "text/event-stream" : "application/json")
        http.headers.add(name: "User-Agent", value: "bosun-llm")
        for header in Wire.headers(apiKey: configuration.apiKey) { http.headers.add(name: header.name, value: header.value) }
        http.body = .bytes(ByteBuffer(bytes: WireJSON.encode(Wire.body(for: request, stream: stream))))

        let what = "POST \(Wire.path)"
        let model = request.model
        let response: HTTPClientResponse
        do {
            // The deadline covers the response head; `ResponseProgress` bounds the body.
            response = try await self.http.execute(http, timeout: configuration.requestTimeout.timeAmount, logger: logger)
        } catch {
            throw Self.transportError(error, while: "POST \(url)", model: model)
        }

        let progress = ResponseProgress()
        let timeout = configuration.requestTimeout
        let status = Int(response.status.code)
        do {
            guard (200..<300).contains(status) else {
                let body = try await progress.withIdleTimeout(timeout) {
                    try await Self.collect(response.body, limit: Self.errorBodyLimit, truncating: true, progress: progress)
                }
                throw Self.statusError(status, body: body, headers: response.headers, what: what, model: model)
            }
            let contentType = response.headers["content-type"].first?.lowercased() ?? ""
            if stream, contentType.contains("text/event-stream") {
                let accumulator = Wire.Stream()
                let reply = try await progress.withIdleTimeout(timeout) {
                    try await Self.readStream(response.body, into: accumulator, progress: progress, onDelta: onDelta)
                }
                return (reply, progress.firstDeltaAt)
            }
            // Not a stream (not asked for, or a gateway that answered a stream request whole).
            let body = try await progress.withIdleTimeout(timeout) {
                try await Self.collect(response.body, limit: Self.replyLimit, truncating: false, progress: progress)
            }
            let reply = try Wire.decodeReply(body)
            if stream, let onDelta {
                for delta in reply.deltas { await onDelta(delta) }
            }
            return (reply, nil)
        } catch {
            let translated = Self.transportError(error, while: "reading the reply to POST \(url)", model: model)
            guard var failure = translated as? LLMError else { throw translated }
            failure.model = failure.model ?? model
            if progress.deliveredDeltas, failure.isRetryable {
                // Sending the request again would show the caller the same output twice.
                failure.isRetryable = false
                failure.detail += " after part of the answer was already delivered (not retried, so no output repeats)"
            }
            throw failure
        }
    }

    private static func readStream<Accumulator: ChatStreamAccumulator & Sendable>(
        _ body: HTTPClientResponse.Body, into accumulator: Accumulator, progress: ResponseProgress,
        onDelta: (@Sendable (ChatDelta) async -> Void)?
    ) async throws -> ChatReply {
        var parser = ServerSentEventParser()
        var accumulator = accumulator
        func deliver(_ deltas: [ChatDelta]) async {
            for delta in deltas {
                progress.sawDelta(delivered: onDelta != nil)
                await onDelta?(delta)
            }
        }
        do {
            for try await buffer in body {
                progress.touch()
                for event in parser.feed(buffer.readableBytesView) {
                    await deliver(try accumulator.consume(event))
                }
            }
        } catch let error as LLMError {
            throw error
        } catch {
            throw transportError(error, while: "reading the response stream", model: nil)
        }
        // A cancelled body ends like a finished one; only the task knows the difference.
        try Task.checkCancellation()
        if let event = parser.finish() { await deliver(try accumulator.consume(event)) }
        return try accumulator.finish()
    }

    private static func collect(
        _ body: HTTPClientResponse.Body, limit: Int, truncating: Bool, progress: ResponseProgress
    ) async throws -> Data {
        var data = Data()
        do {
            for try await buffer in body {
                progress.touch()
                data.append(contentsOf: buffer.readableBytesView)
                if data.count > limit {
                    if truncating { return data.prefix(limit) }
                    throw LLMError(.malformedResponse, "the reply is larger than \(limit >> 20) MiB")
                }
            }
        } catch let error as LLMError {
            throw error
        } catch {
            throw transportError(error, while: "reading the response", model: nil)
        }
        try Task.checkCancellation()
        return data
    }

    /// A non-2xx answer, with the provider's own message when the body has one.
    static func statusError(_ status: Int, body: Data, headers: HTTPHeaders, what: String, model: String) -> LLMError {
        let message = ProviderErrorBody(body)?.summary ?? (body.isEmpty ? nil : WireJSON.prefix(of: body))
        var error = LLMError(.http(status), "the gateway answered HTTP \(status) to \(what)", providerMessage: message, model: model)
        error.retryAfter = RetryAfter.delay(in: headers)
        return error
    }

    /// Maps an AsyncHTTPClient or NIO failure onto `LLMError`; cancellation stays cancellation.
    static func transportError(_ error: any Error, while target: String, model: String?) -> any Error {
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        if let error = error as? LLMError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .getConnectionFromPoolTimeout,
                .tlsHandshakeTimeout:
                return LLMError(.timeout, "\(target) timed out (\(error))", model: model)
            case .invalidURL, .emptyHost, .emptyScheme:
                return LLMError(
                    .invalidRequest, "\(target): the gateway base URL is not usable (\(error))", model: model)
            default:
                break
            }
        }
        return LLMError(.connection, "\(target) failed: \(error)", model: model)
    }
}
