import BosunProtocol
import Foundation
import Hummingbird

/// An error that knows how to reach an HTTP client: status, a stable problem type and a clear
/// detail. Rendered as `application/problem+json` (RFC 9457).
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A stable slug; the problem `type` is `https://bosun.dev/problems/<code>`.
    public var code: String
    public var detail: String
    public var headers: HTTPFields = [:]
    /// A policy decision to show with the problem (a 403 from a policy names its rule).
    public var policy: JSONValue?

    public init(_ status: HTTPResponse.Status, _ code: String, _ detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(status.code) \(code): \(detail)" }

    public var problem: Problem {
        Problem(type: "https://bosun.dev/problems/\(code)", title: status.reasonPhrase, status: status.code, detail: detail, policy: policy)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let body = try WireCoding.encode(problem)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func badRequest(_ detail: String) -> APIError { APIError(.badRequest, "bad-request", detail) }
    static func invalidBody(_ detail: String) -> APIError { APIError(.badRequest, "invalid-body", detail) }
    static func notFound(_ what: String, _ id: UUID) -> APIError {
        APIError(.notFound, "not-found", "\(what) \(id.uuidString.lowercased()) does not exist")
    }
    static func unauthorized(_ detail: String) -> APIError {
        var error = APIError(.unauthorized, "unauthorized", detail)
        error.headers[.wwwAuthenticate] = "Bearer realm=\"bosun\""
        return error
    }
    static func forbidden(_ detail: String) -> APIError { APIError(.forbidden, "forbidden", detail) }
    static func conflict(_ code: String, _ detail: String) -> APIError { APIError(.conflict, code, detail) }
    static func unavailable(_ detail: String) -> APIError { APIError(.serviceUnavailable, "unavailable", detail) }
}
