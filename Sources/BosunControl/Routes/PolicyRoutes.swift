import BosunProtocol
import Foundation
import Hummingbird
import Policy
import PostgresNIO

/// Policies (`/api/v1/policies`) and teams (`/api/v1/teams`, which team-level policies attach
/// to). Anyone in the organization may read policies; only admins change them, and every change
/// is audited.
struct PolicyRoutes {
    let services: ControlServices
    var database: Database { services.database }
    var logger: Logger { services.logger }

    func register(on group: RouterGroup<BosunRequestContext>) {
        group.get("policies") { _, context in
            let principal = try context.requireUser()
            return JSONResponse(ItemList(items: try await list(principal.organizationId)))
        }
        group.post("policies") { request, context in
            let principal = try context.requireAdmin()
            let body = try await request.decodeJSON(
                PolicyDefinition.self, limit: services.maxBody, allowedKeys: PolicyDefinition.fieldNames)
            return JSONResponse(try await create(principal, body), status: .created)
        }
        group.get("policies/:id") { _, context in
            let principal = try context.requireUser()
            let id = try context.parameter("id")
            guard let found = try await list(principal.organizationId, id: id).first else {
                throw APIError.notFound("policy", id)
            }
            return JSONResponse(found)
        }
        group.patch("policies/:id") { request, context in
            let principal = try context.requireAdmin()
            let id = try context.parameter("id")
            let body = try await request.decodeJSON(
                PolicyDefinition.self, limit: services.maxBody, allowedKeys: PolicyDefinition.fieldNames)
            return JSONResponse(try await update(principal, id, body))
        }
        group.delete("policies/:id") { _, context in
            let principal = try context.requireAdmin()
            try await ResourceRoutes(services: services).deleteRow(
                principal, table: "policies", id: try context.parameter("id"), what: "policy")
            return Response(status: .noContent)
        }

        group.get("teams") { _, context in
            let principal = try context.requireUser()
            return JSONResponse(ItemList(items: try await listTeams(principal.organizationId)))
        }
        group.post("teams") { request, context in
            let principal = try context.requireUser()
            let body = try await request.decodeJSON(
                CreateTeamRequest.self, limit: services.maxBody, allowedKeys: CreateTeamRequest.fieldNames)
            return JSONResponse(try await createTeam(principal, body), status: .created)
        }
        group.get("teams/:id") { _, context in
            let principal = try context.requireUser()
            let id = try context.parameter("id")
            guard let found = try await listTeams(principal.organizationId, id: id).first else {
                throw APIError.notFound("team", id)
            }
            return JSONResponse(found)
        }
        group.delete("teams/:id") { _, context in
            let principal = try context.requireUser()
            try await ResourceRoutes(services: services).deleteRow(
                principal, table: "teams", id: try context.parameter("id"), what: "team")
            return Response(status: .noContent)
        }
    }

    // MARK: policies

    static let columns = "id, organization_id, name, level, target_id, rules::text AS rules, enabled, created_at, updated_at"

    static func policy(from row: PostgresRow) throws -> BosunProtocol.Policy {
        let row = row.makeRandomAccess()
        guard let level = PolicyLevel(rawValue: try row.value("level")) else {
            throw APIError(.internalServerError, "internal", "a stored policy has an unknown level")
        }
        return BosunProtocol.Policy(
            id: try row.value("id"), organizationId: try row.value("organization_id"), name: try row.value("name"),
            level: level, targetId: try row.value("target_id"), rules: try row.json("rules").value,
            enabled: try row.value("enabled"), createdAt: try row.value("created_at"),
            updatedAt: try row.value("updated_at"))
    }

