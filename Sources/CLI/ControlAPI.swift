import AsyncHTTPClient
import BosunProtocol
import Foundation
import NIOCore
import NIOHTTP1

/// The control API over HTTP: JSON in, JSON out, problem+json errors turned into `CLIError`s
/// with the exit code their status maps to.
struct ControlAPI: Sendable {
    let configuration: ClientConfiguration

    /// One finished reply: status and the whole body.
    struct Reply: Sendable {
        var status: Int
        var body: Data

        func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
            do {
                return try WireCoding.decoder().decode(T.self, from: body)
            } catch {
                throw CLIError("the control API sent a reply this CLI cannot read (\(T.self)): \(error)")
            }
        }
    }

    static let requestTimeout: TimeAmount = .seconds(60)

    /// Not `HTTPClient.shared`: that one retries a refused connection until the request's
    /// deadline, so an unreachable control API would hang every command for a minute. Here a
    /// refused connection fails at once (exit code 6) and `run --follow` does its own retrying.
    /// It lives as long as the process, so it is never shut down.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    func makeRequest(_ method: HTTPMethod, _ path: String, accept: String = "application/json") -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.controlURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.apiKey)")
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: "bosun-cli")
        return request
    }

    /// Sends a request and returns its reply when the status is 2xx; throws the problem otherwise.
    @discardableResult
    func send(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws -> Reply {
        var request = makeRequest(method, path)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await execute(request, timeout: Self.requestTimeout)
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw unreachable(error)
        }
        let reply = Reply(status: Int(response.status.code), body: Data(buffer: bytes))
        guard (200..<300).contains(reply.status) else { throw Self.problem(reply) }
        return reply
    }

    func get(_ path: String) async throws -> Reply { try await send(.GET, path) }

    @discardableResult
    func post(_ path: String, _ value: some Encodable) async throws -> Reply {
        try await send(.POST, path, body: try WireCoding.encoder().encode(value))
    }

    func delete(_ path: String) async throws { try await send(.DELETE, path) }

    /// Executes a request; a failure to reach the control API at all is exit code 6.
    func execute(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> HTTPClientResponse {
        do {
            return try await Self.http.execute(request, timeout: timeout)
        } catch {
            throw unreachable(error)
        }
    }

    func unreachable(_ error: any Error) -> CLIError {
        CLIError("cannot reach the control API at \(configuration.controlURL): \(error)", exit: .unavailable)
    }

    /// The error for a non-2xx reply: the problem document's `detail` when there is one.
    static func problem(_ reply: Reply) -> CLIError {
        let exit = CLIExit.forHTTPStatus(reply.status)
        if let problem = try? WireCoding.decoder().decode(Problem.self, from: reply.body), !problem.detail.isEmpty {
            return CLIError(problem.detail, exit: exit)
        }
        let text = String(decoding: reply.body.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return CLIError("the control API answered \(reply.status)\(text.isEmpty ? "" : ": \(text)")", exit: exit)
    }
}

/// Path pieces: ids are lowercased, and anything else is percent-encoded.
enum APIPath {
    static func id(_ id: UUID) -> String { id.uuidString.lowercased() }

    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
            ?? text
    }

    static func query(_ items: [(String, String?)]) -> String {
        var components = URLComponents()
        components.queryItems = items.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        guard let query = components.percentEncodedQuery, !query.isEmpty else { return "" }
        return "?" + query
    }
}
