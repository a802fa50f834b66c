import AsyncHTTPClient
import BosunControl
import BosunProtocol
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceLifecycle

/// A real `bosun-control` on a free loopback port, against the test PostgreSQL and Redis.
public final class TestServer: Sendable {
    public let port: Int
    public let server: ControlServer
    let task: Task<Void, any Error>
    let group: ServiceGroup

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `logger` receives the server's own log (tests that check what it logs pass a capturing one).
    public static func start(
        logger: Logger = TestEnvironment.logger, _ adjust: @Sendable (inout ControlConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        let configuration = try TestEnvironment.configuration(adjust)
        let server = try await ControlServer(configuration: configuration, logger: logger)
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let app = server.makeApplication { port in portContinuation.yield(port) }
        // Stopped gracefully, not by cancellation: a connection accepted while a cancelled server
        // tears down trips a fatal error in NIO's async writer.
        let group = ServiceGroup(configuration: .init(services: [app], logger: TestEnvironment.logger))
        let task = Task {
            // A server that fails to start (a migration error, a taken port) ends the port
            // stream, so the test fails with the error instead of waiting for ever.
            defer { portContinuation.finish() }
            try await group.run()
        }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next() else {
            do {
                try await task.value
            } catch {
                throw TestFailure("the server did not start: \(error)")
            }
            throw TestFailure("the server did not start")
        }
        return TestServer(port: port, server: server, task: task, group: group)
    }

    init(port: Int, server: ControlServer, task: Task<Void, any Error>, group: ServiceGroup) {
        self.port = port
        self.server = server
        self.task = task
        self.group = group
    }

    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// One server shared by the tests of a process that need nothing special.
    public static func shared() async throws -> TestServer {
        try await SharedServer.instance.get()
    }
}

actor SharedServer {
    static let instance = SharedServer()
    private var server: TestServer?

    func get() async throws -> TestServer {
        if let server { return server }
        let started = try await TestServer.start()
        server = started
        return started
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A small HTTP client for the API under test: real HTTP over loopback.
public struct APIClient: Sendable {
    public let baseURL: String
    public var token: String?

    public init(baseURL: String, token: String? = nil) {
        self.baseURL = baseURL
        self.token = token
    }

    public func with(token: String?) -> APIClient { APIClient(baseURL: baseURL, token: token) }

    public struct Reply: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: Data

        public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
            do {
                return try WireCoding.decoder().decode(T.self, from: body)
            } catch {
                throw TestFailure("cannot decode \(T.self) from \(status) reply: \(String(decoding: body, as: UTF8.self))")
            }
        }

        public var problem: Problem? { try? WireCoding.decoder().decode(Problem.self, from: body) }
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public func send(
        _ method: HTTPMethod, _ path: String, rawBody: Data? = nil, headers extra: [(String, String)] = [],
        timeout: TimeAmount = .seconds(60)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let rawBody {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: rawBody))
        }
        for (name, value) in extra { request.headers.replaceOrAdd(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
    }

    public func send(
        _ method: HTTPMethod, _ path: String, json: some Encodable, timeout: TimeAmount = .seconds(60)
    ) async throws -> Reply {
        try await send(method, path, rawBody: try WireCoding.encoder().encode(json), timeout: timeout)
    }

    public func get(_ path: String) async throws -> Reply { try await send(.GET, path) }
    public func post(_ path: String, _ body: some Encodable) async throws -> Reply { try await send(.POST, path, json: body) }
}

extension TestServer {
    /// A server on a database of its own. Worker tests need one: a control API's worker sweeper
    /// judges every worker in its database by its own heartbeat settings, so a server tuned for
    /// fast lost-worker detection must not share a database with workers other tests hold idle.
    public static func startIsolated(_ adjust: @escaping @Sendable (inout ControlConfiguration) -> Void = { _ in })
        async throws -> TestServer
    {
        let name = "bosun_t_\(UUID().uuidString.prefix(8).lowercased())"
        try await IsolatedDatabase.create(name)
        return try await start { configuration in
            configuration.databaseURL.database = name
            adjust(&configuration)
        }
    }
}

enum IsolatedDatabase {
    static func create(_ name: String) async throws {
        let url = try DatabaseURL(TestEnvironment.databaseURL)
        let client = PostgresClient(
            configuration: .init(
                host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
                tls: .disable),
            backgroundLogger: TestEnvironment.logger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        // CREATE DATABASE cannot be a bound statement; the name is ours and plain [a-z0-9_].
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: TestEnvironment.logger)
    }
}

/// Polls `condition` until it returns a value; fails with `what` at the deadline, with the last
/// error the condition threw.
@discardableResult
public func eventually<T: Sendable>(
    _ what: String, timeout: Duration = .seconds(30), every: Duration = .milliseconds(100),
    _ condition: @Sendable () async throws -> T?
) async throws -> T {
    let end = ContinuousClock.now + timeout
    var lastError: (any Error)?
    while ContinuousClock.now < end {
        do {
            if let value = try await condition() { return value }
        } catch {
            lastError = error
        }
        try await Task.sleep(for: every)
    }
    throw TestFailure("timed out waiting for \(what)\(lastError.map { " (last error: \($0))" } ?? "")")
}
