import Foundation

public enum AgentRuntime: String, Codable, Sendable, CaseIterable {
    case agno
    case claudeCode = "claude_code"
}

public struct Agent: Codable, Sendable, Equatable {
    public var id: UUID
    public var organizationId: UUID
    public var name: String
    public var description: String?
    public var runtime: AgentRuntime
    public var model: String
    public var instructions: String
    public var tools: [JSONValue]
    public var mcpServers: [String: JSONValue]
    public var sandboxProfile: String
    public var limits: [String: JSONValue]
    /// Runtime settings: for `claude_code` Claude Code's settings shape (`permissions` with
    /// `defaultMode`, `allow`, `ask`, `deny`; `hooks`); for `agno` options like `output_schema`.
    public var settings: [String: JSONValue]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID, organizationId: UUID, name: String, description: String?, runtime: AgentRuntime, model: String,
        instructions: String, tools: [JSONValue], mcpServers: [String: JSONValue], sandboxProfile: String,
        limits: [String: JSONValue], settings: [String: JSONValue] = [:], createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationId = organizationId
        self.name = name
        self.description = description
        self.runtime = runtime
        self.model = model
        self.instructions = instructions
        self.tools = tools
        self.mcpServers = mcpServers
        self.sandboxProfile = sandboxProfile
        self.limits = limits
        self.settings = settings
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case organizationId = "organization_id"
        case name, description, runtime, model, instructions, tools
        case mcpServers = "mcp_servers"
        case sandboxProfile = "sandbox_profile"
        case limits, settings
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// `POST /api/v1/agents` (all of it) and `PATCH /api/v1/agents/{id}` (only the fields given).
public struct AgentDefinition: Codable, Sendable, Equatable {
    public var name: String?
    public var description: String?
    public var runtime: AgentRuntime?
    public var model: String?
    public var instructions: String?
    public var tools: [JSONValue]?
    public var mcpServers: [String: JSONValue]?
    public var sandboxProfile: String?
    public var limits: [String: JSONValue]?
    public var settings: [String: JSONValue]?

    public init(
        name: String? = nil, description: String? = nil, runtime: AgentRuntime? = nil, model: String? = nil,
        instructions: String? = nil, tools: [JSONValue]? = nil, mcpServers: [String: JSONValue]? = nil,
        sandboxProfile: String? = nil, limits: [String: JSONValue]? = nil, settings: [String: JSONValue]? = nil
    ) {
        self.name = name
        self.description = description
        self.runtime = runtime
        self.model = model
        self.instructions = instructions
        self.tools = tools
        self.mcpServers = mcpServers
        self.sandboxProfile = sandboxProfile
        self.limits = limits
        self.settings = settings
    }

    /// The top-level field names a request may carry; anything else is rejected.
    public static var fieldNames: Set<String> { Set(CodingKeys.allCases.map(\.stringValue)) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, runtime, model, instructions, tools
        case mcpServers = "mcp_servers"
        case sandboxProfile = "sandbox_profile"
        case limits, settings
    }
}

extension Agent {
    /// The agent as a task carries it.
    public var spec: AgentSpec {
        AgentSpec(
            id: id, name: name, runtime: runtime.rawValue, model: model, instructions: instructions, tools: tools,
            mcpServers: mcpServers, sandboxProfile: sandboxProfile, limits: limits, settings: settings)
    }
}
