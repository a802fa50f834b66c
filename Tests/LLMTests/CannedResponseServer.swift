import BosunProtocol
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One scripted answer of `CannedResponseServer`.
struct CannedResponse: Sendable {
    enum Part: Sendable {
        case bytes(String)
        case pause(Duration)
        /// Send nothing more and keep the connection open until the client goes away.
        case stall
        /// Close the connection at once, mid-body.
        case disconnect
    }

    var status: HTTPResponseStatus
    var headers: [(String, String)]
    var parts: [Part]
    /// Never send even the response head; wait for the client to give up.
    var silent = false

    static func json(_ body: String, status: HTTPResponseStatus = .ok, headers: [(String, String)] = []) -> CannedResponse {
        CannedResponse(
            status: status,
            headers: [("Content-Type", "application/json"), ("Content-Length", "\(body.utf8.count)")] + headers,
            parts: [.bytes(body)])
    }

    /// An event stream; the parts are written as they come (pauses in between when asked).
    static func events(_ parts: [Part]) -> CannedResponse {
        CannedResponse(status: .ok, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")], parts: parts)
    }

    static let silent = CannedResponse(status: .ok, headers: [], parts: [], silent: true)
}

/// A request as the server received it.
struct RecordedRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var headers: HTTPHeaders
    var body: String

    var json: JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(body.utf8))
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 (port 0) that answers requests, in arrival order,
/// with scripted responses and records what it received: the peer the gateway tests talk to
/// instead of a real LLM provider (which they cannot reach), speaking its wire format.
final class CannedResponseServer: Sendable {
    private struct State {
        var responses: [CannedResponse]
        var requests: [RecordedRequest] = []
        /// When a stalled or silent connection was closed by the client.
        var clientClosedAt: [ContinuousClock.Instant] = []
    }

    let port: Int
    private let state: Mutex<State>
    private let acceptLoop: Mutex<Task<Void, Never>?> = Mutex(nil)

    private init(port: Int, responses: [CannedResponse]) {
        self.port = port
        self.state = Mutex(State(responses: responses))
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [RecordedRequest] { state.withLock { $0.requests } }
    var clientClosedAt: [ContinuousClock.Instant] { state.withLock { $0.clientClosedAt } }

    /// Starts a server, runs `body` against it, and stops it.
    static func with<T>(
        _ responses: [CannedResponse], _ body: (CannedResponseServer) async throws -> T
    ) async throws -> T {
        let server = try await start(responses)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    static func start(_ responses: [CannedResponse]) async throws -> CannedResponseServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let server = CannedResponseServer(port: channel.channel.localAddress?.port ?? 0, responses: responses)
        let task = Task<Void, Never> {
            await withDiscardingTaskGroup { group in
                _ = try? await channel.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await server.serve(connection) }
                    }
                }
            }
        }
        server.acceptLoop.withLock { $0 = task }
        return server
    }

    func stop() async {
        guard let task = acceptLoop.withLock({ $0 }) else { return }
        task.cancel()
        await task.value
    }

    private func nextResponse() -> CannedResponse {
        state.withLock { state in
            if state.responses.isEmpty {
                return .json(#"{"error":{"message":"the test server has no canned response left"}}"#, status: .notImplemented)
            }
            return state.responses.removeFirst()
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            while let part = try await iterator.next() {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                case .body(var buffer):
                    body.writeBuffer(&buffer)
                case .end:
                    guard let head else { return }
                    let request = RecordedRequest(
                        method: head.method, uri: head.uri, headers: head.headers, body: String(buffer: body))
                    state.withLock { $0.requests.append(request) }
                    let response = nextResponse()
                    if response.silent {
                        try await waitForClientToClose(&iterator)
                        return
                    }
                    var headers = HTTPHeaders(response.headers)
                    headers.replaceOrAdd(name: "Connection", value: "keep-alive")
                    try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)))
                    for part in response.parts {
                        switch part {
                        case .bytes(let text):
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
                        case .pause(let duration):
                            try await Task.sleep(for: duration)
                        case .stall:
                            try await waitForClientToClose(&iterator)
                            return
                        case .disconnect:
                            return
                        }
                    }
                    try await outbound.write(.end(nil))
                }
            }
        }
    }

    /// Reads until the client closes the connection (or the server stops).
    private func waitForClientToClose(
        _ iterator: inout NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    ) async throws {
        while try await iterator.next() != nil {}
        if !Task.isCancelled { state.withLock { $0.clientClosedAt.append(.now) } }
    }
}
