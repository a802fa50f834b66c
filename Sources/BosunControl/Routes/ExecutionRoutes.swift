import BosunProtocol
import Foundation
import HTTPTypes
import LLM
import Hummingbird
import NIOCore
import Policy
import PostgresNIO

/// Executions: submit (policy, routing, first task in one transaction), read, list, cancel,
/// reply, events (JSON page or SSE) and recorded state transitions.
struct ExecutionRoutes {
    let services: ControlServices
    var database: Database { services.database }
    var logger: Logger { services.logger }

    func register(on group: RouterGroup<BosunRequestContext>) {
        group.post("executions") { request, context in
            let principal = try context.requireUser()
            let body = try await request.decodeJSON(
                CreateExecutionRequest.self, limit: services.maxBody, allowedKeys: CreateExecutionRequest.fieldNames)
            let (execution, created) = try await create(principal, body)
            return JSONResponse(execution, status: created ? .created : .ok)
        }
        group.get("executions") { request, context in
            let principal = try context.requireUser()
            return JSONResponse(try await list(principal, query: request.uri.queryParameters))
        }
        group.get("executions/:id") { _, context in
            let principal = try context.requireUser()
            return JSONResponse(try await get(principal.organizationId, try context.parameter("id")))
        }
        group.post("executions/:id/cancel") { _, context in
            let principal = try context.requireUser()
            return JSONResponse(try await cancel(principal, try context.parameter("id")))
        }
        group.post("executions/:id/messages") { request, context in
            let principal = try context.requireUser()
            let id = try context.parameter("id")
            let body = try await request.decodeJSON(
                ExecutionMessageRequest.self, limit: services.maxBody, allowedKeys: ["content"])
            return JSONResponse(try await reply(principal, id, body))
        }
        group.get("executions/:id/approvals") { _, context in
            let principal = try context.requireUser()
            let store = ApprovalStore(database: database, configuration: services.configuration, logger: logger)
            return JSONResponse(ItemList(items: try await store.list(principal.organizationId, execution: try context.parameter("id"))))
        }
        for (verb, approve) in [("approve", true), ("deny", false)] {
            group.post("executions/:id/approvals/:approval/\(verb)") { request, context in
                let principal = try context.requireUser()
                let body = try await request.decodeJSON(
                    ApprovalDecisionRequest.self, limit: services.maxBody, allowedKeys: ApprovalDecisionRequest.fieldNames,
                    allowEmpty: true)
                let store = ApprovalStore(database: database, configuration: services.configuration, logger: logger)
                return JSONResponse(
                    try await store.decide(
                        principal, execution: try context.parameter("id"), approval: try context.parameter("approval"),
                        approve: approve, reason: body.reason))
            }
        }
        group.get("executions/:id/transitions") { _, context in
            let principal = try context.requireUser()
            return JSONResponse(try await transitions(principal.organizationId, try context.parameter("id")))
        }
        group.post("executions/:id/transitions/override") { request, context in
            let principal = try context.requireUser()
            let id = try context.parameter("id")
            let body = try await request.decodeJSON(
                TransitionOverrideRequest.self, limit: services.maxBody, allowedKeys: TransitionOverrideRequest.fieldNames)
            return JSONResponse(try await overrideDecision(principal, id, body))
        }
        group.get("executions/:id/events") { request, context in
            let principal = try context.requireUser()
            let id = try context.parameter("id")
            let after = try eventCursor(request)
            if request.headers[.accept]?.contains("text/event-stream") == true {
                _ = try await get(principal.organizationId, id)
                return stream(principal.organizationId, id, after: after)
            }
            let limit = min(max(Int(request.uri.queryParameters.get("limit") ?? "") ?? 500, 1), 1000)
            let page = try await events(principal.organizationId, id, after: after, limit: limit)
            return try JSONResponse(page).response(from: request, context: context)
        }
    }

    // MARK: create

