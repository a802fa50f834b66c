import Foundation

/// A task queue: workers register for exactly one; its wire name is `{organization_id}.{queue_id}`.
public struct TaskQueue: Codable, Sendable, Equatable {
    public var id: UUID
    public var organizationId: UUID
    public var environmentId: UUID?
    public var name: String
    public var wireName: String
    public var description: String?
    public var createdAt: Date

    public init(
        id: UUID, organizationId: UUID, environmentId: UUID?, name: String, description: String?, createdAt: Date
    ) {
        self.id = id
        self.organizationId = organizationId
        self.environmentId = environmentId
        self.name = name
        self.wireName = TaskQueue.wireName(organizationId: organizationId, queueId: id)
        self.description = description
        self.createdAt = createdAt
    }

    public static func wireName(organizationId: UUID, queueId: UUID) -> String {
        "\(organizationId.uuidString.lowercased()).\(queueId.uuidString.lowercased())"
    }

    enum CodingKeys: String, CodingKey {
        case id
        case organizationId = "organization_id"
        case environmentId = "environment_id"
        case name
        case wireName = "wire_name"
        case description
        case createdAt = "created_at"
    }
}

public struct CreateQueueRequest: Codable, Sendable, Equatable {
    public var name: String
    public var environmentId: UUID?
    public var description: String?

    public init(name: String, environmentId: UUID? = nil, description: String? = nil) {
        self.name = name
        self.environmentId = environmentId
        self.description = description
    }

    /// The top-level field names a request may carry; anything else is rejected.
    public static var fieldNames: Set<String> { Set(CodingKeys.allCases.map(\.stringValue)) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name
        case environmentId = "environment_id"
        case description
    }
}
