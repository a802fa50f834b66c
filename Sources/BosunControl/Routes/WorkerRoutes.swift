import BosunProtocol
import Foundation
import HTTPTypes
import Hummingbird
import PostgresNIO
import Redis

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
        group.post("workers/:id/token") { _, context in
            let principal = try context.requirePrincipal()
            guard case .apiKey(_, .worker, let boundQueue) = principal.kind, let boundQueue else {
                throw APIError.forbidden("a token refresh needs the worker's API key (scope 'worker')")
            }
            return JSONResponse(
                try await refreshToken(principal, worker: try context.parameter("id"), queue: boundQueue))
        }
        group.get("workers") { _, context in
            let principal = try context.requireUser()
            let workers = try await listWorkers(principal.organizationId)
            return JSONResponse(ItemList(items: await withLiveStatus(workers, organization: principal.organizationId)))
        }
        group.post("workers/:id/poll") { request, context in
            let (principal, worker, queue) = try workerIdentity(context)
            let body = try await request.decodeJSON(PollRequest.self, limit: services.maxBody)
            guard (1...1024).contains(body.slots) else { throw APIError.invalidBody("'slots' must be 1 to 1024") }
            if let wait = body.waitS, wait < 0 || !wait.isFinite {
                throw APIError.invalidBody("'wait_s' must be zero or more seconds")
            }
            let (tasks, draining) = try await poll(principal.organizationId, worker: worker, queue: queue, body)
            if draining {
                // Deregistered or found lost (its polls are ended the same way): the worker must
                // register again, so it gets what its revoked token gets from now on.
                if try await wasRemoved(principal.organizationId, worker: worker) {
                    throw APIError.unauthorized("the worker token was revoked (worker removed); register again")
                }
                return Response(
                    status: .noContent, headers: [HTTPField.Name(PollResponse.workerStatusHeader)!: "draining"])
            }
            if tasks.isEmpty { return Response(status: .noContent) }
            if Task.isCancelled {
                // The poll's connection went away while it waited: give its tasks back at once
                // instead of leaving them leased to a worker that never hears of them.
                for task in tasks {
                    try? await services.tasks.releaseUndelivered(
                        organization: principal.organizationId, task: task.id, lease: task.lease.id, worker: worker,
                        reason: "the poll ended before the task was delivered")
                }
                return Response(status: .noContent)
            }
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
            let body = try await request.decodeJSON(AppendEventsRequest.self, limit: services.maxBody, nul: .replace)
            return JSONResponse(
                try await services.tasks.appendEvents(
                    organization: principal.organizationId, task: try context.parameter("id"), worker: worker,
                    request: body))
        }
        group.post("tasks/:id/complete") { request, context in
            let (principal, worker, _) = try taskIdentity(context)
            let body = try await request.decodeJSON(CompleteTaskRequest.self, limit: services.maxBody, nul: .replace)
            return JSONResponse(
                try await services.tasks.complete(
                    organization: principal.organizationId, task: try context.parameter("id"), worker: worker,
                    request: body))
        }
        group.post("tasks/:id/release") { request, context in
            let (principal, worker, _) = try taskIdentity(context)
            let body = try await request.decodeJSON(ReleaseTaskRequest.self, limit: services.maxBody, nul: .replace)
            return JSONResponse(
                try await services.tasks.release(
                    organization: principal.organizationId, task: try context.parameter("id"), worker: worker,
                    request: body))
        }
        group.post("tasks/:id/await-approval") { request, context in
            let (principal, worker, _) = try taskIdentity(context)
            let body = try await request.decodeJSON(AwaitApprovalRequest.self, limit: services.maxBody, nul: .replace)
            let store = ApprovalStore(database: services.database, configuration: services.configuration, logger: logger)
            return JSONResponse(
                try await store.awaitApproval(
                    organization: principal.organizationId, task: try context.parameter("id"), worker: worker,
                    request: body, tasks: services.tasks))
        }
        group.post("tasks/:id/fail") { request, context in
            let (principal, worker, _) = try taskIdentity(context)
            let body = try await request.decodeJSON(FailTaskRequest.self, limit: services.maxBody, nul: .replace)
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
            let keys = HeartbeatKeys(prefix: "\(configuration.heartbeatKeyPrefix):\(queue.wireName)", workerId: workerId)
            let grant = try await grantHeartbeatAccess(worker: workerId, keys: keys, on: connection)
            try await ExecutionJournal(connection: connection, logger: logger).audit(
                actor: principal.actor, action: "worker.register", targetType: "worker", targetId: workerId,
                details: ["hostname": .string(body.hostname), "queue_id": .string(body.queueId.lowercased)])
            logger.info(
                "worker registered",
                metadata: ["bosun.worker.id": "\(workerId.lowercased)", "bosun.org.id": "\(principal.organizationId.lowercased)"])
            return WorkerRegistrationResponse(
                workerId: workerId, token: token, tokenExpiresAt: expiresAt, queue: queue,
                heartbeat: heartbeatSettings(keys: keys, grant: grant),
                poll: PollSettings(maxWaitS: configuration.pollMaxWait.seconds),
                lease: LeaseSettings(
                    durationS: configuration.leaseDuration.seconds,
                    renewIntervalS: configuration.leaseRenewInterval.seconds),
                llm: LLMSettings(
                    baseUrl: configuration.llmBaseURL, defaultModel: configuration.llmDefaultModel,
                    fallbacks: configuration.llmFallbacks),
                features: ControlFeature.allCases.map(\.rawValue))
        }
    }

    func heartbeatSettings(keys: HeartbeatKeys, grant: WorkerRedisAccess.Grant?) -> HeartbeatSettings {
        HeartbeatSettings(
            redisUrl: grant == nil ? nil : configuration.redisURL.map(Self.withoutCredentials),
            username: grant?.username, password: grant?.password, keyPrefix: keys.prefix,
            lightIntervalS: configuration.heartbeatLightInterval, fullIntervalS: configuration.heartbeatFullInterval,
            ttlS: configuration.heartbeatTTL)
    }

    /// Workers never receive the control API's own Redis credential.
    static func withoutCredentials(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.user = nil
        components.password = nil
        return components.string ?? url
    }

    /// The worker's own Redis user. Without Redis (or when it refuses) the worker registers anyway
    /// and its liveness is judged from PostgreSQL; heartbeats never block registration.
    func grantHeartbeatAccess(worker: UUID, keys: HeartbeatKeys, on connection: PostgresConnection) async throws
        -> WorkerRedisAccess.Grant?
    {
        guard let redis = services.redis else { return nil }
        do {
            let grant = try await WorkerRedisAccess(redis: redis, logger: logger).grant(worker: worker, keys: keys)
            try await connection.query("UPDATE workers SET heartbeat_redis = true WHERE id = \(worker)", logger: logger)
            return grant
        } catch let error as RedisError {
            logger.warning(
                "no Redis user for the worker; it will run without heartbeats",
                metadata: ["bosun.worker.id": "\(worker.lowercased)", "error": "\(error)"])
            return nil
        }
    }

    /// A fresh token for a live worker, asked for with the worker's own API key (same queue).
    func refreshToken(_ principal: Principal, worker: UUID, queue: UUID) async throws -> WorkerTokenResponse {
        let token = Credential.newWorkerToken()
        let ttl = configuration.workerTokenTTL.seconds
        let (reply, oldHash) = try await database.withTenant(principal.organizationId) { connection in
            let rows = try await connection.query(
                """
                WITH old AS (SELECT id, token_hash FROM workers WHERE id = \(worker) AND queue_id = \(queue)
                               AND status IN ('active', 'draining') FOR UPDATE)
                UPDATE workers w SET token_hash = \(Credential.hashParameter(token)),
                    token_expires_at = now() + make_interval(secs => \(ttl)), last_seen_at = now()
                FROM old WHERE w.id = old.id
                RETURNING w.token_expires_at, old.token_hash
                """, logger: logger)
            for try await (expires, oldHash) in rows.decode((Date, ByteBuffer).self) {
                let keys = HeartbeatKeys(
                    prefix: "\(configuration.heartbeatKeyPrefix):\(TaskQueue.wireName(organizationId: principal.organizationId, queueId: queue))",
                    workerId: worker)
                let grant = try await grantHeartbeatAccess(worker: worker, keys: keys, on: connection)
                return (
                    WorkerTokenResponse(
                        workerId: worker, token: token, tokenExpiresAt: expires,
                        heartbeat: heartbeatSettings(keys: keys, grant: grant)),
                    Array(buffer: oldHash)
                )
            }
            // Lost, deregistered or unknown: the worker must register again.
            throw APIError.notFound("worker", worker)
        }
        // The old token stops working everywhere, not only in this process's cache.
        try? await database.withTenant(principal.organizationId) { connection in
            try await Notifications.send(Notifications.revoke(hash: oldHash), on: connection, logger: logger)
        }
        await services.authenticator.invalidate(hash: oldHash)
        return reply
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

    /// Adds each worker's light and full heartbeat from Redis, one pipelined round trip for the
    /// page. When Redis cannot be read the state comes from PostgreSQL and says so.
    func withLiveStatus(_ workers: [WorkerInfo], organization: UUID) async -> [WorkerInfo] {
        func fromPostgres(_ worker: WorkerInfo) -> WorkerInfo {
            worker.with(
                live: WorkerLiveStatus(
                    state: worker.status == "draining" ? "draining" : "unknown", activeTasks: nil, freeSlots: nil,
                    lastHeartbeatAt: nil, source: "postgres"),
                fullHeartbeat: nil)
        }
        guard let redis = services.redis, !workers.isEmpty else { return workers.map(fromPostgres) }
        let keys = workers.map { worker in
            HeartbeatKeys(
                prefix: "\(configuration.heartbeatKeyPrefix):\(TaskQueue.wireName(organizationId: organization, queueId: worker.queueId))",
                workerId: worker.id)
        }
        let replies: [RedisReply]
        do {
            replies = try await redis.pipeline(keys.flatMap { [["HGETALL", $0.light], ["GET", $0.full]] })
        } catch {
            logger.warning("Redis unreadable; worker states come from PostgreSQL", metadata: ["error": "\(error)"])
            return workers.map(fromPostgres)
        }
        return workers.enumerated().map { index, worker in
            var hash: [String: String] = [:]
            if case .array(let items) = replies[index * 2] {
                var iterator = items.makeIterator()
                while case .string(let field)? = iterator.next(), case .string(let value)? = iterator.next() {
                    hash[field] = value
                }
            }
            var full: JSONValue?
            if case .string(let text) = replies[index * 2 + 1] {
                full = try? WireCoding.decoder().decode(JSONValue.self, from: Data(text.utf8))
            }
            guard let state = hash["status"] else {
                return worker.with(
                    live: WorkerLiveStatus(
                        state: "unknown", activeTasks: nil, freeSlots: nil, lastHeartbeatAt: nil, source: "redis"),
                    fullHeartbeat: full)
            }
            return worker.with(
                live: WorkerLiveStatus(
                    state: state, activeTasks: hash["active_tasks"].flatMap { Int($0) },
                    freeSlots: hash["free_slots"].flatMap { Int($0) },
                    lastHeartbeatAt: hash["last_seen"].flatMap(WireCoding.parseDate), source: "redis"),
                fullHeartbeat: full)
        }
    }

    // MARK: long poll

    /// Claims at once when work is there; otherwise waits for a push (or the fallback re-check)
    /// until the wait ends, the worker drains, or tasks arrive. `draining` says the poll ended
    /// (empty) because the worker is draining.
    func poll(_ organization: UUID, worker: UUID, queue: UUID?, _ body: PollRequest) async throws
        -> (tasks: [TaskAssignment], draining: Bool)
    {
        guard let queue else { throw APIError.forbidden("only a worker polls") }
        let dispatcher = services.dispatcher
        let wait = min(body.waitS ?? configuration.pollMaxWait.seconds, configuration.pollMaxWait.seconds)
        let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
        var checkedHeld = false
        while true {
            if await dispatcher.isDraining(worker) { return ([], true) }
            let generation = await dispatcher.generation(of: queue)
            // Held tasks are checked once per poll: the tasks a later claim of this same poll
            // leases are this poll's own.
            let tasks = try await services.tasks.claim(
                organization: organization, queue: queue, worker: worker, limit: body.slots,
                held: checkedHeld ? nil : body.heldTaskIds)
            checkedHeld = true
            if !tasks.isEmpty { return (tasks, false) }
            let remaining = deadline - .now
            if remaining <= .zero { return ([], false) }
            let reason = await dispatcher.wait(
                queue: queue, worker: worker, since: generation,
                timeout: min(remaining, configuration.pollFallbackInterval))
            switch reason {
            case .handedOff(let task): return ([task], false)
            case .drain: return ([], true)
            case .work, .timeout: if Task.isCancelled { return ([], false) }
            }
        }
    }

    // MARK: drain and deregister

    /// Whether the worker is gone (deregistered or lost) rather than draining.
    func wasRemoved(_ organization: UUID, worker: UUID) async throws -> Bool {
        try await database.withTenant(organization) { connection in
            let rows = try await connection.query(
                "SELECT status FROM workers WHERE id = \(worker)", logger: logger)
            for try await status in rows.decode(String.self) { return status != "active" && status != "draining" }
            return true
        }
    }

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
        let removed = try await database.withTenant(principal.organizationId) { connection -> WorkerRemoval.Removed in
            guard
                let removed = try await WorkerRemoval(connection: connection, logger: logger).remove(
                    worker: worker, status: "deregistered", reason: "the worker deregistered")
            else { throw APIError.notFound("worker", worker) }
            try await ExecutionJournal(connection: connection, logger: logger).audit(
                actor: principal.actor, action: "worker.deregister", targetType: "worker", targetId: worker)
            return removed
        }
        await services.dispatcher.drain(worker: worker)
        await services.authenticator.invalidate(hash: removed.tokenHash)
        if let redis = services.redis {
            let prefix = "\(configuration.heartbeatKeyPrefix):\(TaskQueue.wireName(organizationId: principal.organizationId, queueId: removed.queue))"
            await WorkerRedisAccess(redis: redis, logger: logger).revoke(
                worker: worker, keys: HeartbeatKeys(prefix: prefix, workerId: worker))
        }
    }
}
