import BosunProtocol
import BosunSystem
import Foundation
import Logging
import Synchronization

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
    }

    /// What the reader thread and callers share. Responses are matched and their waiters
    /// resumed on the child's reader thread, under this lock, so a round trip costs no hop
    /// through an async stream or this actor.
    private struct Shared: ~Copyable {
        var pending: [Int: Pending] = [:]
        var nextID = 1
        var deathError: MCPError?
        var stderrRing: MCPLogRing
        var toolsStale = true
        var ignoredLineCount = 0
        var stateless = false
        /// When the one deadline timer wakes next; nil when no timer runs.
        var timerWake: ContinuousClock.Instant?
        var timer: Task<Void, Never>?
    }

    public nonisolated let serverName: String
    public nonisolated let child: InteractiveChild
    private nonisolated let configuration: Configuration
    private nonisolated let logger: Logger
    private nonisolated let shared: Mutex<Shared>
    private var readerStarted = false
    private var cachedTools: [MCPTool]?

    /// The negotiated revision once `start()` succeeded.
    public private(set) var protocolVersion: String?
    public private(set) var serverInfo: JSONValue?
    public private(set) var serverCapabilities: JSONValue?

    public init(serverName: String, child: InteractiveChild, configuration: Configuration = Configuration(), logger: Logger) {
        self.serverName = serverName
        self.child = child
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "bosun.mcp.server"] = .string(serverName)
        logger[metadataKey: "bosun.mcp.pid"] = .stringConvertible(child.pid)
        self.logger = logger
        self.shared = Mutex(Shared(stderrRing: MCPLogRing(maxLines: configuration.stderrRingLines)))
    }

    /// The server's recent stderr, oldest first.
    public nonisolated var stderrLines: [String] { shared.withLock { $0.stderrRing.lines } }

    /// False once the server exited, closed stdout or was shut down.
    public nonisolated var isAlive: Bool { shared.withLock { $0.deathError == nil } }

    /// Whether this connection speaks the stateless 2026-07-28 revision.
    public nonisolated var isStateless: Bool { shared.withLock { $0.stateless } }

    /// Set by `notifications/tools/list_changed`; the next `listTools()` asks again.
    public nonisolated var toolsStale: Bool { shared.withLock { $0.toolsStale } }

    /// stdout lines that were not JSON-RPC.
    public nonisolated var ignoredLineCount: Int { shared.withLock { $0.ignoredLineCount } }

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
        shared.withLock { $0.stateless = true }
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
        let id = try shared.withLock { shared -> Int in
            if let error = shared.deathError { throw error }
            defer { shared.nextID += 1 }
            return shared.nextID
        }
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
        let line = JSONRPCMessage.request(id: .number(Double(id)), method: method, params: .object(params)).line()
        let timeout = timeout ?? configuration.requestTimeout
        let now = ContinuousClock.now
        let hardLimit = progress ? max(timeout, configuration.maxProgressTimeout) : timeout
        let entry = { (continuation: CheckedContinuation<JSONValue, any Error>) in
            Pending(
                continuation: continuation, method: method, progressToken: progressToken, timeout: timeout,
                deadline: now + timeout, hardDeadline: now + hardLimit)
        }

        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                let refused: MCPError? = shared.withLock { shared in
                    if Task.isCancelled { return MCPError(.cancelled, "\(method) was cancelled before it was sent") }
                    if let error = shared.deathError { return error }
                    shared.pending[id] = entry(continuation)
                    armTimer(for: now + timeout, in: &shared)
                    return nil
                }
                if let refused {
                    continuation.resume(throwing: refused)
                    return
                }
                // After registering: the answer may arrive before write returns.
                do {
                    try child.write(line)
                } catch {
                    let error = shared.withLock { $0.deathError }
                        ?? MCPError(.serverExited, "MCP server \(serverName): could not write \(method): \(error)")
                    fail(id, with: error)
                }
            }
        } onCancel: {
            cancel(id, reason: "the caller was cancelled", code: .cancelled)
        }
    }

    /// Makes sure the one deadline timer wakes by `deadline`. Deadlines mostly grow with each
    /// request, so a running timer usually covers a new one and no task is made per request.
    private nonisolated func armTimer(for deadline: ContinuousClock.Instant, in shared: inout Shared) {
        if let wake = shared.timerWake, wake <= deadline { return }
        shared.timer?.cancel()
        shared.timerWake = deadline
        shared.timer = Task { [weak self] in
            var wake = deadline
            while true {
                do {
                    try await Task.sleep(until: wake, clock: .continuous)
                } catch {
                    return
                }
                guard let self, let next = self.expireOverdue() else { return }
                wake = next
            }
        }
    }

    /// Fails the requests whose deadline has passed; returns when to wake next, nil (and the
    /// timer ends) when nothing is pending.
    private nonisolated func expireOverdue() -> ContinuousClock.Instant? {
        let now = ContinuousClock.now
        let (overdue, next) = shared.withLock { shared -> ([(Int, Pending)], ContinuousClock.Instant?) in
            let overdue = shared.pending.filter { $0.value.deadline <= now }
            let next = shared.pending.values.lazy.filter { $0.deadline > now }.map(\.deadline).min()
            shared.timerWake = next
            if next == nil { shared.timer = nil }
            return (overdue.map { ($0.key, $0.value) }, next)
        }
        for (id, entry) in overdue {
            let limit = entry.progressToken != nil && entry.hardDeadline <= now ? "the progress limit" : "\(entry.timeout)"
            cancel(id, reason: "timed out after \(limit)", code: .timedOut)
        }
        return next
    }

    /// Fails request `id` and tells the server with `notifications/cancelled`.
    private nonisolated func cancel(_ id: Int, reason: String, code: MCPError.Code) {
        let (entry, alive) = shared.withLock { shared in
            (shared.pending.removeValue(forKey: id), shared.deathError == nil)
        }
        guard let entry else { return }
        if alive {
            try? send(.notification(method: "notifications/cancelled", params: .object([
                "requestId": .number(Double(id)), "reason": .string(reason),
            ])))
        }
        entry.continuation.resume(throwing: MCPError(code, "MCP server \(serverName): \(entry.method) \(reason)"))
    }

    private nonisolated func fail(_ id: Int, with error: MCPError) {
        shared.withLock { $0.pending.removeValue(forKey: id) }?.continuation.resume(throwing: error)
    }

    private nonisolated func send(_ message: JSONRPCMessage) throws {
        try child.write(message.line())
    }

    // MARK: Tools

    /// All tools, following `nextCursor`; cached until `notifications/tools/list_changed`.
    public func listTools(timeout: Duration? = nil) async throws -> [MCPTool] {
        // Cleared first: a list_changed arriving while listing makes the next call list again.
        let stale = shared.withLock { shared in
            defer { shared.toolsStale = false }
            return shared.toolsStale
        }
        if !stale, let cachedTools { return cachedTools }
        var tools: [MCPTool] = []
        var cursor: String?
        var pages = 0
        repeat {
            var params: [String: JSONValue] = [:]
            if let cursor { params["cursor"] = .string(cursor) }
            let result = try await request("tools/list", params: params, timeout: timeout)
            guard let entries = result["tools"]?.arrayValue else {
                shared.withLock { $0.toolsStale = true }
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
                shared.withLock { $0.toolsStale = true }
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
        child.handleEvents { [weak self] event in self?.handle(event) }
    }

    /// Runs on the child's reader and reaper threads, one event at a time.
    private nonisolated func handle(_ event: InteractiveChild.Event) {
        switch event {
        case .stdoutLine(let line):
            handle(line)
        case .stderrLine(let line):
            let text = String(decoding: line, as: UTF8.self)
            shared.withLock { $0.stderrRing.append(text) }
        case .stdoutClosed:
            died("closed its stdout")
        case .exited(let status):
            died("exited (\(status))")
        }
    }

    private nonisolated func died(_ how: String) {
        let pending = shared.withLock { shared -> [Pending]? in
            guard shared.deathError == nil else { return nil }
            var detail = "MCP server \(serverName) \(how)"
            let tail = shared.stderrRing.tail(5)
            if !tail.isEmpty { detail += "; last stderr:\n\(tail)" }
            shared.deathError = MCPError(.serverExited, detail)
            shared.timer?.cancel()
            shared.timer = nil
            shared.timerWake = nil
            defer { shared.pending = [:] }
            return Array(shared.pending.values)
        }
        guard let pending, let error = shared.withLock({ $0.deathError }) else { return }
        if !pending.isEmpty { logger.warning("MCP server died with requests pending", metadata: ["how": "\(how)"]) }
        for entry in pending { entry.continuation.resume(throwing: error) }
    }

    private nonisolated func handle(_ line: Data) {
        guard let message = JSONRPCMessage(line: line) else {
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) { return }
            shared.withLock { $0.ignoredLineCount += 1 }
            logger.warning("ignoring a stdout line that is not JSON-RPC", metadata: [
                "line": "\(String(decoding: line.prefix(200), as: UTF8.self))",
            ])
            return
        }
        switch message {
        case .response(let id, let result):
            guard let key = Self.requestKey(id), let entry = shared.withLock({ $0.pending.removeValue(forKey: key) }) else {
                logger.debug("response for an unknown or expired request", metadata: ["id": "\(id)"])
                return
            }
            entry.continuation.resume(returning: result)
        case .errorResponse(let id, let code, let message, let data):
            guard let key = Self.requestKey(id), let entry = shared.withLock({ $0.pending.removeValue(forKey: key) }) else {
                logger.debug("error for an unknown or expired request", metadata: ["id": "\(id)", "message": "\(message)"])
                return
            }
            entry.continuation.resume(throwing: MCPError(
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

    private nonisolated func handleNotification(_ method: String, params: JSONValue?) {
        switch method {
        case "notifications/progress":
            guard let token = params?["progressToken"].flatMap(Self.tokenString) else { return }
            let now = ContinuousClock.now
            shared.withLock { shared in
                guard let key = shared.pending.first(where: { $0.value.progressToken == token })?.key,
                      var entry = shared.pending[key]
                else { return }
                entry.deadline = min(now + entry.timeout, entry.hardDeadline)
                shared.pending[key] = entry
            }
        case "notifications/tools/list_changed":
            shared.withLock { $0.toolsStale = true }
        case "notifications/message":
            logger.debug("server log", metadata: ["data": "\(params?["data"] ?? .null)"])
        default:
            break
        }
    }

    private nonisolated static func requestKey(_ id: JSONValue) -> Int? {
        switch id {
        case .number(let value): return Int(exactly: value)
        case .string(let value): return Int(value)
        default: return nil
        }
    }

    private nonisolated static func tokenString(_ token: JSONValue) -> String? {
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
        let (pending, error) = shared.withLock { shared in
            let error = shared.deathError ?? MCPError(.closed, "MCP server \(serverName) was shut down")
            shared.deathError = error
            shared.timer?.cancel()
            shared.timer = nil
            shared.timerWake = nil
            defer { shared.pending = [:] }
            return (Array(shared.pending.values), error)
        }
        for entry in pending { entry.continuation.resume(throwing: error) }
        child.closeStdin()
        if await child.wait(upTo: configuration.shutdownGrace) == nil {
            logger.debug("MCP server ignored closed stdin; terminating its process group")
        }
        // Always signal the group: a server's own children may outlive it.
        await child.terminateGroup(grace: configuration.shutdownGrace)
    }
}
