import BosunProtocol
import Foundation
import Hummingbird
import PostgresNIO

/// CRUD for environments, queues and agents. Reads need a user or admin credential; changing
/// environments and queues needs admin.
struct ResourceRoutes {
    let services: ControlServices
    var database: Database { services.database }
    var logger: Logger { services.logger }

    func register(on group: RouterGroup<BosunRequestContext>) {
        group.get("environments") { _, context in
            let principal = try context.requireUser()
            return JSONResponse(ItemList(items: try await listEnvironments(principal.organizationId)))
        }
        group.post("environments") { request, context in
            let principal = try context.requireAdmin()
            let body = try await request.decodeJSON(
                CreateEnvironmentRequest.self, limit: services.maxBody, allowedKeys: CreateEnvironmentRequest.fieldNames)
            try validateName(body.name)
            return JSONResponse(try await createEnvironment(principal, body), status: .created)
        }
        group.get("environments/:id") { _, context in
            let principal = try context.requireUser()
            let id = try context.parameter("id")
            guard let found = try await listEnvironments(principal.organizationId, id: id).first else {
                throw APIError.notFound("environment", id)
            }
            return JSONResponse(found)
        }
        group.delete("environments/:id") { _, context in
            let principal = try context.requireAdmin()
            let id = try context.parameter("id")
            try await deleteRow(principal, table: "environments", id: id, what: "environment")
            return Response(status: .noContent)
        }

        group.get("queues") { _, context in
            let principal = try context.requireUser()
            return JSONResponse(ItemList(items: try await listQueues(principal.organizationId)))
        }
        group.post("queues") { request, context in
            let principal = try context.requireAdmin()
            let body = try await request.decodeJSON(
                CreateQueueRequest.self, limit: services.maxBody, allowedKeys: CreateQueueRequest.fieldNames)
            try validateName(body.name)
            return JSONResponse(try await createQueue(principal, body), status: .created)
        }
        group.get("queues/:id") { _, context in
            let principal = try context.requireUser()
            let id = try context.parameter("id")
            guard let found = try await listQueues(principal.organizationId, id: id).first else {
                throw APIError.notFound("queue", id)
            }
            return JSONResponse(found)
        }
        group.delete("queues/:id") { _, context in
            let principal = try context.requireAdmin()
            let id = try context.parameter("id")
            try await deleteRow(principal, table: "task_queues", id: id, what: "queue")
            return Response(status: .noContent)
        }

        group.get("agents") { _, context in
            let principal = try context.requireUser()
            return JSONResponse(ItemList(items: try await listAgents(principal.organizationId)))
        }
        group.post("agents") { request, context in
            let principal = try context.requireUser()
            let body = try await request.decodeJSON(
                AgentDefinition.self, limit: services.maxBody, allowedKeys: AgentDefinition.fieldNames)
            return JSONResponse(try await createAgent(principal, body), status: .created)
        }
        group.get("agents/:id") { _, context in
            let principal = try context.requireUser()
            let id = try context.parameter("id")
            guard let found = try await listAgents(principal.organizationId, id: id).first else {
                throw APIError.notFound("agent", id)
            }
            return JSONResponse(found)
        }
        group.patch("agents/:id") { request, context in
            let principal = try context.requireUser()
            let id = try context.parameter("id")
            let body = try await request.decodeJSON(
                AgentDefinition.self, limit: services.maxBody, allowedKeys: AgentDefinition.fieldNames)
            return JSONResponse(try await updateAgent(principal, id: id, body))
        }
        group.delete("agents/:id") { _, context in
            let principal = try context.requireUser()
            let id = try context.parameter("id")
            try await deleteRow(principal, table: "agents", id: id, what: "agent")
            return Response(status: .noContent)
        }
    }

    func validateName(_ name: String) throws {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200, trimmed == name else {
            throw APIError.invalidBody("'name' must be 1 to 200 characters without leading or trailing spaces")
        }
    }

    // MARK: environments

    func listEnvironments(_ organization: UUID, id: UUID? = nil) async throws -> [BosunProtocol.Environment] {
        try await database.withTenant(organization) { connection in
            let rows = try await connection.query(
                """
                SELECT id, organization_id, name, description, created_at FROM environments
                WHERE (\(id)::uuid IS NULL OR id = \(id)) ORDER BY created_at, id
                """, logger: logger)
            var items: [BosunProtocol.Environment] = []
            for try await (id, org, name, description, created) in rows.decode((UUID, UUID, String, String?, Date).self) {
                items.append(.init(id: id, organizationId: org, name: name, description: description, createdAt: created))
            }
            return items
        }
    }

