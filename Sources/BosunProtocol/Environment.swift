import Foundation

public struct Environment: Codable, Sendable, Equatable {
    public var id: UUID
    public var organizationId: UUID
    public var name: String
    public var description: String?
    public var createdAt: Date

    public init(id: UUID, organizationId: UUID, name: String, description: String?, createdAt: Date) {
        self.id = id
        self.organizationId = organizationId
        self.name = name
        self.description = description
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case organizationId = "organization_id"
        case name, description
        case createdAt = "created_at"
    }
}

public struct CreateEnvironmentRequest: Codable, Sendable, Equatable {
    public var name: String
    public var description: String?
    public init(name: String, description: String? = nil) {
        self.name = name
        self.description = description
    }
    /// The top-level field names a request may carry; anything else is rejected.
    public static var fieldNames: Set<String> { Set(CodingKeys.allCases.map(\.stringValue)) }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, description }
}
