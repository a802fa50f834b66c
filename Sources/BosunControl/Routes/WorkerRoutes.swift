import BosunProtocol
import Foundation
import Hummingbird
import PostgresNIO

/// The worker-facing contract: register, long poll, drain, deregister; and the task lease
/// operations (renew, events, complete, fail).
struct WorkerRoutes {
    let services: ControlServices
    var database: Database { services.database }
    var logger: Logger { services.logger }
    var configuration: ControlConfiguration { services.configuration }

    func register(on group: RouterGroup<BosunRequestContext>) {
        group.post("workers/register") { request, context in
            let principal = try context.requirePrincipal()
            guard case .apiKey(let keyId, .worker, let boundQueue) = principal.kind, let boundQueue else {
                throw APIError.forbidden("registration needs a worker API key (scope 'worker')")
            }
            let body = try await request.decodeJSON(WorkerRegistrationRequest.self, limit: services.maxBody)
            guard body.queueId == boundQueue else {
                throw APIError.forbidden("this worker key is bound to queue \(boundQueue.lowercased), not \(body.queueId.lowercased)")
            }
            guard (1...1024).contains(body.slots) else { throw APIError.invalidBody("'slots' must be 1 to 1024") }
            guard !body.hostname.isEmpty, body.hostname.count <= 255 else {
                throw APIError.invalidBody("'hostname' must be 1 to 255 characters")
            }
            return JSONResponse(try await registerWorker(principal, apiKey: keyId, body), status: .created)
        }
        group.get("workers") { _, context in
            let principal = try context.requireUser()
            return JSONResponse(ItemList(items: try await listWorkers(principal.organizationId)))
        }
        group.post("workers/:id/poll") { request, context in
            let (principal, worker, queue) = try workerIdentity(context)
            let body = try await request.decodeJSON(PollRequest.self, limit: services.maxBody)
            guard (1...1024).contains(body.slots) else { throw APIError.invalidBody("'slots' must be 1 to 1024") }
            if let wait = body.waitS, wait < 0 || !wait.isFinite {
                throw APIError.invalidBody("'wait_s' must be zero or more seconds")
            }
            let tasks = try await poll(principal.organizationId, worker: worker, queue: queue, body)
            if tasks.isEmpty { return Response(status: .noContent) }
            return try JSONResponse(PollResponse(tasks: tasks)).response(from: request, context: context)
        }
        group.post("workers/:id/drain") { _, context in
            let (principal, worker, _) = try workerIdentity(context, allowUser: true)
            try await drain(principal, worker: worker)
            return Response(status: .accepted)
        }
        group.delete("workers/:id") { _, context in
            let (principal, worker, _) = try workerIdentity(context, allowUser: true)
            try await deregister(principal, worker: worker)
            return Response(status: .noContent)
        }

        group.post("tasks/:id/renew") { request, context in
            let (principal, worker, _) = try taskIdentity(context)
            let body = try await request.decodeJSON(RenewLeaseRequest.self, limit: services.maxBody)
            return JSONResponse(
                try await services.tasks.renew(
                    organization: principal.organizationId, task: try context.parameter("id"), lease: body.leaseId,
                    worker: worker))
        }
        group.post("tasks/:id/events") { request, context in
            let (principal, worker, _) = try taskIdentity(context)
            let body = try await request.decodeJSON(AppendEventsRequest.self, limit: services.maxBody)
            return JSONResponse(
                try await services.tasks.appendEvents(
                    organization: principal.organizationId, task: try context.parameter("id"), worker: worker,
                    request: body))
        }
        group.post("tasks/:id/complete") { request, context in
            let (principal, worker, _) = try taskIdentity(context)
            let body = try await request.decodeJSON(CompleteTaskRequest.self, limit: services.maxBody)
            return JSONResponse(
                try await services.tasks.complete(
                    organization: principal.organizationId, task: try context.parameter("id"), worker: worker,
                    request: body))
        }
        group.post("tasks/:id/fail") { request, context in
            let (principal, worker, _) = try taskIdentity(context)
            let body = try await request.decodeJSON(FailTaskRequest.self, limit: services.maxBody)
            return JSONResponse(
                try await services.tasks.fail(
                    organization: principal.organizationId, task: try context.parameter("id"), worker: worker,
                    request: body))
        }
    }

