import BosunControl
import BosunProtocol
import Foundation

/// A freshly bootstrapped organization with ready-made credentials, so tests never share state.
public struct Tenant: Sendable {
    public let organizationId: UUID
    public let environmentId: UUID
    public let queueId: UUID
    public let admin: APIClient

    public init(organizationId: UUID, environmentId: UUID, queueId: UUID, admin: APIClient) {
        self.organizationId = organizationId
        self.environmentId = environmentId
        self.queueId = queueId
        self.admin = admin
    }

    public static func create(on server: TestServer, name: String = "test-\(UUID().uuidString.prefix(13))") async throws
        -> Tenant
    {
        let result = try await Bootstrap(database: server.server.services.database, logger: TestEnvironment.logger)
            .run(organization: name)
        return Tenant(
            organizationId: result.organizationId, environmentId: result.environmentId, queueId: result.queueId,
            admin: APIClient(baseURL: server.baseURL, token: result.adminKey))
    }

    public func createAgent(name: String = "agent-\(UUID().uuidString.prefix(8))", runtime: AgentRuntime = .agno,
                            limits: [String: JSONValue]? = nil) async throws -> Agent
    {
        let reply = try await admin.post(
            "/api/v1/agents",
            AgentDefinition(
                name: name, runtime: runtime, model: "openai/gpt-4o-mini", instructions: "Be brief.",
                tools: [["name": "get_time"]], mcpServers: ["time": ["command": "mcp-server-time"]], limits: limits))
        guard reply.status == 201 else { throw TestFailure("create agent: \(reply.status) \(reply.text)") }
        return try reply.decode()
    }

    public func createKey(scope: APIKeyScope, queue: UUID? = nil) async throws -> String {
        let reply = try await admin.post(
            "/api/v1/api-keys", CreateAPIKeyRequest(name: "key-\(UUID().uuidString.prefix(6))", scope: scope, queueId: queue))
        guard reply.status == 201 else { throw TestFailure("create key: \(reply.status) \(reply.text)") }
        return try reply.decode(CreatedAPIKey.self).key
    }

    /// Registers a worker on `queue` (default: the tenant's default queue) and returns a client
    /// that carries its worker token.
    public func registerWorker(queue: UUID? = nil, slots: Int = 1, runtimes: [String] = ["agno", "claude_code"])
        async throws -> (WorkerRegistrationResponse, APIClient)
    {
        let queue = queue ?? queueId
        let key = try await createKey(scope: .worker, queue: queue)
        let reply = try await admin.with(token: key).post(
            "/api/v1/workers/register",
            WorkerRegistrationRequest(
                queueId: queue, hostname: "test-host", version: "test", slots: slots, runtimes: runtimes))
        guard reply.status == 201 else { throw TestFailure("register: \(reply.status) \(reply.text)") }
        let registration = try reply.decode(WorkerRegistrationResponse.self)
        return (registration, admin.with(token: registration.token))
    }

    public func submit(agent: UUID, input: JSONValue = "What time is it?", routing: Routing? = nil,
                       idempotencyKey: String? = nil) async throws -> Execution
    {
        let reply = try await admin.post(
            "/api/v1/executions",
            CreateExecutionRequest(agentId: agent, input: input, routing: routing, idempotencyKey: idempotencyKey))
        guard reply.status == 201 || reply.status == 200 else {
            throw TestFailure("submit: \(reply.status) \(reply.text)")
        }
        return try reply.decode()
    }
}

extension APIClient {
    /// Long polls as a worker; returns the tasks (empty on 204).
    public func poll(worker: UUID, slots: Int = 1, wait: Double = 0) async throws -> [TaskAssignment] {
        let reply = try await post("/api/v1/workers/\(worker.uuidString.lowercased())/poll", PollRequest(slots: slots, waitS: wait))
        if reply.status == 204 { return [] }
        guard reply.status == 200 else { throw TestFailure("poll: \(reply.status) \(reply.text)") }
        return try reply.decode(PollResponse.self).tasks
    }
}