    func createEnvironment(_ principal: Principal, _ body: CreateEnvironmentRequest) async throws
        -> BosunProtocol.Environment
    {
        try await database.withTenant(principal.organizationId) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO environments (organization_id, name, description)
                VALUES (bosun_current_org(), \(body.name), \(body.description))
                ON CONFLICT (organization_id, name) DO NOTHING
                RETURNING id, organization_id, name, description, created_at
                """, logger: logger)
            for try await (id, org, name, description, created) in rows.decode((UUID, UUID, String, String?, Date).self) {
                try await ExecutionJournal(connection: connection, logger: logger).audit(
                    actor: principal.actor, action: "environment.create", targetType: "environment", targetId: id)
                return .init(id: id, organizationId: org, name: name, description: description, createdAt: created)
            }
            throw APIError.conflict("already-exists", "an environment named '\(body.name)' already exists")
        }
    }

    // MARK: queues

    func listQueues(_ organization: UUID, id: UUID? = nil) async throws -> [TaskQueue] {
        try await database.withTenant(organization) { connection in
            let rows = try await connection.query(
                """
                SELECT id, organization_id, environment_id, name, description, created_at FROM task_queues
                WHERE (\(id)::uuid IS NULL OR id = \(id)) ORDER BY created_at, id
                """, logger: logger)
            var items: [TaskQueue] = []
            for try await (id, org, environment, name, description, created) in rows.decode(
                (UUID, UUID, UUID?, String, String?, Date).self)
            {
                items.append(
                    TaskQueue(
                        id: id, organizationId: org, environmentId: environment, name: name, description: description,
                        createdAt: created))
            }
            return items
        }
    }

    func createQueue(_ principal: Principal, _ body: CreateQueueRequest) async throws -> TaskQueue {
        try await database.withTenant(principal.organizationId) { connection in
            if let environment = body.environmentId {
                try await connection.requireRow("environments", id: environment, what: "environment", logger: logger)
            }
            let rows = try await connection.query(
                """
                INSERT INTO task_queues (organization_id, environment_id, name, description)
                VALUES (bosun_current_org(), \(body.environmentId), \(body.name), \(body.description))
                ON CONFLICT (organization_id, name) DO NOTHING
                RETURNING id, organization_id, environment_id, name, description, created_at
                """, logger: logger)
            for try await (id, org, environment, name, description, created) in rows.decode(
                (UUID, UUID, UUID?, String, String?, Date).self)
            {
                try await ExecutionJournal(connection: connection, logger: logger).audit(
                    actor: principal.actor, action: "queue.create", targetType: "queue", targetId: id)
                return TaskQueue(
                    id: id, organizationId: org, environmentId: environment, name: name, description: description,
                    createdAt: created)
            }
            throw APIError.conflict("already-exists", "a queue named '\(body.name)' already exists")
        }
    }

    // MARK: agents

    static let agentColumns = """
        id, organization_id, name, description, runtime, model, instructions, tools::text AS tools,
        mcp_servers::text AS mcp_servers, sandbox_profile, limits::text AS limits, settings::text AS settings,
        created_at, updated_at
        """

    static func agent(from row: PostgresRow) throws -> Agent {
        let row = row.makeRandomAccess()
        return Agent(
            id: try row.value("id"), organizationId: try row.value("organization_id"), name: try row.value("name"),
            description: try row.value("description"),
            runtime: AgentRuntime(rawValue: try row.value("runtime")) ?? .agno, model: try row.value("model"),
            instructions: try row.value("instructions"), tools: try row.json("tools").value.arrayValue ?? [],
            mcpServers: try row.json("mcp_servers").value.objectValue ?? [:],
            sandboxProfile: try row.value("sandbox_profile"),
            limits: try row.json("limits").value.objectValue ?? [:],
            settings: try row.json("settings").value.objectValue ?? [:], createdAt: try row.value("created_at"),
            updatedAt: try row.value("updated_at"))
    }

    func listAgents(_ organization: UUID, id: UUID? = nil) async throws -> [Agent] {
        try await database.withTenant(organization) { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.agentColumns) FROM agents WHERE ($1::uuid IS NULL OR id = $1) ORDER BY created_at, id
                        """, binds: try binds(id)), logger: logger)
            var items: [Agent] = []
            for try await row in rows { items.append(try Self.agent(from: row)) }
            return items
        }
    }

    func validate(_ definition: AgentDefinition) throws {
        if let name = definition.name { try validateName(name) }
        if let model = definition.model, model.trimmingCharacters(in: .whitespaces).isEmpty {
            throw APIError.invalidBody("'model' must not be empty (for example 'openai/gpt-4o-mini')")
        }
        if let profile = definition.sandboxProfile,
            profile.isEmpty || !profile.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        {
            throw APIError.invalidBody("'sandbox_profile' must be a profile name such as 'default', 'strict' or 'trusted'")
        }
        if let limits = definition.limits {
            for (key, value) in limits {
                guard let number = value.numberValue, number >= 0 else {
                    throw APIError.invalidBody("limit '\(key)' must be a non-negative number")
                }
            }
            if let turns = limits["max_turns"]?.numberValue, turns < 1 || turns.rounded() != turns {
                throw APIError.invalidBody("limit 'max_turns' must be a whole number of at least 1")
            }
        }
        if let settings = definition.settings { try AgentSettingsCheck.validate(settings) }
    }

    func createAgent(_ principal: Principal, _ body: AgentDefinition) async throws -> Agent {
        guard let name = body.name else { throw APIError.invalidBody("missing field 'name'") }
        guard let runtime = body.runtime else {
            throw APIError.invalidBody("missing field 'runtime' (one of: agno, claude_code)")
        }
        guard let model = body.model else { throw APIError.invalidBody("missing field 'model'") }
        try validate(body)
        return try await database.withTenant(principal.organizationId) { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO agents (organization_id, name, description, runtime, model, instructions, tools,
                                            mcp_servers, sandbox_profile, limits, settings)
                        VALUES (bosun_current_org(), $1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9::jsonb, $10::jsonb)
                        ON CONFLICT (organization_id, name) DO NOTHING
                        RETURNING \(Self.agentColumns)
                        """,
                    binds: try binds(
                        name, body.description, runtime.rawValue, model, body.instructions ?? "",
                        (body.tools ?? []).jsonText, (body.mcpServers ?? [:]).jsonText, body.sandboxProfile ?? "default",
                        (body.limits ?? [:]).jsonText, (body.settings ?? [:]).jsonText)), logger: logger)
            for try await row in rows {
                let agent = try Self.agent(from: row)
                try await ExecutionJournal(connection: connection, logger: logger).audit(
                    actor: principal.actor, action: "agent.create", targetType: "agent", targetId: agent.id)
                return agent
            }
            throw APIError.conflict("already-exists", "an agent named '\(name)' already exists")
        }
    }

    func updateAgent(_ principal: Principal, id: UUID, _ body: AgentDefinition) async throws -> Agent {
        try validate(body)
        return try await database.withTenant(principal.organizationId) { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE agents SET name = COALESCE($2, name), description = COALESCE($3, description),
                            runtime = COALESCE($4, runtime), model = COALESCE($5, model),
                            instructions = COALESCE($6, instructions), tools = COALESCE($7::jsonb, tools),
                            mcp_servers = COALESCE($8::jsonb, mcp_servers),
                            sandbox_profile = COALESCE($9, sandbox_profile), limits = COALESCE($10::jsonb, limits),
                            settings = COALESCE($11::jsonb, settings), updated_at = now()
                        WHERE id = $1
                        RETURNING \(Self.agentColumns)
                        """,
                    binds: try binds(
                        id, body.name, body.description, body.runtime?.rawValue, body.model, body.instructions,
                        body.tools?.jsonText, body.mcpServers?.jsonText, body.sandboxProfile, body.limits?.jsonText,
                        body.settings?.jsonText)),
                logger: logger)
            for try await row in rows {
                let agent = try Self.agent(from: row)
                try await ExecutionJournal(connection: connection, logger: logger).audit(
                    actor: principal.actor, action: "agent.update", targetType: "agent", targetId: id)
                return agent
            }
            throw APIError.notFound("agent", id)
        }
    }

    // MARK: shared

    func deleteRow(_ principal: Principal, table: String, id: UUID, what: String) async throws {
        try await database.withTenant(principal.organizationId) { connection in
            do {
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE id = $1 RETURNING id", binds: try binds(id)),
                    logger: logger)
                var deleted = false
                for try await _ in rows { deleted = true }
                guard deleted else { throw APIError.notFound(what, id) }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
                throw APIError.conflict("in-use", "the \(what) is still referenced (by executions, workers or keys)")
            }
            try await ExecutionJournal(connection: connection, logger: logger).audit(
                actor: principal.actor, action: "\(what).delete", targetType: what, targetId: id)
        }
    }
}

/// Binds values in order as `$1`, `$2`, ... for queries whose SQL text is built from constants.
func binds(_ values: (any PostgresEncodable)?...) throws -> PostgresBindings {
    var bindings = PostgresBindings()
    for value in values {
        if let value {
            try bindings.append(value)
        } else {
            bindings.appendNull()
        }
    }
    return bindings
}
