import BosunProtocol
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Outermost middleware: gives each request an id (`X-Request-Id`, echoed back), logs one
/// structured line per request, and turns every error into a problem+json reply so no client
/// ever sees an empty 500.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = BosunRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let incoming = request.headers[HTTPField.Name("X-Request-Id")!]
        let requestId =
            incoming.flatMap { $0.count <= 128 && $0.allSatisfy { $0.isASCII && !$0.isWhitespace } ? $0 : nil }
            ?? UUID().uuidString.lowercased()
        context.requestId = requestId
        context.logger[metadataKey: "bosun.request.id"] = .string(requestId)
        if let execution = Self.executionId(in: request.uri.path) {
            context.logger[metadataKey: "bosun.execution.id"] = .string(execution)
        }
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error)
            if apiError.status.code >= 500 {
                context.logger.error(
                    "request failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            response = try apiError.response(from: request, context: context)
        }
        response.headers[HTTPField.Name("X-Request-Id")!] = requestId
        let elapsed = ContinuousClock.now - start
        let millis = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        // Failures are worth a line at info; the steady stream of polls and renewals is not.
        let level: Logger.Level = response.status.code >= 500 ? .error : response.status.code >= 400 ? .info : .debug
        context.logger.log(
            level: level,
            "request",
            metadata: [
                "http.method": "\(request.method.rawValue)",
                "http.path": "\(request.uri.path)",
                "http.status": "\(response.status.code)",
                "duration_ms": "\(String(format: "%.2f", millis))",
            ])
        return response
    }

    /// The execution a path is about (`/api/v1/executions/{id}/...`), for log correlation.
    static func executionId(in path: String) -> String? {
        let parts = path.split(separator: "/")
        guard let index = parts.firstIndex(of: "executions"), index + 1 < parts.count,
            let id = UUID(uuidString: String(parts[index + 1]))
        else { return nil }
        return id.uuidString.lowercased()
    }

    static func apiError(for error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as HTTPError:
            let code = error.status == .notFound ? "not-found" : "http-error"
            let detail =
                error.status == .notFound
                ? "no such route" : (error.body ?? error.status.reasonPhrase)
            return APIError(error.status, code, detail)
        case is HTTPParserError:
            // Mostly a client that went away mid-request (a worker cancelling an upload when its
            // turn ended): nobody reads this answer, and it is not the server's failure.
            return APIError(.badRequest, "incomplete-request", "the request ended before it was complete")
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, "body-too-large", "the request body is larger than the server accepts")
        case let error as DecodingError:
            return APIError.invalidBody(describe(error))
        default:
            return APIError(.internalServerError, "internal", "an internal error occurred; see the server log")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let joined = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? "the body" : "'\(joined)'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context.codingPath)) has the wrong type: \(context.debugDescription)"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the body is not valid JSON" }
            return "\(path(context.codingPath)) is invalid: \(context.debugDescription)"
        @unknown default:
            return "the body could not be decoded"
        }
    }
}
