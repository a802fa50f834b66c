import BosunProtocol
import BosunSystem
import Foundation
import LLM
import Logging

/// The MCP servers of one agent, as tools for a runtime: starts them, lists their tools as
/// `ToolSpec`s under exposed names (`MCPToolNames`) and routes calls back.
public actor MCPToolbox {
    private let supervisors: [String: MCPServerSupervisor]
    private let logger: Logger
    private var names = MCPToolNames([MCPToolNames.Tool]())
    /// Servers that could not be started or listed, with why.
    public private(set) var failures: [String: MCPError] = [:]

    public init(
        servers: [MCPServerConfig], secrets: [String: String] = [:],
        baseEnvironment: [String: String] = MCPToolbox.defaultBaseEnvironment,
        workingDirectory: String? = nil, launcher: any MCPServerLauncher = DirectMCPServerLauncher(),
        configuration: MCPServerSupervisor.Configuration = .init(), logger: Logger
    ) {
        var supervisors: [String: MCPServerSupervisor] = [:]
        for server in servers {
            supervisors[server.name] = MCPServerSupervisor(
                server: server, secrets: secrets, baseEnvironment: baseEnvironment,
                workingDirectory: workingDirectory, launcher: launcher, configuration: configuration, logger: logger)
        }
        self.supervisors = supervisors
        self.logger = logger
    }

    /// Starts every server concurrently. A server that fails is logged and recorded in
    /// `failures`; the others still serve.
    public func start() async {
        let results = await withTaskGroup(of: (String, MCPError?).self) { group in
            for (name, supervisor) in supervisors {
                group.addTask {
                    do {
                        _ = try await supervisor.connection()
                        return (name, nil)
                    } catch {
                        return (name, error as? MCPError ?? MCPError(.launchFailed, "\(error)"))
                    }
                }
            }
            var results: [(String, MCPError?)] = []
            for await result in group { results.append(result) }
            return results
        }
        for (name, error) in results {
            if let error {
                failures[name] = error
                logger.error("MCP server failed to start", metadata: ["bosun.mcp.server": "\(name)", "error": "\(error)"])
            }
        }
    }

    /// Every tool of every working server, under its exposed name, sorted by name. Re-lists a
    /// server whose list changed.
    public func tools() async -> [ToolSpec] {
        var listed: [(server: String, tool: MCPTool)] = []
        for (name, supervisor) in supervisors.sorted(by: { $0.key < $1.key }) {
            do {
                for tool in try await supervisor.listTools() { listed.append((name, tool)) }
                failures[name] = nil
            } catch {
                failures[name] = error as? MCPError ?? MCPError(.launchFailed, "\(error)")
                logger.warning("could not list MCP tools", metadata: ["bosun.mcp.server": "\(name)", "error": "\(error)"])
            }
        }
        names = MCPToolNames(listed.map { MCPToolNames.Tool(server: $0.server, tool: $0.tool.name) })
        return listed.compactMap { entry in
            guard let exposed = names.exposedName(server: entry.server, tool: entry.tool.name) else { return nil }
            return ToolSpec(
                name: exposed, description: entry.tool.description ?? entry.tool.title ?? entry.tool.name,
                inputSchema: entry.tool.inputSchema)
        }.sorted { $0.name < $1.name }
    }

    /// Calls a tool by its exposed name. Every failure (unknown tool, dead server, timeout,
    /// JSON-RPC error) comes back as an error result for the model, never a throw.
    public func call(_ exposedName: String, arguments: JSONValue, timeout: Duration? = nil) async -> (text: String, isError: Bool) {
        guard let target = names.resolve(exposedName), let supervisor = supervisors[target.server] else {
            return ("Unknown MCP tool \(exposedName)", true)
        }
        do {
            let result = try await supervisor.callTool(target.tool, arguments: arguments, timeout: timeout)
            return (result.renderedText, result.isError)
        } catch let error as MCPError {
            return (error.detail, true)
        } catch {
            return ("MCP tool \(exposedName) failed: \(error)", true)
        }
    }

    /// The worker's environment without its credentials and systemd plumbing.
    public static var defaultBaseEnvironment: [String: String] {
        ChildEnvironment.scrubbed(ProcessInfo.processInfo.environment)
    }

    /// The supervisor of one server, for diagnostics.
    public func supervisor(named name: String) -> MCPServerSupervisor? { supervisors[name] }

    /// Shuts every server down concurrently.
    public func stop() async {
        await withTaskGroup(of: Void.self) { group in
            for supervisor in supervisors.values {
                group.addTask { await supervisor.stop() }
            }
        }
    }
}
