/// What the supervisor asks a launcher to start.
public struct MCPLaunchRequest: Sendable, Hashable {
    public var command: String
    public var arguments: [String]
    /// Exactly the child's environment (base environment plus the server's resolved `env`).
    public var environment: [String: String]
    public var workingDirectory: String?

    public init(command: String, arguments: [String], environment: [String: String], workingDirectory: String?) {
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}
