import BosunProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension Request {
    /// Reads the body (at most `limit` bytes) and decodes it as `T`.
    ///
    /// When `allowedKeys` is given, top-level fields outside it are rejected: a typo such as
    /// `agentid` must not silently create something other than what the caller meant.
    func decodeJSON<T: Decodable>(
        _ type: T.Type, limit: Int, allowedKeys: Set<String>? = nil, allowEmpty: Bool = false
    ) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body-too-large", "the request body is larger than \(limit) bytes")
        }
        // The body is read as JSON whatever Content-Type says: `curl -d` sends form encoding by default.
        var data = Data(buffer: buffer)
        if data.isEmpty && allowEmpty { data = Data("{}".utf8) }
        guard !data.isEmpty else { throw APIError.invalidBody("the request body is empty; send a JSON object") }
        let decoder = WireCoding.decoder()
        let document: JSONValue
        do {
            document = try decoder.decode(JSONValue.self, from: data)
        } catch {
            throw APIError.invalidBody("the body is not valid JSON")
        }
        guard case .object(let object) = document else { throw APIError.invalidBody("the body must be a JSON object") }
        if let allowedKeys {
            let unknown = object.keys.filter { !allowedKeys.contains($0) }.sorted()
            if !unknown.isEmpty {
                throw APIError.invalidBody(
                    "unknown field\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0)'" }.joined(separator: ", "));"
                        + " allowed: \(allowedKeys.sorted().joined(separator: ", "))")
            }
        }
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.invalidBody(RequestLogMiddleware.describe(error))
        }
    }
}

extension Set where Element == String {
    init<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) {
        self = Set(keys.allCases.map(\.stringValue))
    }
}

/// A JSON reply with the right content type.
struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: Body

    init(_ body: Body, status: HTTPResponse.Status = .ok) {
        self.body = body
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try WireCoding.encoder().encode(body)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
