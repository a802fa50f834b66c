import BosunProtocol
import Foundation
import Hummingbird
import PostgresNIO

/// API keys: created by admins, shown once, listed without their secret, revoked at once in
/// every control API process.
struct APIKeyRoutes {
    let services: ControlServices
    var database: Database { services.database }
    var logger: Logger { services.logger }

    func register(on group: RouterGroup<BosunRequestContext>) {
        group.get("api-keys") { _, context in
            let principal = try context.requireAdmin()
            return JSONResponse(ItemList(items: try await list(principal.organizationId)))
        }
        group.post("api-keys") { request, context in
            let principal = try context.requireAdmin()
            let body = try await request.decodeJSON(
                CreateAPIKeyRequest.self, limit: services.maxBody, allowedKeys: CreateAPIKeyRequest.fieldNames)
            return JSONResponse(try await create(principal, body), status: .created)
        }
        group.delete("api-keys/:id") { _, context in
            let principal = try context.requireAdmin()
            try await revoke(principal, try context.parameter("id"))
            return Response(status: .noContent)
        }
    }

    static let columns = "id, organization_id, name, scope, queue_id, prefix, created_at, last_used_at, revoked_at"

    static func key(from row: PostgresRow) throws -> APIKey {
        let row = row.makeRandomAccess()
        return APIKey(
            id: try row.value("id"), organizationId: try row.value("organization_id"), name: try row.value("name"),
            scope: APIKeyScope(rawValue: try row.value("scope")) ?? .user, queueId: try row.value("queue_id"),
            prefix: try row.value("prefix"), createdAt: try row.value("created_at"),
            lastUsedAt: try row.value("last_used_at"), revokedAt: try row.value("revoked_at"))
    }

    func list(_ organization: UUID) async throws -> [APIKey] {
        try await database.withTenant(organization) { connection in
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM api_keys ORDER BY created_at, id"), logger: logger)
            var items: [APIKey] = []
            for try await row in rows { items.append(try Self.key(from: row)) }
            return items
        }
    }

    func create(_ principal: Principal, _ body: CreateAPIKeyRequest) async throws -> CreatedAPIKey {
        guard !body.name.isEmpty, body.name.count <= 200 else {
            throw APIError.invalidBody("'name' must be 1 to 200 characters")
        }
        switch (body.scope, body.queueId) {
        case (.worker, nil): throw APIError.invalidBody("a worker key must name its 'queue_id'")
        case (.admin, .some), (.user, .some): throw APIError.invalidBody("only worker keys are bound to a queue")
        default: break
        }
        let secret = Credential.newAPIKey()
        return try await database.withTenant(principal.organizationId) { connection in
            if let queue = body.queueId {
                try await connection.requireRow("task_queues", id: queue, what: "queue", logger: logger)
            }
            let key = try await Self.insert(
                name: body.name, scope: body.scope, queue: body.queueId, secret: secret, on: connection, logger: logger)
            try await ExecutionJournal(connection: connection, logger: logger).audit(
                actor: principal.actor, action: "api_key.create", targetType: "api_key", targetId: key.id,
                details: ["scope": .string(body.scope.rawValue), "name": .string(body.name)])
            return CreatedAPIKey(apiKey: key, key: secret)
        }
    }

    static func insert(
        name: String, scope: APIKeyScope, queue: UUID?, secret: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> APIKey {
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO api_keys (organization_id, name, scope, queue_id, prefix, key_hash)
                    VALUES (bosun_current_org(), $1, $2, $3, $4, $5) RETURNING \(columns)
                    """,
                binds: try binds(name, scope.rawValue, queue, Credential.displayPrefix(secret), Credential.hashParameter(secret))),
            logger: logger)
        for try await row in rows { return try key(from: row) }
        throw APIError(.internalServerError, "internal", "the key was not created")
    }

    func revoke(_ principal: Principal, _ id: UUID) async throws {
        let hash = try await database.withTenant(principal.organizationId) { connection -> [UInt8] in
            let rows = try await connection.query(
                """
                UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = \(id) RETURNING key_hash
                """, logger: logger)
            var hash: [UInt8]?
            for try await value in rows.decode(ByteBuffer.self) { hash = Array(buffer: value) }
            guard let hash else { throw APIError.notFound("API key", id) }
            try await Notifications.send(Notifications.revoke(hash: hash), on: connection, logger: logger)
            try await ExecutionJournal(connection: connection, logger: logger).audit(
                actor: principal.actor, action: "api_key.revoke", targetType: "api_key", targetId: id)
            return hash
        }
        await services.authenticator.invalidate(hash: hash)
    }
}
