import BosunSystem

/// Spawns the server directly, as the leader of a new process group.
public struct DirectMCPServerLauncher: MCPServerLauncher {
    public init() {}

    public func launch(_ request: MCPLaunchRequest) throws -> InteractiveChild {
        try InteractiveChild.spawn(
            executable: request.command, arguments: request.arguments, environment: request.environment,
            workingDirectory: request.workingDirectory)
    }
}