    /// The worker named in the path, which must be the caller (or, for drain/delete, any worker
    /// of the caller's organization when the caller is an admin).
    func workerIdentity(_ context: BosunRequestContext, allowUser: Bool = false) throws -> (Principal, UUID, UUID?) {
        let principal = try context.requirePrincipal()
        let worker = try context.parameter("id")
        if case .worker(let id, let queue) = principal.kind {
            guard id == worker else { throw APIError.forbidden("a worker token only acts for its own worker") }
            return (principal, worker, queue)
        }
        guard allowUser, principal.scope == .admin else {
            throw APIError.forbidden("this route needs the worker's own token")
        }
        return (principal, worker, nil)
    }

    func taskIdentity(_ context: BosunRequestContext) throws -> (Principal, UUID, UUID) {
        let principal = try context.requirePrincipal()
        guard case .worker(let id, let queue) = principal.kind else {
            throw APIError.forbidden("task routes need a worker token (from POST /api/v1/workers/register)")
        }
        return (principal, id, queue)
    }

    // MARK: registration

    func registerWorker(_ principal: Principal, apiKey: UUID, _ body: WorkerRegistrationRequest) async throws
        -> WorkerRegistrationResponse
    {
        let token = Credential.newWorkerToken()
        let ttl = configuration.workerTokenTTL.seconds
        return try await database.withTenant(principal.organizationId) { connection in
            let queueRows = try await connection.query(
                "SELECT id, name, environment_id FROM task_queues WHERE id = \(body.queueId)", logger: logger)
            var queue: QueueInfo?
            for try await (id, name, environment) in queueRows.decode((UUID, String, UUID?).self) {
                queue = QueueInfo(
                    id: id, name: name, wireName: TaskQueue.wireName(organizationId: principal.organizationId, queueId: id),
                    environmentId: environment, organizationId: principal.organizationId)
            }
            guard let queue else { throw APIError.notFound("queue", body.queueId) }
            let rows = try await connection.query(
                """
                INSERT INTO workers (organization_id, queue_id, api_key_id, hostname, version, slots, runtimes, labels,
                                     system, token_hash, token_expires_at)
                VALUES (bosun_current_org(), \(body.queueId), \(apiKey), \(body.hostname), \(body.version), \(body.slots),
                        \(body.runtimes), \(body.labels.jsonText)::jsonb, \(body.system.jsonText)::jsonb,
                        \(Credential.hashParameter(token)), now() + make_interval(secs => \(ttl)))
                RETURNING id, token_expires_at
                """, logger: logger)
            var registered: (UUID, Date)?
            for try await row in rows.decode((UUID, Date).self) { registered = row }
            guard let (workerId, expiresAt) = registered else {
                throw APIError(.internalServerError, "internal", "the worker was not registered")
            }
            try await ExecutionJournal(connection: connection, logger: logger).audit(
                actor: principal.actor, action: "worker.register", targetType: "worker", targetId: workerId,
                details: ["hostname": .string(body.hostname), "queue_id": .string(body.queueId.lowercased)])
            logger.info(
                "worker registered",
                metadata: ["bosun.worker.id": "\(workerId.lowercased)", "bosun.org.id": "\(principal.organizationId.lowercased)"])
            return WorkerRegistrationResponse(
                workerId: workerId, token: token, tokenExpiresAt: expiresAt, queue: queue,
                heartbeat: HeartbeatSettings(
                    redisUrl: configuration.redisURL.map(Self.withoutCredentials), username: nil, password: nil,
                    keyPrefix: "\(configuration.heartbeatKeyPrefix):\(queue.wireName)",
                    lightIntervalS: configuration.heartbeatLightInterval,
                    fullIntervalS: configuration.heartbeatFullInterval,
                    ttlS: configuration.heartbeatLightInterval * 3),
                poll: PollSettings(maxWaitS: configuration.pollMaxWait.seconds),
                lease: LeaseSettings(
                    durationS: configuration.leaseDuration.seconds,
                    renewIntervalS: configuration.leaseRenewInterval.seconds),
                llm: LLMSettings(
                    baseUrl: configuration.llmBaseURL, defaultModel: configuration.llmDefaultModel,
                    fallbacks: configuration.llmFallbacks))
        }
    }

    /// Workers never receive the control API's own Redis credential.
    static func withoutCredentials(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.user = nil
        components.password = nil
        return components.string ?? url
    }

