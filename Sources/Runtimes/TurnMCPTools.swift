import BosunProtocol
import Foundation
import LLM
import Logging
import BosunSystem
import MCP
import Sandbox

/// An agent's MCP servers for one turn: started before the turn, offered to the model as
/// `mcp__<server>__<tool>` tools next to the built-ins, stopped when the turn ends.
struct TurnMCPTools: Sendable {
    let toolbox: MCPToolbox?
    let tools: [any AgentTool]
    /// Every configured server with `connected` or `failed: why`, for the runtimes' events.
    let statuses: [(name: String, status: String)]

    static let none = TurnMCPTools(toolbox: nil, tools: [], statuses: [])

    /// A server that fails to start does not fail the turn: its tools are missing and the
    /// events say why. A configuration that cannot be read does fail it, for good.
    static func start(
        agent: AgentSpec, workspace: String, sandbox: PreparedSandbox?, secrets: SecretDirectory?, logger: Logger
    ) async throws -> TurnMCPTools {
        guard !agent.mcpServers.isEmpty else { return .none }
        let servers: [MCPServerConfig]
        do {
            servers = try MCPServerConfig.servers(from: .object(agent.mcpServers))
        } catch {
            throw TurnFailure("the agent's mcp_servers cannot be used: \(error)", retryable: false)
        }
        // MCP servers are tool processes: they start in the workspace, under the agent's profile.
        let launcher: any MCPServerLauncher =
            sandbox.map { SandboxedMCPServerLauncher(sandbox: $0) } ?? DirectMCPServerLauncher()
        // Only the secrets the servers name, read now and handed to their children alone.
        let referenced = servers.reduce(into: Set<String>()) { $0.formUnion($1.referencedSecrets) }
        var values: [String: String] = [:]
        if let secrets, !referenced.isEmpty {
            do {
                values = try secrets.values(for: referenced)
            } catch {
                logger.warning("cannot read secrets for MCP servers", metadata: ["error": "\(error)"])
            }
        }
        let toolbox = MCPToolbox(
            servers: servers, secrets: values, workingDirectory: workspace, launcher: launcher, logger: logger)
        await toolbox.start()
        let failures = await toolbox.failures
        let tools = await toolbox.tools().map { MCPAgentTool(spec: $0, toolbox: toolbox) as any AgentTool }
        let statuses = servers.map { server in
            (name: server.name, status: failures[server.name].map { "failed: \($0)" } ?? "connected")
        }
        return TurnMCPTools(toolbox: toolbox, tools: tools, statuses: statuses)
    }

    func stop() async { await toolbox?.stop() }

    /// Runs `body` with the servers up, and stops them however it ends.
    static func with<T: Sendable>(
        agent: AgentSpec, workspace: String, sandbox: PreparedSandbox?, secrets: SecretDirectory?, logger: Logger,
        _ body: (TurnMCPTools) async throws -> T
    ) async throws -> T {
        let mcp = try await start(agent: agent, workspace: workspace, sandbox: sandbox, secrets: secrets, logger: logger)
        do {
            let result = try await body(mcp)
            await mcp.stop()
            return result
        } catch {
            await mcp.stop()
            throw error
        }
    }
}

/// One MCP tool as a runtime sees it. The server decides what it does, so nothing is assumed
/// read-only: permission rules (`mcp__server`, `mcp__server__tool`) decide in claude_code.
struct MCPAgentTool: AgentTool {
    let spec: ToolSpec
    let toolbox: MCPToolbox
    var isReadOnly: Bool { false }

    func run(_ arguments: JSONValue, in context: ToolContext) async -> ToolOutput {
        let (text, isError) = await toolbox.call(spec.name, arguments: arguments)
        return ToolOutput(text: text, isError: isError)
    }
}

/// Starts an MCP server through `bosun-sandbox` under the agent's profile, like every other
/// tool process.
struct SandboxedMCPServerLauncher: MCPServerLauncher {
    let sandbox: PreparedSandbox

    func launch(_ request: MCPLaunchRequest) throws -> InteractiveChild {
        let workspace = request.workingDirectory ?? FileManager.default.currentDirectoryPath
        let arguments = sandbox.arguments(workspace: workspace, command: [request.command] + request.arguments)
        return try InteractiveChild.spawn(
            executable: arguments[0], arguments: Array(arguments.dropFirst()), environment: request.environment,
            workingDirectory: request.workingDirectory)
    }
}
