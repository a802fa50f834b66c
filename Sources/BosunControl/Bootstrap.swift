import BosunProtocol
import Foundation
import Logging
import PostgresNIO

/// What `bosun-control bootstrap` created. The admin key's secret exists only here.
public struct BootstrapResult: Codable, Sendable {
    public var organizationId: UUID
    public var environmentId: UUID
    public var queueId: UUID
    public var adminKey: String

    enum CodingKeys: String, CodingKey {
        case organizationId = "organization_id"
        case environmentId = "environment_id"
        case queueId = "queue_id"
        case adminKey = "admin_key"
    }
}

/// Creates an organization with a `default` environment and queue and its first admin API key.
public struct Bootstrap: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public func run(organization name: String) async throws -> BootstrapResult {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw ConfigurationError("the organization name must be 1 to 200 characters")
        }
        try await Migrator(database: database, logger: logger).migrate()
        let adminKey = Credential.newAPIKey()
        // One transaction: an organization never exists without its first admin key. Creating the
        // tenant is the one write made outside any tenant; everything after it runs as bosun_app.
        return try await database.asOwner { connection in
            var created: UUID?
            for try await id in try await connection.query(
                "INSERT INTO organizations (name) VALUES (\(trimmed)) ON CONFLICT (name) DO NOTHING RETURNING id",
                logger: logger
            ).decode(UUID.self) { created = id }
            guard let organization = created else {
                throw ConfigurationError(
                    "an organization named '\(trimmed)' already exists; its admin key was shown when it was created")
            }
            try await connection.query(
                "SELECT set_config('role', 'bosun_app', true), set_config('bosun.org_id', \(organization.uuidString), true)",
                logger: logger)
            var environment: UUID?
            for try await id in try await connection.query(
                "INSERT INTO environments (organization_id, name, description) VALUES (bosun_current_org(), 'default', 'created by bootstrap') RETURNING id",
                logger: logger
            ).decode(UUID.self) { environment = id }
            var queue: UUID?
            for try await id in try await connection.query(
                "INSERT INTO task_queues (organization_id, environment_id, name, description) VALUES (bosun_current_org(), \(environment), 'default', 'created by bootstrap') RETURNING id",
                logger: logger
            ).decode(UUID.self) { queue = id }
            guard let environment, let queue else { throw ConfigurationError("bootstrap could not create its defaults") }
            let key = try await APIKeyRoutes.insert(
                name: "bootstrap admin", scope: .admin, queue: nil, secret: adminKey, on: connection, logger: logger)
            try await ExecutionJournal(connection: connection, logger: logger).audit(
                actor: "bootstrap", action: "organization.bootstrap", targetType: "api_key", targetId: key.id,
                details: ["organization": .string(trimmed)])
            return BootstrapResult(
                organizationId: organization, environmentId: environment, queueId: queue, adminKey: adminKey)
        }
    }
}