    func listWorkers(_ organization: UUID) async throws -> [WorkerInfo] {
        try await database.withTenant(organization) { connection in
            let rows = try await connection.query(
                """
                SELECT id, organization_id, queue_id, hostname, version, slots, runtimes, labels::text AS labels, status,
                       registered_at, last_seen_at
                FROM workers WHERE status <> 'deregistered' ORDER BY registered_at, id
                """, logger: logger)
            var items: [WorkerInfo] = []
            for try await row in rows {
                let row = row.makeRandomAccess()
                let labels = (try row.json("labels").value.objectValue ?? [:]).compactMapValues(\.stringValue)
                items.append(
                    WorkerInfo(
                        id: try row.value("id"), organizationId: try row.value("organization_id"),
                        queueId: try row.value("queue_id"), hostname: try row.value("hostname"),
                        version: try row.value("version"), slots: Int(try row.value("slots", as: Int32.self)),
                        runtimes: try row.value("runtimes"), labels: labels, status: try row.value("status"),
                        registeredAt: try row.value("registered_at"), lastSeenAt: try row.value("last_seen_at")))
            }
            return items
        }
    }

    // MARK: long poll

    /// Claims at once when work is there; otherwise waits for a push (or the fallback re-check)
    /// until the wait ends, the worker drains, or tasks arrive.
    func poll(_ organization: UUID, worker: UUID, queue: UUID?, _ body: PollRequest) async throws -> [TaskAssignment] {
        guard let queue else { throw APIError.forbidden("only a worker polls") }
        let dispatcher = services.dispatcher
        let wait = min(body.waitS ?? configuration.pollMaxWait.seconds, configuration.pollMaxWait.seconds)
        let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
        while true {
            if await dispatcher.isDraining(worker) { return [] }
            let generation = await dispatcher.generation(of: queue)
            let tasks = try await services.tasks.claim(
                organization: organization, queue: queue, worker: worker, limit: body.slots)
            if !tasks.isEmpty { return tasks }
            let remaining = deadline - .now
            if remaining <= .zero { return [] }
            let reason = await dispatcher.wait(
                queue: queue, worker: worker, since: generation,
                timeout: min(remaining, configuration.pollFallbackInterval))
            if reason == .drain || Task.isCancelled { return [] }
        }
    }

    // MARK: drain and deregister

    func drain(_ principal: Principal, worker: UUID) async throws {
        try await database.withTenant(principal.organizationId) { connection in
            let rows = try await connection.query(
                """
                UPDATE workers SET status = 'draining' WHERE id = \(worker) AND status IN ('active', 'draining')
                RETURNING id
                """, logger: logger)
            var found = false
            for try await _ in rows { found = true }
            guard found else { throw APIError.notFound("worker", worker) }
            try await Notifications.send(Notifications.drain(worker: worker), on: connection, logger: logger)
        }
        // This process ends its own pending polls now; others hear it through NOTIFY.
        await services.dispatcher.drain(worker: worker)
    }

    func deregister(_ principal: Principal, worker: UUID) async throws {
        let hash = try await database.withTenant(principal.organizationId) { connection -> [UInt8] in
            let rows = try await connection.query(
                """
                UPDATE workers SET status = 'deregistered', token_expires_at = now() WHERE id = \(worker)
                  AND status <> 'deregistered'
                RETURNING token_hash
                """, logger: logger)
            var hash: [UInt8]?
            for try await value in rows.decode(ByteBuffer.self) { hash = Array(buffer: value) }
            guard let hash else { throw APIError.notFound("worker", worker) }
            // Its leased tasks go back to the queue at once instead of waiting for lease expiry.
            let requeued = try await connection.query(
                """
                UPDATE tasks SET status = 'queued', lease_id = NULL, lease_expires_at = NULL, worker_id = NULL,
                    available_at = now(), last_error = 'worker deregistered on attempt ' || attempts
                WHERE worker_id = \(worker) AND status = 'leased'
                RETURNING execution_id, queue_id, turn_number
                """, logger: logger)
            let journal = ExecutionJournal(connection: connection, logger: logger)
            var queues = Set<UUID>()
            for try await (execution, queue, turn) in requeued.decode((UUID, UUID, Int32).self) {
                queues.insert(queue)
                try await journal.transition(
                    execution: execution, from: ExecutionStatus.running.rawValue, to: .queued, turn: Int(turn),
                    reason: "the worker deregistered; re-queued", decider: "system")
            }
            for queue in queues {
                try await Notifications.send(Notifications.task(queue: queue), on: connection, logger: logger)
            }
            try await Notifications.send(Notifications.drain(worker: worker), on: connection, logger: logger)
            try await Notifications.send(Notifications.revoke(hash: hash), on: connection, logger: logger)
            try await journal.audit(actor: principal.actor, action: "worker.deregister", targetType: "worker", targetId: worker)
            return hash
        }
        await services.dispatcher.drain(worker: worker)
        await services.authenticator.invalidate(hash: hash)
    }
}