    func create(_ principal: Principal, _ body: CreateExecutionRequest) async throws -> (Execution, Bool) {
        if body.teamId != nil {
            throw APIError(
                .unprocessableContent, "unsupported", "team executions are not supported yet; submit an 'agent_id'")
        }
        guard let agentId = body.agentId else { throw APIError.invalidBody("missing field 'agent_id'") }
        if body.input.isNull { throw APIError.invalidBody("'input' must not be null") }
        if let key = body.idempotencyKey, key.isEmpty || key.count > 200 {
            throw APIError.invalidBody("'idempotency_key' must be 1 to 200 characters")
        }
        let routing = body.routing ?? .auto
        if routing.strategy == .specificQueue, routing.queueId == nil {
            throw APIError.invalidBody("SPECIFIC_QUEUE routing needs 'routing.queue_id'")
        }
        if routing.strategy == .environment, routing.environmentId == nil {
            throw APIError.invalidBody("ENVIRONMENT routing needs 'routing.environment_id'")
        }
        let organization = principal.organizationId
        let dispatcher = services.dispatcher
        let cacheKey = SubmitDecisions.Key(
            organization: organization, agent: agentId, actor: principal.actor, routing: routing)
        // A decision made earlier on the same context lets the submit happen in one round trip;
        // the database checks the context's fingerprint in the statement that writes.
        var decided = services.submitDecisions.decision(for: cacheKey)
        // The organization's usage today, when the decision needed it (a daily quota or OPA):
        // a task handed straight to a poller starts its quota checks from it.
        var today: PolicyEvaluator.Usage?
        for _ in 0..<3 {
            let reservation = if let decided { await dispatcher.reserve(queue: decided.queue) } else { nil as Dispatcher.Reservation? }
            let row: PostgresRandomAccessRow
            do {
                guard
                    let first = try await database.single(
                        SubmitStatement(
                            bindings: try binds(
                                organization, agentId, routing.strategy.rawValue, routing.queueId,
                                routing.environmentId, body.idempotencyKey, decided?.fingerprint, decided?.audited,
                                body.input.jsonText, services.configuration.maxAttempts,
                                "submitted (\(routing.strategy.rawValue) routing)", principal.actor,
                                (body.messageStrategy ?? .enqueue).rawValue, dispatcher.origin, reservation?.worker,
                                services.tasks.leaseSeconds))
                    ).first
                else { throw APIError(.internalServerError, "internal", "the submit returned nothing") }
                row = first.makeRandomAccess()
            } catch {
                if let reservation { await dispatcher.release(reservation) }
                throw error
            }
            let outcome: String = try row.value("outcome")
            if outcome == "created" {
                do {
                    let execution = try Self.execution(from: row)
                    try await dispatch(execution, row: row, reservation: reservation, input: body.input, today: today)
                    return (execution, true)
                } catch {
                    // Never leave the reserved poll waiting: it looks for work itself again (and
                    // gives back a task leased to it that it never received on its next poll).
                    if let reservation { await dispatcher.release(reservation) }
                    throw error
                }
            }
            if let reservation { await dispatcher.release(reservation) }
            switch outcome {
            case "decide":
                (decided, today) = try await decide(row, principal: principal, agentId: agentId, key: cacheKey)
            case "existing":
                return (try await get(organization, try row.value("existing_id")), false)
            case "conflict":
                // A concurrent request with the same idempotency key won the race.
                if let key = body.idempotencyKey,
                    let existing = try await database.withTenant(organization, { try await find(idempotencyKey: key, on: $0) })
                {
                    return (existing, false)
                }
                throw APIError(.internalServerError, "internal", "the execution was not created")
            case "agent-not-found":
                throw APIError.notFound("agent", agentId)
            case "queue-not-found":
                throw APIError.notFound("queue", routing.queueId ?? agentId)
            case "environment-not-found":
                throw APIError.notFound("environment", routing.environmentId ?? agentId)
            default:
                throw APIError(
                    .unprocessableContent, "no-queue",
                    routing.strategy == .environment
                        ? "environment \((routing.environmentId ?? agentId).lowercased) has no task queue"
                        : "the organization has no task queue; create one first")
            }
        }
        var error = APIError.unavailable("the agent's policies or routing changed during the submit; retry")
        error.headers[.retryAfter] = "1"
        throw error
    }

