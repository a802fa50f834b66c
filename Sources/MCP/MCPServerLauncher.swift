import BosunSystem

/// The seam where an MCP server process is started: turns a launch request into a running
/// child whose stdin, stdout and stderr are pipes.
///
/// `DirectMCPServerLauncher` spawns the command itself (tests, development). Production wraps
/// the command in `bosun-sandbox` with the agent's profile: such a launcher rewrites the request
/// to exec `bosun-sandbox <profile options> -- command args...` and passes the same pipes, so
/// the connection code does not change.
public protocol MCPServerLauncher: Sendable {
    func launch(_ request: MCPLaunchRequest) throws -> InteractiveChild
}
