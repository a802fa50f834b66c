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
        _ type: T.Type, limit: Int, allowedKeys: Set<String>? = nil, allowEmpty: Bool = false,
        nul: NULHandling = .reject
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
        var document: JSONValue
        do {
            // Parsed once, by the byte parser, for the checks below and the typed decode.
            document = try JSONValue(parsing: data)
        } catch {
            throw APIError.invalidBody("the body is not valid JSON")
        }
        guard case .object(let object) = document else { throw APIError.invalidBody("the body must be a JSON object") }
        // PostgreSQL's text and jsonb cannot hold U+0000: refused here with a clear 400 instead
        // of failing in the database. Workers' reports (tool output may be binary) are cleaned.
        if document.containsNUL {
            switch nul {
            case .reject:
                throw APIError.invalidBody("strings must not contain the NUL character (\\u0000)")
            case .replace:
                document = document.replacingNUL()
            }
        }
        if let allowedKeys {
            let unknown = object.keys.filter { !allowedKeys.contains($0) }.sorted()
            if !unknown.isEmpty {
                throw APIError.invalidBody(
                    "unknown field\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0)'" }.joined(separator: ", "));"
                        + " allowed: \(allowedKeys.sorted().joined(separator: ", "))")
            }
        }
        do {
            return try JSONValueCoder.decode(T.self, from: document)
        } catch let error as DecodingError {
            throw APIError.invalidBody(RequestLogMiddleware.describe(error))
        }
    }
}

/// What a body with a U+0000 in a string gets.
enum NULHandling {
    /// 400: the sender can fix its request.
    case reject
    /// Each one becomes U+FFFD: the sender reports what it saw and cannot do otherwise.
    case replace
}

extension JSONValue {
    var containsNUL: Bool {
        switch self {
        case .string(let text): text.utf8.contains(0)
        case .array(let items): items.contains { $0.containsNUL }
        case .object(let members): members.contains { $0.key.utf8.contains(0) || $0.value.containsNUL }
        case .null, .bool, .number: false
        }
    }

    func replacingNUL() -> JSONValue {
        func clean(_ text: String) -> String { text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") }
        switch self {
        case .string(let text): return .string(clean(text))
        case .array(let items): return .array(items.map { $0.replacingNUL() })
        case .object(let members):
            return .object(Dictionary(members.map { (clean($0.key), $0.value.replacingNUL()) }, uniquingKeysWith: { _, last in last }))
        case .null, .bool, .number: return self
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
        let data = try WireCoding.encode(body)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