    /// The policy decision for a new execution, on the context `bosun_submit` returned. A denial
    /// is audited and thrown; an allowance is returned (and remembered when it depends on nothing
    /// but that context: no quota usage, no external OPA), with the organization's usage today
    /// when it was read.
    private func decide(_ row: PostgresRandomAccessRow, principal: Principal, agentId: UUID, key: SubmitDecisions.Key)
        async throws -> (SubmitDecisions.Decision, PolicyEvaluator.Usage?)
    {
        let organization = principal.organizationId
        let spec = try TaskStore.agentSpec(from: row)
        let queue: UUID = try row.value("queue_id")
        let policies = try PolicyGate.decodeSet(try row.json("policies").value)
        let gate = PolicyGate(configuration: services.configuration, logger: logger)
        var today: PolicyEvaluator.Usage?
        let needsUsage = services.configuration.opaURL != nil
            || ((try? PolicyEvaluator(policies))?.hasOrganizationQuota ?? false)
        if needsUsage {
            today = try await database.withTenant(organization) { connection in
                try await PolicyGate.organizationUsageToday(on: connection, logger: logger)
            }
        }
        let input = PolicyInput.execution(
            organization: organization, principal: principal.actor, agent: spec, queue: queue,
            environment: try row.value("environment_id"), teams: try row.value("team_ids"), organizationToday: today)
        let decision = await gate.decideExecution(policies: policies, agent: spec, input: input, organizationToday: today)
        guard decision.isAllowed else {
            services.submitDecisions.forget(key)
            // Audited on its own: nothing was created.
            var details = decision.json.objectValue ?? [:]
            details["input"] = input
            try await database.withTenant(organization) { connection in
                try await ExecutionJournal(connection: connection, logger: logger).audit(
                    actor: principal.actor, action: "policy.deny", targetType: "agent", targetId: agentId,
                    details: .object(details))
            }
            var error = APIError(.forbidden, "policy-denied", "denied by policy: \(decision.reason)")
            error.policy = decision.json
            throw error
        }
        var audited = decision.json.objectValue ?? [:]
        audited["input"] = input
        let allowed = SubmitDecisions.Decision(
            fingerprint: try row.value("fingerprint"), audited: JSONValue.object(audited).jsonText, queue: queue)
        if needsUsage {
            services.submitDecisions.forget(key)
        } else {
            services.submitDecisions.remember(allowed, for: key)
        }
        return (allowed, today)
    }

    /// After a submit committed: hands the leased task to the reserved poller, or wakes one.
    private func dispatch(
        _ execution: Execution, row: PostgresRandomAccessRow, reservation: Dispatcher.Reservation?, input: JSONValue,
        today: PolicyEvaluator.Usage?
    ) async throws {
        let dispatcher = services.dispatcher
        guard let reservation else {
            // This process's own pollers are woken now; its NOTIFY, marked with `origin`, is for the others.
            await dispatcher.wake(queue: execution.queueId, count: 1)
            return
        }
        guard let leaseId: UUID = try row.value("lease_id"), let expiresAt: Date = try row.value("lease_expires_at") else {
            // The worker stopped being active meanwhile (or polls another queue): the task was queued.
            await dispatcher.release(reservation)
            await dispatcher.wake(queue: execution.queueId, count: 1)
            return
        }
        let configuration = services.configuration
        let policies = try PolicyGate.decodeSet(try row.json("policies").value)
        // A first turn has used nothing yet. A daily organization quota always made the decision
        // read `today` (such decisions are never remembered); without it the worker fails closed.
        let quotas = try? PolicyEvaluator(policies)
        let usageSoFar = quotas?.hasQuota == true
            ? UsageSoFar(execution: .zero, organizationToday: quotas?.hasOrganizationQuota == true ? today : nil) : nil
        await dispatcher.handOff(
            reservation,
            task: TaskAssignment(
                id: try row.value("task_id"), executionId: execution.id, organizationId: execution.organizationId,
                queueId: execution.queueId, turn: 1, attempt: 1, maxAttempts: configuration.maxAttempts,
                lease: Lease(
                    id: leaseId, expiresAt: expiresAt, durationS: configuration.leaseDuration.seconds,
                    renewIntervalS: configuration.leaseRenewInterval.seconds),
                agent: try TaskStore.agentSpec(from: row), input: input, history: [], policies: policies,
                usageSoFar: usageSoFar))
    }

