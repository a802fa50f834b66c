import BosunProtocol
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The provider endpoints: `POST /v1/chat/completions` (and `/chat/completions`, as LiteLLM
/// serves it) in OpenAI's format and `POST /v1/messages` in Anthropic's.
struct LLMRoutes: Sendable {
    let state: ScriptState
    let requireKey: String?
    let logger: Logger

    /// The most a request body may hold.
    static let maxBodySize = 64 << 20

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/chat/completions") { request, _ in try await handle(request, format: .openai) }
        router.post("/chat/completions") { request, _ in try await handle(request, format: .openai) }
        router.post("/v1/messages") { request, _ in try await handle(request, format: .anthropic) }
    }

    func handle(_ request: Request, format: ScriptedLLMFormat) async throws -> Response {
        let buffer = try await request.body.collect(upTo: Self.maxBodySize)
        var headers: [String: String] = [:]
        for name in ScriptedLLMRequest.headersOfInterest {
            if let field = HTTPField.Name(name), let value = request.headers[field] { headers[name] = value }
        }
        // The byte parser first: in `bosun bench e2e` this stand-in shares the CPU with Bosun.
        let parsed = Result {
            try (try? JSONValue(parsing: Data(buffer: buffer))) ?? JSONDecoder().decode(JSONValue.self, from: Data(buffer: buffer))
        }
        let body = try? parsed.get()
        var entry = ScriptedLLMRequest(
            sequence: 0, path: request.uri.path, format: format, headers: headers, body: body,
            model: body?["model"]?.stringValue, stream: body?["stream"]?.boolValue ?? false, answer: .fixed, entry: nil,
            status: 200)

        if let requireKey, !presentedKeys(request).contains(requireKey) {
            entry.answer = .unauthorized
            entry.status = 401
            log(await state.record(entry))
            return Self.error(format, status: 401, message: "scripted LLM: invalid API key")
        }
        guard case .success(let document) = parsed, case .object = document else {
            entry.answer = .badRequest
            entry.status = 400
            log(await state.record(entry))
            let problem: String
            if case .failure = parsed {
                problem = "scripted LLM: the request body is not valid JSON (\(JSONSyntax.problem(in: Data(buffer: buffer))))"
            } else {
                problem = "scripted LLM: the request body must be a JSON object"
            }
            return Self.error(format, status: 400, message: problem)
        }

        let incoming = IncomingRequest(format: format, body: document, size: buffer.readableBytes)
        let (outcome, record) = await state.answer(incoming, entry: entry)
        log(record)
        switch outcome {
        case .exhausted:
            return Self.error(format, status: 500, message: ScriptState.exhaustedMessage)
        case .reply(let plan):
            return try await respond(plan)
        }
    }

    func respond(_ plan: ReplyPlan) async throws -> Response {
        if let delay = plan.delay { try await Self.sleep(delay) }
        let fault = plan.fault
        if let status = fault?.status {
            var response = Self.error(plan.format, status: status, message: "scripted LLM fault: HTTP \(status)")
            if let retryAfter = fault?.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
            return response
        }
        if plan.stream { return stream(plan) }

        let document =
            switch plan.format {
            case .openai: OpenAIWire.completion(plan)
            case .anthropic: AnthropicWire.message(plan)
            }
        let full = ByteBuffer(string: ReplyPlan.encode(document))
        let half = full.getSlice(at: full.readerIndex, length: full.readableBytes / 2) ?? ByteBuffer()
        let headers: HTTPFields = [.contentType: "application/json"]
        if fault?.invalidJSON == true {
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: half))
        }
        if fault?.truncate == true {
            // The whole length is announced, half is sent, and the connection drops.
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(contentLength: full.readableBytes) { writer in
                    try await writer.write(half)
                    throw ScriptedTruncation()
                })
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: full))
    }

    /// Writes the events one by one, pausing `chunk_delay_ms` between them.
    func stream(_ plan: ReplyPlan) -> Response {
        var events: [ServerSentEvent]
        let invalid: ServerSentEvent
        switch plan.format {
        case .openai:
            events = OpenAIWire.events(plan)
            invalid = OpenAIWire.invalidEvent(plan)
        case .anthropic:
            events = AnthropicWire.events(plan)
            invalid = AnthropicWire.invalidEvent(plan)
        }
        var cut = events.count / 2
        if plan.fault?.invalidJSON == true {
            events.insert(invalid, at: cut)
            cut += 1
        }
        let stop = plan.fault?.truncate == true ? cut : nil
        let chunks = events.map { ByteBuffer(string: $0.text) }
        let chunkDelay = plan.chunkDelay
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                for (index, chunk) in chunks.enumerated() {
                    if let stop, index == stop { throw ScriptedTruncation() }
                    if index > 0, let chunkDelay { try await Self.sleep(chunkDelay) }
                    try await writer.write(chunk)
                }
                try await writer.finish(nil)
            })
    }

    /// The keys a request presents: `Authorization: Bearer K` and `x-api-key: K`.
    func presentedKeys(_ request: Request) -> [String] {
        var keys: [String] = []
        if let authorization = request.headers[.authorization] {
            keys.append(authorization.hasPrefix("Bearer ") ? String(authorization.dropFirst(7)) : authorization)
        }
        if let name = HTTPField.Name("x-api-key"), let key = request.headers[name] { keys.append(key) }
        return keys
    }

    func log(_ record: ScriptedLLMRequest) {
        var metadata: Logger.Metadata = [
            "llm.sequence": "\(record.sequence)",
            "llm.path": "\(record.path)",
            "llm.format": "\(record.format.rawValue)",
            "llm.stream": "\(record.stream)",
            "llm.answer": "\(record.answer.rawValue)",
            "http.status": "\(record.status)",
        ]
        if let model = record.model { metadata["llm.model"] = "\(model)" }
        if let entry = record.entry { metadata["llm.entry"] = "\(entry)" }
        logger.info("scripted LLM request", metadata: metadata)
    }

    /// A pause that ends early when the server shuts down.
    static func sleep(_ duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }

    /// An error reply in the provider's shape.
    static func error(_ format: ScriptedLLMFormat, status: Int, message: String) -> Response {
        let document =
            switch format {
            case .openai: OpenAIWire.error(status: status, message: message)
            case .anthropic: AnthropicWire.error(status: status, message: message)
            }
        return Response(
            status: HTTPResponse.Status(code: status, reasonPhrase: reasonPhrase(status)),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: ReplyPlan.encode(document))))
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 529: "Overloaded"
        default: status < 500 ? "Client Error" : "Server Error"
        }
    }
}

/// Thrown from a response body to drop the connection in the middle of a reply.
struct ScriptedTruncation: Error {}
