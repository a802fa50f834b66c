import BosunProtocol

/// Why an MCP operation failed: an open set of codes (a new failure mode does not break every
/// `switch`), a detail written for logs and the model, and for a JSON-RPC error answer the
/// error object the server sent.
public struct MCPError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The `mcpServers` configuration is malformed.
        public static let invalidConfiguration = Self("invalid-configuration")
        /// A `{{secret.NAME}}` reference names a secret the caller did not provide.
        public static let unknownSecret = Self("unknown-secret")
        /// The server process could not be started.
        public static let launchFailed = Self("launch-failed")
        /// The server exited or closed its stdout; every pending request fails with this.
        public static let serverExited = Self("server-exited")
        /// The supervisor gave up restarting the server.
        public static let serverFailed = Self("server-failed")
        /// The server answered with a protocol version this client does not speak.
        public static let unsupportedProtocolVersion = Self("unsupported-protocol-version")
        /// The request got no answer in time; `notifications/cancelled` was sent.
        public static let timedOut = Self("timed-out")
        /// The calling task was cancelled; `notifications/cancelled` was sent.
        public static let cancelled = Self("cancelled")
        /// The server answered with a JSON-RPC error object (see `rpcCode`).
        public static let rpcError = Self("rpc-error")
        /// The server's answer does not have the shape the protocol requires.
        public static let malformedResponse = Self("malformed-response")
        /// The connection was shut down by this side.
        public static let closed = Self("closed")
        /// No server offers a tool by that exposed name.
        public static let unknownTool = Self("unknown-tool")
    }

    public var code: Code
    public var detail: String
    /// The JSON-RPC error code when `code == .rpcError` (e.g. -32602 for an unknown tool).
    public var rpcCode: Int?
    /// The JSON-RPC error's `data`, when the server sent one.
    public var rpcData: JSONValue?

    public init(_ code: Code, _ detail: String, rpcCode: Int? = nil, rpcData: JSONValue? = nil) {
        self.code = code
        self.detail = detail
        self.rpcCode = rpcCode
        self.rpcData = rpcData
    }

    public var description: String {
        if let rpcCode { return "mcp \(code) \(rpcCode): \(detail)" }
        return "mcp \(code): \(detail)"
    }
}
