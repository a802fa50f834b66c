import ArgumentParser
import BosunProtocol
import Foundation

/// `bosun agents ...`
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents", abstract: "Create, list, show and delete agents.",
        subcommands: [AgentsCreate.self, AgentsList.self, AgentsShow.self, AgentsDelete.self])
}

struct AgentsCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create an agent from a YAML or JSON file.",
        discussion: """
            The file holds the fields POST /api/v1/agents takes: name, runtime (agno or claude_code), \
            model, instructions, tools, mcp_servers, sandbox_profile, limits, settings, description. \
            Use -f - to read standard input.
            """)

    @OptionGroup var client: ClientOptions

    @Option(name: .shortAndLong, help: "The agent definition (YAML or JSON).")
    var file: String

    func run() async throws {
        let definition = try DefinitionFile.load(path: file)
        let api = try client.client()
        let reply = try await api.post("/api/v1/agents", JSONValue.object(definition))
        if client.json { return client.output.printJSON(reply.body) }
        let agent = try reply.decode(Agent.self)
        Output.write("created agent \(agent.name) (\(Format.id(agent.id)))\n")
    }
}

struct AgentsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the organization's agents.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let reply = try await client.client().get("/api/v1/agents")
        if client.json { return client.output.printJSON(reply.body) }
        let agents = try reply.decode(ListReply<Agent>.self).items
        client.output.printTable(
            ["NAME", "ID", "RUNTIME", "MODEL", "SANDBOX", "CREATED"],
            agents.map {
                [$0.name, Format.id($0.id), $0.runtime.rawValue, $0.model, $0.sandboxProfile, Format.date($0.createdAt)]
            }, empty: "no agents")
    }
}

struct AgentsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one agent.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "The agent's name or id.")
    var agent: String

    func run() async throws {
        let api = try client.client()
        let id = try await AgentLookup(api: api).id(for: agent)
        let reply = try await api.get("/api/v1/agents/\(APIPath.id(id))")
        if client.json { return client.output.printJSON(reply.body) }
        let found = try reply.decode(Agent.self)
        client.output.printFields([
            ("name", found.name),
            ("id", Format.id(found.id)),
            ("description", found.description),
            ("runtime", found.runtime.rawValue),
            ("model", found.model),
            ("sandbox profile", found.sandboxProfile),
            ("instructions", found.instructions.isEmpty ? nil : found.instructions),
            ("tools", found.tools.isEmpty ? nil : found.tools.map(Self.toolName).joined(separator: ", ")),
            ("mcp servers", found.mcpServers.isEmpty ? nil : found.mcpServers.keys.sorted().joined(separator: ", ")),
            ("limits", found.limits.isEmpty ? nil : JSONValue.object(found.limits).jsonString),
            ("settings", found.settings.isEmpty ? nil : JSONValue.object(found.settings).jsonString),
            ("created", Format.date(found.createdAt)),
            ("updated", Format.date(found.updatedAt)),
        ])
    }

    static func toolName(_ tool: JSONValue) -> String {
        tool.stringValue ?? tool["name"]?.stringValue ?? tool.jsonString
    }
}

struct AgentsDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an agent.")

    @OptionGroup var client: ClientOptions

    @Argument(help: "The agent's name or id.")
    var agent: String

    func run() async throws {
        let api = try client.client()
        let id = try await AgentLookup(api: api).id(for: agent)
        try await api.delete("/api/v1/agents/\(APIPath.id(id))")
        if client.json { return client.output.printJSON(Data(#"{"deleted":"\#(APIPath.id(id))"}"#.utf8)) }
        Output.write("deleted agent \(agent)\n")
    }
}

/// Agents are named by users and addressed by id in the API: a UUID is taken as an id, anything
/// else is looked up by name.
struct AgentLookup: Sendable {
    let api: ControlAPI

    func id(for nameOrId: String) async throws -> UUID {
        if let id = UUID(uuidString: nameOrId) { return id }
        let agents = try await api.get("/api/v1/agents").decode(ListReply<Agent>.self).items
        guard let agent = agents.first(where: { $0.name == nameOrId }) else {
            throw CLIError("no agent named '\(nameOrId)'", exit: .notFound)
        }
        return agent.id
    }
}
