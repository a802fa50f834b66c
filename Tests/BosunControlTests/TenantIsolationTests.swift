import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite struct TenantIsolationTests {
    @Test func anotherTenantsResourcesAreInvisibleThroughTheAPI() async throws {
        let server = try await TestServer.shared()
        let alpha = try await Tenant.create(on: server)
        let beta = try await Tenant.create(on: server)
        let agent = try await alpha.createAgent()
        let execution = try await alpha.submit(agent: agent.id)

        // Beta sees none of alpha's things, and a 404 does not reveal that they exist.
        let agentReply = try await beta.admin.get("/api/v1/agents/\(agent.id.uuidString.lowercased())")
        #expect(agentReply.status == 404)
        let executionReply = try await beta.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())")
        #expect(executionReply.status == 404)
        #expect(executionReply.problem?.detail.contains("does not exist") == true)
        let list = try await beta.admin.get("/api/v1/agents").decode(ItemList<Agent>.self)
        #expect(list.items.isEmpty)
        // Beta cannot submit against alpha's agent nor alpha's queue.
        let submit = try await beta.admin.post("/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: "x"))
        #expect(submit.status == 404)
        let betaAgent = try await beta.createAgent()
        let routed = try await beta.admin.post(
            "/api/v1/executions",
            CreateExecutionRequest(agentId: betaAgent.id, input: "x", routing: Routing(strategy: .specificQueue, queueId: alpha.queueId)))
        #expect(routed.status == 404)
        // A worker key of beta cannot register on alpha's queue.
        let betaWorkerKey = try await beta.createKey(scope: .worker, queue: beta.queueId)
        let register = try await beta.admin.with(token: betaWorkerKey).post(
            "/api/v1/workers/register",
            WorkerRegistrationRequest(queueId: alpha.queueId, hostname: "h", version: "t", slots: 1, runtimes: ["agno"]))
        #expect(register.status == 403)
    }

    @Test func aWorkerNeverClaimsAnotherTenantsTasks() async throws {
        let server = try await TestServer.shared()
        let alpha = try await Tenant.create(on: server)
        let beta = try await Tenant.create(on: server)
        let agent = try await alpha.createAgent()
        _ = try await alpha.submit(agent: agent.id)
        let (registration, worker) = try await beta.registerWorker()
        let tasks = try await worker.poll(worker: registration.workerId, wait: 0.2)
        #expect(tasks.isEmpty)
        // Beta's worker token cannot touch alpha's worker either.
        let (alphaRegistration, _) = try await alpha.registerWorker()
        let foreign = try await worker.post(
            "/api/v1/workers/\(alphaRegistration.workerId.uuidString.lowercased())/poll", PollRequest(slots: 1, waitS: 0))
        #expect(foreign.status == 403)
    }

    @Test func rowLevelSecurityHoldsInSQLForTheServersRole() async throws {
        let server = try await TestServer.shared()
        let alpha = try await Tenant.create(on: server)
        let beta = try await Tenant.create(on: server)
        _ = try await alpha.createAgent()
        _ = try await beta.createAgent()
        let database = server.server.services.database
        // The test user is a superuser, like a typical development setup; the server's role is not.
        let unset = try await database.withoutTenant { connection in
            try await count("SELECT count(*) FROM agents", on: connection)
        }
        #expect(unset == 0)
        let executionsUnset = try await database.withoutTenant { connection in
            try await count("SELECT count(*) FROM api_keys", on: connection)
        }
        #expect(executionsUnset == 0)
        let own = try await database.withTenant(alpha.organizationId) { connection in
            try await count("SELECT count(DISTINCT organization_id) FROM agents", on: connection)
        }
        #expect(own == 1)
        let role = try await database.withTenant(alpha.organizationId) { connection -> String in
            for try await (name, bypass) in try await connection.query(
                "SELECT current_user::text, rolbypassrls FROM pg_roles WHERE rolname = current_user", logger: TestEnvironment.logger
            ).decode((String, Bool).self) {
                #expect(bypass == false)
                return name
            }
            return ""
        }
        #expect(role == "bosun_app")
        // Writing a row for another organization is refused by the policy's WITH CHECK.
        await #expect(throws: PSQLError.self) {
            try await database.withTenant(alpha.organizationId) { connection in
                try await connection.query(
                    "INSERT INTO environments (organization_id, name) VALUES (\(beta.organizationId), 'sneaky')",
                    logger: TestEnvironment.logger)
            }
        }
    }

    func count(_ sql: String, on connection: PostgresConnection) async throws -> Int64 {
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger)
            .decode(Int64.self)
        {
            return value
        }
        return -1
    }
}