    // MARK: read

    static let executionColumns = """
        id, organization_id, agent_id, team_id, status, input::text AS input, routing_strategy, routing_queue_id,
        routing_environment_id, queue_id, turn_count, output, error, cancel_requested, idempotency_key, created_at,
        updated_at, completed_at, message_strategy, jsonb_array_length(pending_messages) AS pending_count
        """

    static func execution(from row: PostgresRow) throws -> Execution {
        try execution(from: row.makeRandomAccess())
    }

    static func execution(from row: PostgresRandomAccessRow) throws -> Execution {
        Execution(
            id: try row.value("id"), organizationId: try row.value("organization_id"),
            agentId: try row.value("agent_id"), teamId: try row.value("team_id"),
            status: ExecutionStatus(rawValue: try row.value("status")) ?? .failed, input: try row.json("input").value,
            routing: Routing(
                strategy: RoutingStrategy(rawValue: try row.value("routing_strategy")) ?? .auto,
                queueId: try row.value("routing_queue_id"), environmentId: try row.value("routing_environment_id")),
            queueId: try row.value("queue_id"), turnCount: Int(try row.value("turn_count", as: Int32.self)),
            output: try row.value("output"), error: try row.value("error"),
            cancelRequested: try row.value("cancel_requested"), idempotencyKey: try row.value("idempotency_key"),
            createdAt: try row.value("created_at"), updatedAt: try row.value("updated_at"),
            completedAt: try row.value("completed_at"),
            messageStrategy: MessageStrategy(rawValue: try row.value("message_strategy")) ?? .enqueue,
            pendingMessages: Int(try row.value("pending_count", as: Int32.self)))
    }

