import BosunProtocol
import BosunSystem
import Logging

/// Keeps one configured MCP server running: starts it on first use and restarts a dead one on
/// the next use with bounded exponential backoff. After `maxRestarts` restarts the server is
/// reported failed (`.serverFailed`) until `stop()`.
public actor MCPServerSupervisor {
    public struct Configuration: Sendable {
        public var maxRestarts = 3
        public var initialBackoff: Duration = .milliseconds(200)
        public var maxBackoff: Duration = .seconds(2)
        public var connection = MCPConnection.Configuration()

        public init() {}
    }

    public nonisolated let server: MCPServerConfig
    private let secrets: [String: String]
    private let baseEnvironment: [String: String]
    private let workingDirectory: String?
    private let launcher: any MCPServerLauncher
    private let configuration: Configuration
    private let logger: Logger

    private var current: MCPConnection?
    private var starting: Task<MCPConnection, any Error>?
    private var launches = 0
    private var failure: MCPError?
    private var stopped = false

    /// - `secrets`: values for `{{secret.NAME}}` in the server's `env`, used for this server's
    ///   child only.
    /// - `baseEnvironment`: the rest of the child's environment (scrub it with
    ///   `ChildEnvironment.scrubbed`); the server's `env` is laid over it.
    public init(
        server: MCPServerConfig, secrets: [String: String] = [:], baseEnvironment: [String: String],
        workingDirectory: String? = nil, launcher: any MCPServerLauncher = DirectMCPServerLauncher(),
        configuration: Configuration = Configuration(), logger: Logger
    ) {
        self.server = server
        self.secrets = secrets
        self.baseEnvironment = baseEnvironment
        self.workingDirectory = workingDirectory
        self.launcher = launcher
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "bosun.mcp.server"] = .string(server.name)
        self.logger = logger
    }

    /// How many times the server was (re)started.
    public var launchCount: Int { launches }

    /// Set once restarts are exhausted.
    public var failureReason: MCPError? { failure }

    /// A live, negotiated connection, starting or restarting the server when needed.
    public func connection() async throws -> MCPConnection {
        if stopped { throw MCPError(.closed, "MCP server \(server.name) was stopped") }
        if let current, current.isAlive { return current }
        if let starting { return try await starting.value }
        if let failure { throw failure }
        let attempt = launches
        let task = Task { try await self.launch(attempt: attempt) }
        starting = task
        defer { starting = nil }
        do {
            let connection = try await task.value
            current = connection
            return connection
        } catch let error as MCPError where error.code == .unknownSecret || error.code == .invalidConfiguration {
            failure = error
            throw error
        }
    }

    private func launch(attempt: Int) async throws -> MCPConnection {
        if attempt > configuration.maxRestarts {
            let error = MCPError(
                .serverFailed, "MCP server \(server.name) failed: it died \(attempt) times (\(configuration.maxRestarts) restarts)")
            failure = error
            throw error
        }
        if attempt > 0 {
            var backoff = configuration.initialBackoff
            for _ in 1..<attempt { backoff = min(backoff * 2, configuration.maxBackoff) }
            logger.warning("restarting MCP server", metadata: ["attempt": "\(attempt)", "backoff": "\(backoff)"])
            try await Task.sleep(for: backoff)
        }
        if let old = current {
            current = nil
            await old.shutdown()
        }
        launches += 1
        var environment = baseEnvironment
        for (key, value) in try server.resolvedEnvironment(secrets: secrets) { environment[key] = value }
        let child: InteractiveChild
        do {
            child = try launcher.launch(MCPLaunchRequest(
                command: server.command, arguments: server.args, environment: environment,
                workingDirectory: workingDirectory))
        } catch {
            throw MCPError(.launchFailed, "MCP server \(server.name): \(error)")
        }
        let connection = MCPConnection(
            serverName: server.name, child: child, configuration: configuration.connection, logger: logger)
        try await connection.start()
        return connection
    }

    public func listTools() async throws -> [MCPTool] {
        try await connection().listTools()
    }

    public func callTool(_ name: String, arguments: JSONValue, timeout: Duration? = nil) async throws -> MCPToolResult {
        let connection = try await connection()
        // tools/list first so the outputSchema of the tool is known for validation.
        if connection.toolsStale { _ = try await connection.listTools() }
        return try await connection.callTool(name, arguments: arguments, timeout: timeout)
    }

    /// The current server's recent stderr.
    public func stderrLines() async -> [String] {
        current?.stderrLines ?? []
    }

    /// Shuts the server down; later use fails with `.closed`.
    public func stop() async {
        stopped = true
        starting?.cancel()
        if let current {
            self.current = nil
            await current.shutdown()
        }
    }
}
