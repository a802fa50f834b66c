import BosunProtocol
import BosunSystem
import Foundation
import Logging

/// One stdio MCP server: newline-delimited JSON-RPC 2.0 over the child's stdin and stdout.
///
/// stderr goes into a bounded ring (`stderrLines`) and is never parsed. stdout lines that are not
/// JSON-RPC are logged and skipped. When stdout closes or the process exits, every pending
/// request fails at once with `.serverExited`. Every request has a timeout; on expiry the
/// server gets `notifications/cancelled`.
public actor MCPConnection {
    public struct Configuration: Sendable {
        /// Default per-request timeout.
        public var requestTimeout: Duration = .seconds(30)
        /// Upper bound for a tools/call whose timeout is being extended by progress notifications.
        public var maxProgressTimeout: Duration = .seconds(600)
        /// Try the stateless 2026-07-28 revision (`server/discover`) before `initialize`.
        public var probeStatelessRevision = true
        /// How long `shutdown` waits after closing stdin before SIGTERM, and after SIGTERM before SIGKILL.
        public var shutdownGrace: Duration = .seconds(2)
        public var clientName = "bosun"
        public var clientVersion = "0.1.0"
        public var stderrRingLines = 200

        public init() {}
    }

    /// The revision offered in `initialize`.
    public static let offeredProtocolVersion = "2025-11-25"
    /// Answers to `initialize` this client accepts.
    public static let acceptedProtocolVersions: Set<String> = ["2025-11-25", "2025-06-18", "2024-11-05"]
    /// The stateless revision probed with `server/discover`.
    public static let statelessProtocolVersion = "2026-07-28"

    private struct Pending {
        var continuation: CheckedContinuation<JSONValue, any Error>
        var method: String
        var progressToken: String?
        var timeout: Duration
        var deadline: ContinuousClock.Instant
        var hardDeadline: ContinuousClock.Instant
        var timer: Task<Void, Never>?
    }

    public nonisolated let serverName: String
    public nonisolated let child: InteractiveChild
    private let configuration: Configuration
    private let logger: Logger
    private let encoder: JSONEncoder
    private let decoder = JSONDecoder()

    private var pending: [Int: Pending] = [:]
    private var nextID = 1
    private var stderrRing: MCPLogRing
    private var readerStarted = false
    private var deathError: MCPError?
    private var cachedTools: [MCPTool]?

    /// The negotiated revision once `start()` succeeded.
    public private(set) var protocolVersion: String?
    public private(set) var serverInfo: JSONValue?
    public private(set) var serverCapabilities: JSONValue?
    /// Set by `notifications/tools/list_changed`; the next `listTools()` asks again.
    public private(set) var toolsStale = true
    /// stdout lines that were not JSON-RPC.
    public private(set) var ignoredLineCount = 0

    public init(serverName: String, child: InteractiveChild, configuration: Configuration = Configuration(), logger: Logger) {
        self.serverName = serverName
        self.child = child
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "bosun.mcp.server"] = .string(serverName)
        logger[metadataKey: "bosun.mcp.pid"] = .stringConvertible(child.pid)
        self.logger = logger
        self.stderrRing = MCPLogRing(maxLines: configuration.stderrRingLines)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        self.encoder = encoder
    }

    /// The server's recent stderr, oldest first.
    public var stderrLines: [String] { stderrRing.lines }

    /// False once the server exited, closed stdout or was shut down.
    public var isAlive: Bool { deathError == nil }

    /// Whether this connection speaks the stateless 2026-07-28 revision.
    public var isStateless: Bool { protocolVersion == Self.statelessProtocolVersion }

    /// Starts reading and negotiates the protocol: `server/discover` first (stateless revision),
    /// `initialize` + `notifications/initialized` when the server does not know it.
    /// Throws (and shuts the server down) on an unsupported version.
    public func start() async throws {
        startReader()
        do {
            if configuration.probeStatelessRevision, try await discover() {
                return
            }
            try await initialize()
        } catch {
            await shutdown()
            throw error
        }
    }

    private func discover() async throws -> Bool {
        let result: JSONValue
        do {
            result = try await request(
                "server/discover", params: [:], timeout: nil, statelessMeta: true)
        } catch let error as MCPError where error.code == .rpcError {
            // Only an error answer means "not supported": after a timeout the server may still
            // process the probe and commit to the stateless revision, so falling back to
            // initialize then would race it.
            logger.debug("server/discover not supported, falling back to initialize", metadata: ["error": "\(error)"])
            return false
        }
        let versions = (result["supportedVersions"]?.arrayValue ?? result["protocolVersions"]?.arrayValue ?? [])
            .compactMap(\.stringValue)
        guard versions.contains(Self.statelessProtocolVersion) else {
            logger.debug("server/discover lists no supported stateless version", metadata: ["versions": "\(versions)"])
            return false
        }
        protocolVersion = Self.statelessProtocolVersion
        serverInfo = result["serverInfo"] ?? result["_meta"]?["io.modelcontextprotocol/serverInfo"]
        serverCapabilities = result["capabilities"]
        logger.debug("speaking stateless MCP \(Self.statelessProtocolVersion)")
        return true
    }

    private func initialize() async throws {
        let result = try await request("initialize", params: [
            "protocolVersion": .string(Self.offeredProtocolVersion),
            "capabilities": .object([:]),
            "clientInfo": clientInfo,
        ])
        guard let version = result["protocolVersion"]?.stringValue else {
            throw MCPError(.malformedResponse, "MCP server \(serverName): initialize result has no protocolVersion")
        }
        guard Self.acceptedProtocolVersions.contains(version) else {
            throw MCPError(
                .unsupportedProtocolVersion,
                "MCP server \(serverName) speaks protocol version \(version); this client supports "
                    + Self.acceptedProtocolVersions.sorted().joined(separator: ", "))
        }
        protocolVersion = version
        serverInfo = result["serverInfo"]
        serverCapabilities = result["capabilities"]
        try send(.notification(method: "notifications/initialized", params: nil))
        logger.debug("initialized MCP \(version)")
    }

    private var clientInfo: JSONValue {
        .object(["name": .string(configuration.clientName), "version": .string(configuration.clientVersion)])
    }

    // MARK: Requests

    /// Sends a request and waits for its result. `timeout` defaults to the configured one; with
    /// `progress`, a progress token is sent and each `notifications/progress` for it restarts
    /// the timeout, up to `maxProgressTimeout` in total.
    public func request(
        _ method: String, params: [String: JSONValue], timeout: Duration? = nil, progress: Bool = false
    ) async throws -> JSONValue {
        try await request(method, params: params, timeout: timeout, progress: progress, statelessMeta: isStateless)
    }

    private func request(
        _ method: String, params: [String: JSONValue], timeout: Duration?, progress: Bool = false,
        statelessMeta: Bool
    ) async throws -> JSONValue {
        if let deathError { throw deathError }
        let id = nextID
        nextID += 1
        var params = params
        var meta = params["_meta"]?.objectValue ?? [:]
        let progressToken = progress ? "bosun-\(id)" : nil
        if let progressToken { meta["progressToken"] = .string(progressToken) }
        if statelessMeta {
            let version = JSONValue.string(Self.statelessProtocolVersion)
            meta["protocolVersion"] = version
            meta["io.modelcontextprotocol/protocolVersion"] = version
            meta["io.modelcontextprotocol/clientCapabilities"] = .object([:])
            meta["io.modelcontextprotocol/clientInfo"] = clientInfo
        }
        if !meta.isEmpty { params["_meta"] = .object(meta) }
        let line = try JSONRPCMessage.request(id: .number(Double(id)), method: method, params: .object(params))
            .line(encoder: encoder)
        let timeout = timeout ?? configuration.requestTimeout
        let now = ContinuousClock.now
        let hardLimit = progress ? max(timeout, configuration.maxProgressTimeout) : timeout

        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: MCPError(.cancelled, "\(method) was cancelled before it was sent"))
                    return
                }
                if let deathError {
                    continuation.resume(throwing: deathError)
                    return
                }
                pending[id] = Pending(
                    continuation: continuation, method: method, progressToken: progressToken, timeout: timeout,
                    deadline: now + timeout, hardDeadline: now + hardLimit)
                do {
                    try child.write(line)
                } catch {
                    fail(id, with: deathError ?? MCPError(.serverExited, "MCP server \(serverName): could not write \(method): \(error)"))
                    return
                }
                let deadline = now + timeout
                pending[id]?.timer = Task { [weak self] in
                    var wake = deadline
                    while true {
                        do {
                            try await Task.sleep(until: wake, clock: .continuous)
                        } catch {
                            return
                        }
                        guard let self, let next = await self.checkDeadline(id) else { return }
                        wake = next
                    }
                }
            }
        } onCancel: {
            Task { await self.cancel(id, reason: "the caller was cancelled", code: .cancelled) }
        }
    }

    /// Expires request `id` if its deadline has passed; otherwise returns the deadline to sleep
    /// until. nil when the request is gone.
    private func checkDeadline(_ id: Int) -> ContinuousClock.Instant? {
        guard let entry = pending[id] else { return nil }
        let now = ContinuousClock.now
        if now < entry.deadline { return entry.deadline }
        let limit = entry.progressToken != nil && entry.hardDeadline <= now ? "the progress limit" : "\(entry.timeout)"
        cancel(id, reason: "timed out after \(limit)", code: .timedOut)
        return nil
    }

    /// Fails request `id` and tells the server with `notifications/cancelled`.
    private func cancel(_ id: Int, reason: String, code: MCPError.Code) {
        guard let entry = pending[id] else { return }
        if deathError == nil {
            try? send(.notification(method: "notifications/cancelled", params: .object([
                "requestId": .number(Double(id)), "reason": .string(reason),
            ])))
        }
        fail(id, with: MCPError(code, "MCP server \(serverName): \(entry.method) \(reason)"))
    }

    private func fail(_ id: Int, with error: MCPError) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        entry.timer?.cancel()
        entry.continuation.resume(throwing: error)
    }

    private func send(_ message: JSONRPCMessage) throws {
        try child.write(message.line(encoder: encoder))
    }

    // MARK: Tools

    /// All tools, following `nextCursor`; cached until `notifications/tools/list_changed`.
    public func listTools(timeout: Duration? = nil) async throws -> [MCPTool] {
        if !toolsStale, let cachedTools { return cachedTools }
        // Cleared first: a list_changed arriving while listing makes the next call list again.
        toolsStale = false
        var tools: [MCPTool] = []
        var cursor: String?
        var pages = 0
        repeat {
            var params: [String: JSONValue] = [:]
            if let cursor { params["cursor"] = .string(cursor) }
            let result = try await request("tools/list", params: params, timeout: timeout)
            guard let entries = result["tools"]?.arrayValue else {
                toolsStale = true
                throw MCPError(.malformedResponse, "MCP server \(serverName): tools/list result has no tools array")
            }
            for entry in entries {
                if let tool = MCPTool(json: entry) {
                    tools.append(tool)
                } else {
                    logger.warning("ignoring a tools/list entry without a name")
                }
            }
            cursor = result["nextCursor"]?.stringValue
            pages += 1
            if pages > 1000 {
                toolsStale = true
                throw MCPError(.malformedResponse, "MCP server \(serverName): tools/list did not end after 1000 pages")
            }
        } while cursor != nil
        cachedTools = tools
        return tools
    }

    /// Calls a tool. A result with `isError` is returned (the model should see it); a JSON-RPC
    /// error (unknown tool, invalid arguments) is thrown as `.rpcError`.
    public func callTool(_ name: String, arguments: JSONValue, timeout: Duration? = nil) async throws -> MCPToolResult {
        let outputSchema = cachedTools?.first(where: { $0.name == name })?.outputSchema
        let result = try await request(
            "tools/call", params: ["name": .string(name), "arguments": arguments], timeout: timeout, progress: true)
        return try MCPToolResult(json: result, outputSchema: outputSchema)
    }

    // MARK: Reading

    private func startReader() {
        guard !readerStarted else { return }
        readerStarted = true
        Task { await self.readLoop() }
    }

    private func readLoop() async {
        for await event in child.events {
            switch event {
            case .stdoutLine(let line):
                handle(line)
            case .stderrLine(let line):
                stderrRing.append(String(decoding: line, as: UTF8.self))
            case .stdoutClosed:
                died("closed its stdout")
            case .exited(let status):
                died("exited (\(status))")
            }
        }
        died("closed its stdout")
    }

    private func died(_ how: String) {
        guard deathError == nil else { return }
        var detail = "MCP server \(serverName) \(how)"
        let tail = stderrRing.tail(5)
        if !tail.isEmpty { detail += "; last stderr:\n\(tail)" }
        let error = MCPError(.serverExited, detail)
        deathError = error
        if !pending.isEmpty { logger.warning("MCP server died with requests pending", metadata: ["how": "\(how)"]) }
        for id in Array(pending.keys) { fail(id, with: error) }
    }

    private func handle(_ line: Data) {
        guard let message = JSONRPCMessage(line: line, decoder: decoder) else {
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) { return }
            ignoredLineCount += 1
            logger.warning("ignoring a stdout line that is not JSON-RPC", metadata: [
                "line": "\(String(decoding: line.prefix(200), as: UTF8.self))",
            ])
            return
        }
        switch message {
        case .response(let id, let result):
            guard let key = Self.requestKey(id), let entry = pending.removeValue(forKey: key) else {
                logger.debug("response for an unknown or expired request", metadata: ["id": "\(id)"])
                return
            }
            entry.timer?.cancel()
            entry.continuation.resume(returning: result)
        case .errorResponse(let id, let code, let message, let data):
            guard let key = Self.requestKey(id), let entry = pending[key] else {
                logger.debug("error for an unknown or expired request", metadata: ["id": "\(id)", "message": "\(message)"])
                return
            }
            fail(key, with: MCPError(
                .rpcError, "MCP server \(serverName): \(entry.method) failed: \(message)", rpcCode: code, rpcData: data))
        case .request(let id, let method, _):
            if method == "ping" {
                try? send(.response(id: id, result: .object([:])))
            } else {
                try? send(.errorResponse(id: id, code: -32601, message: "Method not found: \(method)", data: nil))
            }
        case .notification(let method, let params):
            handleNotification(method, params: params)
        }
    }

    private func handleNotification(_ method: String, params: JSONValue?) {
        switch method {
        case "notifications/progress":
            guard let token = params?["progressToken"].flatMap(Self.tokenString) else { return }
            guard let key = pending.first(where: { $0.value.progressToken == token })?.key,
                  var entry = pending[key]
            else { return }
            entry.deadline = min(ContinuousClock.now + entry.timeout, entry.hardDeadline)
            pending[key] = entry
        case "notifications/tools/list_changed":
            toolsStale = true
        case "notifications/message":
            logger.debug("server log", metadata: ["data": "\(params?["data"] ?? .null)"])
        default:
            break
        }
    }

    private static func requestKey(_ id: JSONValue) -> Int? {
        switch id {
        case .number(let value): return Int(exactly: value)
        case .string(let value): return Int(value)
        default: return nil
        }
    }

    private static func tokenString(_ token: JSONValue) -> String? {
        switch token {
        case .string(let value): return value
        case .number(let value): return String(Int(value))
        default: return nil
        }
    }

    // MARK: Shutdown

    /// Closes stdin, waits up to the grace period, then SIGTERM to the process group, waits,
    /// and SIGKILL. Pending requests fail with `.closed`.
    public func shutdown() async {
        if deathError == nil { deathError = MCPError(.closed, "MCP server \(serverName) was shut down") }
        let error = deathError ?? MCPError(.closed, "MCP server \(serverName) was shut down")
        for id in Array(pending.keys) { fail(id, with: error) }
        child.closeStdin()
        if await child.wait(upTo: configuration.shutdownGrace) == nil {
            logger.debug("MCP server ignored closed stdin; terminating its process group")
        }
        // Always signal the group: a server's own children may outlive it.
        await child.terminateGroup(grace: configuration.shutdownGrace)
    }
}