    func find(id: UUID, on connection: PostgresConnection) async throws -> Execution? {
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.executionColumns) FROM executions WHERE id = $1", binds: try binds(id)),
            logger: logger)
        for try await row in rows { return try Self.execution(from: row) }
        return nil
    }

    func find(idempotencyKey: String, on connection: PostgresConnection) async throws -> Execution? {
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.executionColumns) FROM executions WHERE idempotency_key = $1",
                binds: try binds(idempotencyKey)), logger: logger)
        for try await row in rows { return try Self.execution(from: row) }
        return nil
    }

    func get(_ organization: UUID, _ id: UUID) async throws -> Execution {
        let found = try await database.withTenant(organization) { connection in try await find(id: id, on: connection) }
        guard let found else { throw APIError.notFound("execution", id) }
        return found
    }

    func list(_ principal: Principal, query: Parameters) async throws -> ExecutionList {
        let status = query.get("status")
        if let status, ExecutionStatus(rawValue: status) == nil {
            throw APIError.badRequest(
                "unknown status '\(status)'; one of: \(ExecutionStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let agent = try query.get("agent_id").map { text -> UUID in
            guard let id = UUID(uuidString: text) else { throw APIError.badRequest("'\(text)' is not a valid UUID") }
            return id
        }
        let limitText = query.get("limit")
        guard let limit = limitText.map({ Int($0) }) ?? 50, (1...500).contains(limit) else {
            throw APIError.badRequest("'limit' must be a whole number from 1 to 500")
        }
        // The cursor is the last item's (created_at, id), opaque to clients.
        var cursorDate: Date?
        var cursorId: UUID?
        if let cursor = query.get("cursor") {
            // created_at travels in whole microseconds (PostgreSQL's precision): a millisecond
            // cursor would skip rows created later in the same millisecond.
            guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8),
                let bar = text.firstIndex(of: "|"), let micros = Int64(text[..<bar]),
                let id = UUID(uuidString: String(text[text.index(after: bar)...]))
            else { throw APIError.badRequest("'cursor' is not a cursor this server handed out") }
            let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
            cursorDate = date
            cursorId = id
        }
        return try await database.withTenant(principal.organizationId) { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(Self.executionColumns) FROM executions
                        WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR agent_id = $2)
                          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
                        ORDER BY created_at DESC, id DESC LIMIT $5
                        """, binds: try binds(status, agent, cursorDate, cursorId, limit + 1)), logger: logger)
            var items: [Execution] = []
            for try await row in rows { items.append(try Self.execution(from: row)) }
            var next: String?
            if items.count > limit {
                items.removeLast()
                let last = items[items.count - 1]
                let micros = Int64((last.createdAt.timeIntervalSince1970 * 1_000_000).rounded())
                next = Data("\(micros)|\(last.id.lowercased)".utf8).base64EncodedString()
            }
            return ExecutionList(items: items, nextCursor: next)
        }
    }

    func transitions(_ organization: UUID, _ id: UUID) async throws -> StateTransitionList {
        try await database.withTenant(organization) { connection in
            guard try await find(id: id, on: connection) != nil else { throw APIError.notFound("execution", id) }
            let rows = try await connection.query(
                """
                SELECT id, execution_id, turn_number, from_status, to_status, reason, decider, confidence, latency_ms,
                       created_at
                FROM state_transitions WHERE execution_id = \(id) ORDER BY created_at, id
                """, logger: logger)
            var items: [StateTransition] = []
            for try await row in rows {
                let row = row.makeRandomAccess()
                items.append(
                    StateTransition(
                        id: try row.value("id"), executionId: try row.value("execution_id"),
                        turn: try row.value("turn_number", as: Int32?.self).map(Int.init),
                        from: try row.value("from_status"), to: try row.value("to_status"),
                        reason: try row.value("reason"), decider: try row.value("decider"),
                        confidence: try row.value("confidence"), latencyMs: try row.value("latency_ms"),
                        createdAt: try row.value("created_at")))
            }
            return StateTransitionList(items: items)
        }
    }

    // MARK: cancel and reply

    func cancel(_ principal: Principal, _ id: UUID) async throws -> Execution {
        try await database.withTenant(principal.organizationId) { connection in
            let rows = try await connection.query(
                "SELECT status FROM executions WHERE id = \(id) FOR UPDATE", logger: logger)
            var status: String?
            for try await value in rows.decode(String.self) { status = value }
            guard let status, let current = ExecutionStatus(rawValue: status) else {
                throw APIError.notFound("execution", id)
            }
            guard !current.isTerminal else {
                throw APIError.conflict("already-finished", "the execution is already \(status)")
            }
            try await connection.query(
                "UPDATE executions SET cancel_requested = true, updated_at = now() WHERE id = \(id)", logger: logger)
            // Queued and parked tasks stop now; a leased one learns of it at its next lease renewal.
            try await connection.query(
                """
                UPDATE tasks SET status = 'cancelled', finished_at = now()
                WHERE execution_id = \(id) AND status IN ('queued', 'waiting')
                """, logger: logger)
            try await connection.query(
                """
                UPDATE approvals SET status = 'denied', decided_at = now(), decided_by = \(principal.actor),
                    decision_reason = 'the execution was cancelled'
                WHERE execution_id = \(id) AND status = 'pending'
                """, logger: logger)
            let leased = try await connection.query(
                "SELECT 1 FROM tasks WHERE execution_id = \(id) AND status = 'leased'", logger: logger)
            var running = false
            for try await _ in leased { running = true }
            let journal = ExecutionJournal(connection: connection, logger: logger)
            if running {
                try await journal.appendEvents(
                    execution: id, events: [("cancel_requested", ["by": .string(principal.actor)], nil)])
            } else {
                try await journal.transition(
                    execution: id, from: status, to: .cancelled, turn: nil, reason: "cancelled by \(principal.actor)",
                    decider: "user")
            }
            try await journal.audit(actor: principal.actor, action: "execution.cancel", targetType: "execution", targetId: id)
            guard let execution = try await find(id: id, on: connection) else { throw APIError.notFound("execution", id) }
            return execution
        }
    }

    /// A user's message. A `waiting_for_input` execution goes on with it at once; a busy one
    /// (queued, running, waiting for approval) follows its message strategy.
    func reply(_ principal: Principal, _ id: UUID, _ body: ExecutionMessageRequest) async throws -> Execution {
        if body.content.isNull { throw APIError.invalidBody("'content' must not be null") }
        return try await database.withTenant(principal.organizationId) { connection in
            let rows = try await connection.query(
                "SELECT status, turn_count, queue_id, message_strategy FROM executions WHERE id = \(id) FOR UPDATE",
                logger: logger)
            var found: (String, Int32, UUID, String)?
            for try await row in rows.decode((String, Int32, UUID, String).self) { found = row }
            guard let (status, turns, queue, strategyName) = found else { throw APIError.notFound("execution", id) }
            let strategy = MessageStrategy(rawValue: strategyName) ?? .enqueue
            let journal = ExecutionJournal(connection: connection, logger: logger)
            let busy: Set<String> = ["queued", "running", "waiting_for_approval"]
            if status == ExecutionStatus.waitingForInput.rawValue {
                _ = try await journal.enqueueTask(
                    execution: id, queue: queue, turn: Int(turns) + 1, input: body.content,
                    maxAttempts: services.configuration.maxAttempts)
                try await journal.appendEvents(execution: id, events: [("user_message", ["content": body.content], nil)])
                try await journal.transition(
                    execution: id, from: status, to: .queued, turn: Int(turns) + 1, reason: "the user replied",
                    decider: "user")
            } else if busy.contains(status) {
                switch strategy {
                case .reject:
                    throw APIError.conflict(
                        "busy", "the execution is \(status) and its message strategy is 'reject'; send the message when it waits for input")
                case .interrupt where status == "running":
                    try await interrupt(execution: id, with: body.content, by: principal, journal: journal, on: connection)
                case .enqueue, .interrupt:
                    // Nothing running to interrupt (queued, or parked for approval): it waits its turn.
                    try await connection.query(
                        """
                        UPDATE executions SET pending_messages = pending_messages || jsonb_build_array(\(body.content.jsonText)::jsonb),
                            updated_at = now()
                        WHERE id = \(id)
                        """, logger: logger)
                    try await journal.appendEvents(
                        execution: id, events: [("user_message", ["content": body.content, "queued": true], nil)])
                }
            } else {
                throw APIError.conflict(
                    "not-waiting", "the execution is \(status); it takes no more messages")
            }
            guard let execution = try await find(id: id, on: connection) else { throw APIError.notFound("execution", id) }
            return execution
        }
    }

    /// Stops the running attempt and queues the same turn again with what it recorded, any
    /// unfinished tool calls closed as interrupted, and the message after them. The old lease
    /// stops working at once, so its worker drops the turn at its next renewal.
    func interrupt(
        execution: UUID, with content: JSONValue, by principal: Principal, journal: ExecutionJournal,
        on connection: PostgresConnection
    ) async throws {
        let rows = try await connection.query(
            """
            SELECT id, attempts, turn_number, queue_id FROM tasks
            WHERE execution_id = \(execution) AND status = 'leased' FOR UPDATE
            """, logger: logger)
        var found: (UUID, Int32, Int32, UUID)?
        for try await row in rows.decode((UUID, Int32, Int32, UUID).self) { found = row }
        guard let (task, attempt, turn, queue) = found else {
            throw APIError.conflict("not-running", "the execution has no running turn to interrupt")
        }
        let ledger = try await services.tasks.ledger(task: task, before: Int(attempt) + 1, on: connection)
        var entries: [(type: String, data: JSONValue, ts: Date?)] = []
        for call in Self.unansweredToolCalls(ledger) {
            entries.append((
                LedgerEvent.type,
                ["message": try JSONValue(encoding: ChatMessage.toolResult(
                    id: call.id, name: call.name,
                    text: "Interrupted: the user sent a new message before this call finished; it may or may not have run.",
                    isError: true))], nil
            ))
        }
        entries.append((
            LedgerEvent.type, ["message": try JSONValue(encoding: ChatMessage.user(content.stringValue ?? content.jsonString))],
            nil
        ))
        // Recorded as part of the interrupted attempt (no source sequence: after everything it sent).
        try await journal.appendEvents(execution: execution, events: entries, taskId: task, attempt: Int(attempt))
        try await connection.query(
            """
            UPDATE tasks SET status = 'queued', max_attempts = max_attempts + 1, lease_id = NULL, lease_expires_at = NULL,
                worker_id = NULL, available_at = now(), last_error = 'interrupted by a user message'
            WHERE id = \(task)
            """, logger: logger)
        try await journal.appendEvents(
            execution: execution, events: [("user_message", ["content": content, "interrupt": true], nil)])
        try await journal.transition(
            execution: execution, from: "running", to: .queued, turn: Int(turn),
            reason: "interrupted by a message from \(principal.actor); the turn starts again with it", decider: "user")
        try await Notifications.send(Notifications.task(queue: queue), on: connection, logger: logger)
    }

    /// Tool calls in a ledger that have no result.
    static func unansweredToolCalls(_ ledger: [JSONValue]) -> [(id: String, name: String)] {
        var calls: [(id: String, name: String)] = []
        var answered = Set<String>()
        for entry in ledger {
            guard let message = entry["message"] else { continue }
            if message["role"] == "tool", let id = message["tool_call_id"]?.stringValue { answered.insert(id) }
            for call in message["tool_calls"]?.arrayValue ?? [] {
                if let id = call["id"]?.stringValue {
                    calls.append((id, call["name"]?.stringValue ?? call["function"]?["name"]?.stringValue ?? ""))
                }
            }
        }
        return calls.filter { !answered.contains($0.id) }
    }

    /// A user overrules the latest state decision. Only a decided execution (completed,
    /// waiting for input, failed) can be overruled; a queued or running one has no decision yet,
    /// and a cancelled one stays cancelled.
    func overrideDecision(_ principal: Principal, _ id: UUID, _ body: TransitionOverrideRequest) async throws
        -> Execution
    {
        guard TransitionOverrideRequest.targets.contains(body.to) else {
            throw APIError.invalidBody(
                "'to' must be one of \(TransitionOverrideRequest.targets.joined(separator: ", ")); got '\(body.to)'")
        }
        return try await database.withTenant(principal.organizationId) { connection in
            let rows = try await connection.query(
                "SELECT status, turn_count, queue_id FROM executions WHERE id = \(id) FOR UPDATE", logger: logger)
            var found: (String, Int32, UUID)?
            for try await row in rows.decode((String, Int32, UUID).self) { found = row }
            guard let (status, turns, queue) = found else { throw APIError.notFound("execution", id) }
            let decided: Set<String> = ["completed", "waiting_for_input", "failed"]
            guard decided.contains(status) else {
                throw APIError.conflict(
                    "not-decided", "the execution is \(status); only a completed, waiting_for_input or failed execution can be overridden")
            }
            if let turn = body.turn, turn != Int(turns) {
                throw APIError.conflict(
                    "stale-turn", "the override names turn \(turn), but the execution's latest turn is \(turns)")
            }
            let reason = "overridden by \(principal.actor)" + (body.reason.map { ": \($0)" } ?? "")
            let journal = ExecutionJournal(connection: connection, logger: logger)
            let target: ExecutionStatus
            if body.to == "continue" {
                // The next turn follows the highest one ever queued (a failed turn may have no turn row).
                let next = try await connection.query(
                    "SELECT COALESCE(MAX(turn_number), 0) + 1 FROM tasks WHERE execution_id = \(id)", logger: logger)
                var turn = Int(turns) + 1
                for try await value in next.decode(Int32.self) { turn = Int(value) }
                _ = try await journal.enqueueTask(
                    execution: id, queue: queue, turn: turn, input: .null, maxAttempts: services.configuration.maxAttempts)
                target = .queued
            } else {
                guard let status = ExecutionStatus(rawValue: body.to) else {
                    throw APIError.invalidBody("unknown status '\(body.to)'")
                }
                target = status
            }
            try await journal.transition(
                execution: id, from: status, to: target, turn: Int(turns), reason: reason, decider: "user")
            try await journal.audit(
                actor: principal.actor, action: "execution.transition.override", targetType: "execution", targetId: id,
                details: ["from": .string(status), "to": .string(body.to), "turn": .number(Double(turns))])
            guard let execution = try await find(id: id, on: connection) else { throw APIError.notFound("execution", id) }
            return execution
        }
    }

    // MARK: events

    func eventCursor(_ request: Request) throws -> Int64 {
        let text = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters.get("after")
        guard let text else { return 0 }
        guard let value = Int64(text), value >= 0 else {
            throw APIError.badRequest("the event cursor (Last-Event-ID or 'after') must be a non-negative integer")
        }
        return value
    }

    func events(_ organization: UUID, _ id: UUID, after: Int64, limit: Int) async throws -> ExecutionEventPage {
        try await database.withTenant(organization) { connection in
            guard try await find(id: id, on: connection) != nil else { throw APIError.notFound("execution", id) }
            let (events, _) = try await readEvents(id, after: after, limit: limit, on: connection)
            return ExecutionEventPage(events: events, nextAfter: events.last?.seq ?? after)
        }
    }

    func readEvents(_ id: UUID, after: Int64, limit: Int, on connection: PostgresConnection) async throws
        -> ([ExecutionEvent], ExecutionStatus?)
    {
        let rows = try await connection.query(
            """
            SELECT seq, type, data::text AS data, ts, task_id FROM execution_events
            WHERE execution_id = \(id) AND seq > \(after) ORDER BY seq LIMIT \(limit)
            """, logger: logger)
        var events: [ExecutionEvent] = []
        for try await row in rows {
            let row = row.makeRandomAccess()
            events.append(
                ExecutionEvent(
                    seq: try row.value("seq"), type: try row.value("type"), data: try row.json("data").value,
                    ts: try row.value("ts"), taskId: try row.value("task_id")))
        }
        let statusRows = try await connection.query("SELECT status FROM executions WHERE id = \(id)", logger: logger)
        var status: ExecutionStatus?
        for try await value in statusRows.decode(String.self) { status = ExecutionStatus(rawValue: value) }
        return (events, status)
    }

    /// Server-sent events: everything after the cursor, then live events as they are appended
    /// (pushed through NOTIFY, no polling), with a keep-alive comment every 15 s. The stream
    /// ends once the execution is finished and its last event was sent.
    func stream(_ organization: UUID, _ id: UUID, after: Int64) -> Response {
        let body = ResponseBody { writer in
            let (subscription, signals) = await services.events.subscribe(id)
            let keepAlive = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(15))
                    await services.events.publish(id)
                }
            }
            defer {
                keepAlive.cancel()
                Task { await services.events.unsubscribe(id, id: subscription) }
            }
            var cursor = after
            var iterator = signals.makeAsyncIterator()
            while true {
                var finished = false
                repeat {
                    let (events, status) = try await database.withTenant(organization) { connection in
                        try await readEvents(id, after: cursor, limit: 500, on: connection)
                    }
                    var text = ""
                    for event in events {
                        let data = String(decoding: try WireCoding.encode(event), as: UTF8.self)
                        text += "id: \(event.seq)\nevent: \(event.type)\ndata: \(data)\n\n"
                        cursor = event.seq
                    }
                    if text.isEmpty {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    } else {
                        try await writer.write(ByteBuffer(string: text))
                    }
                    finished = status?.isTerminal ?? true
                    if events.count < 500 { break }
                } while true
                if finished { break }
                guard await iterator.next() != nil else { break }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: body)
    }
}

/// The submit (`bosun_submit`, migration 8), prepared once per connection.
struct SubmitStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT * FROM bosun_submit($1::uuid, $2::uuid, $3::text, $4::uuid, $5::uuid, $6::text, $7::text,
                                   $8::text::jsonb, $9::text::jsonb, $10::bigint, $11::text, $12::text, $13::text,
                                   $14::text, $15::uuid, $16::float8)
        """

    typealias Row = PostgresRow
    let bindings: PostgresBindings
    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
