import Foundation

public enum APIKeyScope: String, Codable, Sendable, CaseIterable {
    /// Everything in the organization, including keys, queues and environments.
    case admin
    /// Agents and executions.
    case user
    /// Only worker registration, for the one queue the key is bound to.
    case worker
}

/// An API key as listings show it: never the secret.
public struct APIKey: Codable, Sendable, Equatable {
    public var id: UUID
    public var organizationId: UUID
    public var name: String
    public var scope: APIKeyScope
    public var queueId: UUID?
    /// The first characters of the key, enough to recognise it.
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(
        id: UUID, organizationId: UUID, name: String, scope: APIKeyScope, queueId: UUID?, prefix: String,
        createdAt: Date, lastUsedAt: Date?, revokedAt: Date?
    ) {
        self.id = id
        self.organizationId = organizationId
        self.name = name
        self.scope = scope
        self.queueId = queueId
        self.prefix = prefix
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case organizationId = "organization_id"
        case name, scope
        case queueId = "queue_id"
        case prefix
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
        case revokedAt = "revoked_at"
    }
}

public struct CreateAPIKeyRequest: Codable, Sendable, Equatable {
    public var name: String
    public var scope: APIKeyScope
    public var queueId: UUID?

    public init(name: String, scope: APIKeyScope, queueId: UUID? = nil) {
        self.name = name
        self.scope = scope
        self.queueId = queueId
    }

    /// The top-level field names a request may carry; anything else is rejected.
    public static var fieldNames: Set<String> { Set(CodingKeys.allCases.map(\.stringValue)) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, scope
        case queueId = "queue_id"
    }
}

/// The reply to creating a key: the only time the secret `key` is shown.
public struct CreatedAPIKey: Codable, Sendable, Equatable {
    public var apiKey: APIKey
    public var key: String

    public init(apiKey: APIKey, key: String) {
        self.apiKey = apiKey
        self.key = key
    }

    public func encode(to encoder: any Encoder) throws {
        try apiKey.encode(to: encoder)
        var c = encoder.container(keyedBy: SecretKey.self)
        try c.encode(key, forKey: .key)
    }

    public init(from decoder: any Decoder) throws {
        self.apiKey = try APIKey(from: decoder)
        self.key = try decoder.container(keyedBy: SecretKey.self).decode(String.self, forKey: .key)
    }

    enum SecretKey: String, CodingKey { case key }
}