    func list(_ organization: UUID, id: UUID? = nil) async throws -> [BosunProtocol.Policy] {
        try await database.withTenant(organization) { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.columns) FROM policies WHERE ($1::uuid IS NULL OR id = $1)
                        ORDER BY CASE level WHEN 'organization' THEN 0 WHEN 'environment' THEN 1
                                            WHEN 'team' THEN 2 ELSE 3 END, name
                        """, binds: try binds(id)),
                logger: logger)
            var items: [BosunProtocol.Policy] = []
            for try await row in rows { items.append(try Self.policy(from: row)) }
            return items
        }
    }

    /// Checks a definition before it is stored: rules that read, a level and target that fit.
    func validate(level: PolicyLevel, target: UUID?, rules: JSONValue, on connection: PostgresConnection) async throws {
        do {
            _ = try PolicyRules(json: rules)
        } catch {
            throw APIError(.unprocessableContent, "invalid-policy", error.message)
        }
        switch level {
        case .organization:
            if target != nil {
                throw APIError(.unprocessableContent, "invalid-policy", "an organization policy has no 'target_id'")
            }
        case .environment, .team, .agent:
            guard let target else {
                throw APIError(
                    .unprocessableContent, "invalid-policy", "a \(level.rawValue) policy needs 'target_id' (the \(level.rawValue)'s id)")
            }
            let table: StaticString =
                switch level {
                case .environment: "environments"
                case .team: "teams"
                default: "agents"
                }
            try await connection.requireRow(table, id: target, what: level.rawValue, logger: logger)
        }
    }

    func create(_ principal: Principal, _ body: PolicyDefinition) async throws -> BosunProtocol.Policy {
        guard let name = body.name else { throw APIError.invalidBody("missing field 'name'") }
        try ResourceRoutes(services: services).validateName(name)
        guard let level = body.level else {
            throw APIError.invalidBody("missing field 'level' (organization, environment, team or agent)")
        }
        let rules = body.rules ?? .object([:])
        return try await database.withTenant(principal.organizationId) { connection in
            try await validate(level: level, target: body.targetId, rules: rules, on: connection)
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO policies (organization_id, name, level, target_id, rules, enabled)
                        VALUES (bosun_current_org(), $1, $2, $3, $4::jsonb, $5)
                        ON CONFLICT (organization_id, name) DO NOTHING
                        RETURNING \(Self.columns)
                        """,
                    binds: try binds(name, level.rawValue, body.targetId, rules.jsonText, body.enabled ?? true)),
                logger: logger)
            for try await row in rows {
                let policy = try Self.policy(from: row)
                try await ExecutionJournal(connection: connection, logger: logger).audit(
                    actor: principal.actor, action: "policy.create", targetType: "policy", targetId: policy.id,
                    details: ["name": .string(name), "level": .string(level.rawValue), "rules": rules])
                return policy
            }
            throw APIError.conflict("already-exists", "a policy named '\(name)' already exists")
        }
    }

    func update(_ principal: Principal, _ id: UUID, _ body: PolicyDefinition) async throws -> BosunProtocol.Policy {
        if let name = body.name { try ResourceRoutes(services: services).validateName(name) }
        return try await database.withTenant(principal.organizationId) { connection in
            let current = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM policies WHERE id = $1 FOR UPDATE", binds: try binds(id)),
                logger: logger)
            var found: BosunProtocol.Policy?
            for try await row in current { found = try Self.policy(from: row) }
            guard var policy = found else { throw APIError.notFound("policy", id) }
            if let name = body.name { policy.name = name }
            if let level = body.level {
                policy.level = level
                policy.targetId = body.targetId
            } else if let target = body.targetId {
                policy.targetId = target
            }
            if let rules = body.rules { policy.rules = rules }
            if let enabled = body.enabled { policy.enabled = enabled }
            try await validate(level: policy.level, target: policy.targetId, rules: policy.rules, on: connection)
            do {
                let rows = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            UPDATE policies SET name = $2, level = $3, target_id = $4, rules = $5::jsonb, enabled = $6,
                                updated_at = now()
                            WHERE id = $1 RETURNING \(Self.columns)
                            """,
                        binds: try binds(
                            id, policy.name, policy.level.rawValue, policy.targetId, policy.rules.jsonText, policy.enabled)),
                    logger: logger)
                for try await row in rows { policy = try Self.policy(from: row) }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                throw APIError.conflict("already-exists", "a policy named '\(policy.name)' already exists")
            }
            try await ExecutionJournal(connection: connection, logger: logger).audit(
                actor: principal.actor, action: "policy.update", targetType: "policy", targetId: id,
                details: ["name": .string(policy.name), "rules": policy.rules, "enabled": .bool(policy.enabled)])
            return policy
        }
    }

    // MARK: teams

    func listTeams(_ organization: UUID, id: UUID? = nil) async throws -> [Team] {
        try await database.withTenant(organization) { connection in
            let rows = try await connection.query(
                """
                SELECT id, organization_id, name, description, member_agent_ids, created_at FROM teams
                WHERE (\(id)::uuid IS NULL OR id = \(id)) ORDER BY created_at, id
                """, logger: logger)
            var items: [Team] = []
            for try await (id, org, name, description, members, created) in rows.decode(
                (UUID, UUID, String, String?, [UUID], Date).self)
            {
                items.append(
                    Team(id: id, organizationId: org, name: name, description: description, memberAgentIds: members,
                         createdAt: created))
            }
            return items
        }
    }

    func createTeam(_ principal: Principal, _ body: CreateTeamRequest) async throws -> Team {
        try ResourceRoutes(services: services).validateName(body.name)
        let members = body.memberAgentIds ?? []
        return try await database.withTenant(principal.organizationId) { connection in
            for agent in members { try await connection.requireRow("agents", id: agent, what: "agent", logger: logger) }
            let rows = try await connection.query(
                """
                INSERT INTO teams (organization_id, name, description, member_agent_ids)
                VALUES (bosun_current_org(), \(body.name), \(body.description), \(members))
                ON CONFLICT (organization_id, name) DO NOTHING
                RETURNING id, organization_id, name, description, member_agent_ids, created_at
                """, logger: logger)
            for try await (id, org, name, description, members, created) in rows.decode(
                (UUID, UUID, String, String?, [UUID], Date).self)
            {
                try await ExecutionJournal(connection: connection, logger: logger).audit(
                    actor: principal.actor, action: "team.create", targetType: "team", targetId: id)
                return Team(
                    id: id, organizationId: org, name: name, description: description, memberAgentIds: members,
                    createdAt: created)
            }
            throw APIError.conflict("already-exists", "a team named '\(body.name)' already exists")
        }
    }
}
