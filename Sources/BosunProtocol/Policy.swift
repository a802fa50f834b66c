import Foundation

/// Where a policy is attached. Policies apply downward: an organization's to everything in it,
/// an environment's to executions routed to its queues, a team's to its member agents, an
/// agent's to that agent.
public enum PolicyLevel: String, Codable, Sendable, CaseIterable {
    case organization
    case environment
    case team
    case agent

    /// Most general first: the order policies are listed and evaluated in.
    public var rank: Int {
        switch self {
        case .organization: 0
        case .environment: 1
        case .team: 2
        case .agent: 3
        }
    }
}

/// A stored policy, as the API shows it.
public struct Policy: Codable, Sendable, Equatable {
    public var id: UUID
    public var organizationId: UUID
    public var name: String
    public var level: PolicyLevel
    /// The environment, team or agent it is attached to; nil for the organization.
    public var targetId: UUID?
    /// The policy's rules (see `PolicyRules` in the Policy module for the shape).
    public var rules: JSONValue
    public var enabled: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID, organizationId: UUID, name: String, level: PolicyLevel, targetId: UUID?, rules: JSONValue,
        enabled: Bool, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationId = organizationId
        self.name = name
        self.level = level
        self.targetId = targetId
        self.rules = rules
        self.enabled = enabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case organizationId = "organization_id"
        case name, level
        case targetId = "target_id"
        case rules, enabled
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public var snapshot: PolicySnapshot {
        PolicySnapshot(id: id, name: name, level: level, targetId: targetId, rules: rules)
    }
}

/// `POST /api/v1/policies` and `PATCH /api/v1/policies/{id}` (every field optional in a patch).
public struct PolicyDefinition: Codable, Sendable, Equatable {
    public var name: String?
    public var level: PolicyLevel?
    public var targetId: UUID?
    public var rules: JSONValue?
    public var enabled: Bool?

    public init(
        name: String? = nil, level: PolicyLevel? = nil, targetId: UUID? = nil, rules: JSONValue? = nil,
        enabled: Bool? = nil
    ) {
        self.name = name
        self.level = level
        self.targetId = targetId
        self.rules = rules
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case name, level
        case targetId = "target_id"
        case rules, enabled
    }

    public static let fieldNames: Set<String> = ["name", "level", "target_id", "rules", "enabled"]
}

/// One policy as it travels with a task: what the worker needs to decide tool calls itself,
/// without a round trip per call.
public struct PolicySnapshot: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var level: PolicyLevel
    public var targetId: UUID?
    public var rules: JSONValue

    public init(id: UUID, name: String, level: PolicyLevel, targetId: UUID? = nil, rules: JSONValue) {
        self.id = id
        self.name = name
        self.level = level
        self.targetId = targetId
        self.rules = rules
    }

    enum CodingKeys: String, CodingKey {
        case id, name, level
        case targetId = "target_id"
        case rules
    }
}

/// A team: agents grouped so policies can be attached to all of them at once.
public struct Team: Codable, Sendable, Equatable {
    public var id: UUID
    public var organizationId: UUID
    public var name: String
    public var description: String?
    public var memberAgentIds: [UUID]
    public var createdAt: Date

    public init(
        id: UUID, organizationId: UUID, name: String, description: String?, memberAgentIds: [UUID], createdAt: Date
    ) {
        self.id = id
        self.organizationId = organizationId
        self.name = name
        self.description = description
        self.memberAgentIds = memberAgentIds
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case organizationId = "organization_id"
        case name, description
        case memberAgentIds = "member_agent_ids"
        case createdAt = "created_at"
    }
}

public struct CreateTeamRequest: Codable, Sendable, Equatable {
    public var name: String
    public var description: String?
    public var memberAgentIds: [UUID]?

    public init(name: String, description: String? = nil, memberAgentIds: [UUID]? = nil) {
        self.name = name
        self.description = description
        self.memberAgentIds = memberAgentIds
    }

    enum CodingKeys: String, CodingKey {
        case name, description
        case memberAgentIds = "member_agent_ids"
    }

    public static let fieldNames: Set<String> = ["name", "description", "member_agent_ids"]
}
