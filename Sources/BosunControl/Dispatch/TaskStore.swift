import BosunProtocol
import Foundation
import Logging
import Policy
import PostgresNIO

/// The durable queue's operations on behalf of one worker: claim, renew, events, complete, fail.
/// Every statement runs as the worker's organization, and every task statement also matches the
/// worker id, so a worker can only ever touch tasks of its own queue and organization.
struct TaskStore {
    let database: Database
    let configuration: ControlConfiguration
    /// Settles turns the rules call ambiguous; `nil` leaves them to the rules' best guess.
    let analyzer: (any TurnAnalyzer)?
    let logger: Logger

    var leaseSeconds: Double { configuration.leaseDuration.seconds }

    /// Claims up to `limit` queued tasks of the worker's queue in one statement (one round trip,
    /// no explicit transaction). A later turn's history and a retried attempt's ledger and
    /// approvals are read afterwards; the lease already makes those rows the worker's.
    /// With `held` (the tasks the worker runs), tasks leased to it that it does not hold were in a
    /// poll reply it never received: they are given back (released) at once.
    func claim(organization: UUID, queue: UUID, worker: UUID, limit: Int, held: [UUID]? = nil) async throws
        -> [TaskAssignment]
    {
        let rows = try await database.single(
            ClaimTasksStatement(
                organization: organization, worker: worker, leaseSeconds: leaseSeconds, queue: queue, limit: limit,
                held: held))
        var assignments: [TaskAssignment] = []
        for row in rows {
            let row = row.makeRandomAccess()
            if try row.value("orphaned", as: Bool?.self) == true {
                try await releaseUndelivered(
                    organization: organization, task: try row.value("id"), lease: try row.value("lease_id"),
                    worker: worker, reason: "its poll reply never reached the worker")
                continue
            }
            let agent = try Self.agentSpec(from: row)
            assignments.append(
                TaskAssignment(
                    id: try row.value("id"), executionId: try row.value("execution_id"),
                    organizationId: organization, queueId: try row.value("queue_id"),
                    turn: Int(try row.value("turn_number", as: Int32.self)),
                    attempt: Int(try row.value("attempts", as: Int32.self)),
                    maxAttempts: Int(try row.value("max_attempts", as: Int32.self)),
                    lease: Lease(
                        id: try row.value("lease_id"), expiresAt: try row.value("lease_expires_at"),
                        durationS: leaseSeconds, renewIntervalS: configuration.leaseRenewInterval.seconds),
                    agent: agent, input: try row.json("input").value, history: [],
                    policies: try PolicyGate.decodeSet(try row.json("policies").value)))
        }
        // Tasks under a quota carry the usage it starts from (the worker checks it before every
        // model call). Policies that cannot be read carry none: the worker refuses those anyway.
        let quotas = assignments.map { try? PolicyEvaluator($0.policies) }.map { evaluator -> (any: Bool, organization: Bool) in
            (evaluator?.hasQuota ?? false, evaluator?.hasOrganizationQuota ?? false)
        }
        guard assignments.contains(where: { $0.turn > 1 || $0.attempt > 1 }) || quotas.contains(where: \.any) else {
            return assignments
        }
        return try await database.withTenant(organization) { connection in
            var assignments = assignments
            var today: PolicyEvaluator.Usage?
            for index in assignments.indices where quotas[index].any {
                let execution = assignments[index].turn > 1
                    ? try await executionUsage(assignments[index].executionId, on: connection) : .zero
                if quotas[index].organization, today == nil {
                    today = try await PolicyGate.organizationUsageToday(on: connection, logger: logger)
                }
                assignments[index].usageSoFar = UsageSoFar(
                    execution: execution, organizationToday: quotas[index].organization ? today : nil)
            }
            for index in assignments.indices where assignments[index].turn > 1 {
                assignments[index].history = try await history(
                    execution: assignments[index].executionId, before: assignments[index].turn, on: connection)
            }
            for index in assignments.indices where assignments[index].attempt > 1 {
                assignments[index].ledger = try await ledger(
                    task: assignments[index].id, before: assignments[index].attempt, on: connection)
                assignments[index].approvals = try await ApprovalStore.resolutions(
                    task: assignments[index].id, on: connection, logger: logger)
            }
            return assignments
        }
    }

    /// The agent columns `bosun_claim_tasks` and `bosun_submit` return.
    static func agentSpec(from row: PostgresRandomAccessRow) throws -> AgentSpec {
        AgentSpec(
            id: try row.value("agent_id"), name: try row.value("agent_name"), runtime: try row.value("runtime"),
            model: try row.value("model"), instructions: try row.value("instructions"),
            tools: try row.json("tools").value.arrayValue ?? [],
            mcpServers: try row.json("mcp_servers").value.objectValue ?? [:],
            sandboxProfile: try row.value("sandbox_profile"), limits: try row.json("limits").value.objectValue ?? [:],
            settings: try row.json("settings").value.objectValue ?? [:])
    }

    /// The ledger entries earlier attempts of a task recorded, in the order they happened.
    /// Each attempt only records what it added (a replaying attempt does not record the replayed
    /// messages again), so concatenating every earlier attempt's ledger gives the whole of it.
    func ledger(task: UUID, before attempt: Int, on connection: PostgresConnection) async throws -> [JSONValue] {
        let rows = try await connection.query(
            """
            SELECT data::text AS entry FROM execution_events
            WHERE task_id = \(task) AND attempt < \(attempt) AND type = \(LedgerEvent.type) AND data ? 'message'
            ORDER BY attempt, source_seq
            """, logger: logger)
        var entries: [JSONValue] = []
        for try await row in rows {
            entries.append(try row.makeRandomAccess().json("entry").value)
        }
        return entries
    }

    func history(execution: UUID, before turn: Int, on connection: PostgresConnection) async throws -> [TurnHistory] {
        let rows = try await connection.query(
            """
            SELECT turn_number, input::text AS input, messages::text AS messages FROM turns
            WHERE execution_id = \(execution) AND turn_number < \(turn) ORDER BY turn_number
            """, logger: logger)
        var history: [TurnHistory] = []
        for try await row in rows {
            let row = row.makeRandomAccess()
            history.append(
                TurnHistory(
                    turn: Int(try row.value("turn_number", as: Int32.self)), input: try row.json("input").value,
                    messages: try row.json("messages").value.arrayValue ?? []))
        }
        return history
    }

    /// Why a lease check failed: the task is unknown to this worker, or its lease is no longer the one given.
    func leaseProblem(task: UUID, lease: UUID, worker: UUID, on connection: PostgresConnection) async throws -> APIError {
        let rows = try await connection.query(
            "SELECT status, lease_id, worker_id, lease_expires_at < now() AS expired FROM tasks WHERE id = \(task)",
            logger: logger)
        for try await row in rows {
            let row = row.makeRandomAccess()
            let status: String = try row.value("status")
            let currentLease: UUID? = try row.value("lease_id")
            let owner: UUID? = try row.value("worker_id")
            let expired: Bool? = try row.value("expired")
            if currentLease == lease, owner == worker, status == "leased", expired == true {
                return APIError.conflict("stale-lease", "the lease on task \(task.lowercased) has expired")
            }
            return APIError.conflict(
                "stale-lease",
                "lease \(lease.lowercased) no longer holds task \(task.lowercased) (task is \(status)); drop the task")
        }
        return APIError.notFound("task", task)
    }

    func renew(organization: UUID, task: UUID, lease: UUID, worker: UUID) async throws -> RenewLeaseResponse {
        try await database.withTenant(organization) { connection in
            let rows = try await connection.query(
                """
                WITH seen AS (UPDATE workers SET last_seen_at = now() WHERE id = \(worker))
                UPDATE tasks t SET lease_expires_at = now() + make_interval(secs => \(leaseSeconds))
                WHERE t.id = \(task) AND t.lease_id = \(lease) AND t.worker_id = \(worker) AND t.status = 'leased'
                  AND t.lease_expires_at >= now()
                RETURNING t.lease_expires_at,
                          (SELECT e.cancel_requested FROM executions e WHERE e.id = t.execution_id) AS cancel_requested
                """, logger: logger)
            for try await row in rows {
                let row = row.makeRandomAccess()
                return RenewLeaseResponse(
                    leaseExpiresAt: try row.value("lease_expires_at"),
                    cancelRequested: try row.value("cancel_requested"))
            }
            throw try await leaseProblem(task: task, lease: lease, worker: worker, on: connection)
        }
    }

    /// The leased task row, locked for the rest of the transaction; throws when the lease does not hold it.
    struct LeasedTask {
        var executionId: UUID
        var queueId: UUID
        var turn: Int
        var attempt: Int
        var maxAttempts: Int
        var input: JSONValue
        var status: String
        var leaseMatches: Bool
    }

    func lockTask(task: UUID, lease: UUID, worker: UUID, on connection: PostgresConnection) async throws -> LeasedTask {
        let rows = try await connection.execute(LockTaskStatement(lease: lease, worker: worker, task: task), logger: logger)
        for try await row in rows {
            let row = row.makeRandomAccess()
            return LeasedTask(
                executionId: try row.value("execution_id"), queueId: try row.value("queue_id"),
                turn: Int(try row.value("turn_number", as: Int32.self)),
                attempt: Int(try row.value("attempts", as: Int32.self)),
                maxAttempts: Int(try row.value("max_attempts", as: Int32.self)),
                input: try row.json("input").value, status: try row.value("status"),
                leaseMatches: (try row.value("lease_matches", as: Bool?.self)) ?? false)
        }
        throw APIError.notFound("task", task)
    }

    func appendEvents(organization: UUID, task: UUID, worker: UUID, request: AppendEventsRequest) async throws
        -> AppendEventsResponse
    {
        try Self.checkSequenceNumbers(request.events)
        let rows = try await database.single(
            Self.appendStatement(organization, task: task, lease: request.leaseId, worker: worker, events: request.events))
        guard let row = rows.first?.makeRandomAccess() else {
            throw APIError(.internalServerError, "internal", "the event batch returned nothing")
        }
        switch try row.value("outcome", as: String.self) {
        case "ok":
            let accepted = Int(try row.value("accepted", as: Int32.self))
            return AppendEventsResponse(accepted: accepted, duplicates: request.events.count - accepted)
        case "stale":
            throw try await database.withTenant(organization) { connection in
                try await leaseProblem(task: task, lease: request.leaseId, worker: worker, on: connection)
            }
        default:
            throw APIError.notFound("task", task)
        }
    }

    static func checkSequenceNumbers(_ events: [TaskEvent]) throws {
        guard events.allSatisfy({ $0.seq > 0 }) else {
            throw APIError.invalidBody("every event needs a positive 'seq'")
        }
        guard Set(events.map(\.seq)).count == events.count else {
            throw APIError.invalidBody("event sequence numbers in one batch must be distinct")
        }
    }

    /// `bosun_append_events` (migration 10), the one place a worker's events are stored: a batch
    /// runs it as its own statement, a completion inside its transaction (the task is already
    /// locked and its lease checked there). Seqs the attempt already stored are skipped, so a
    /// resent batch, or a completion carrying events a batch stored, stores nothing twice.
    static func appendStatement(_ organization: UUID, task: UUID, lease: UUID, worker: UUID, events: [TaskEvent]) throws
        -> AppendEventsStatement
    {
        let now = Date()
        return AppendEventsStatement(
            bindings: try binds(
                organization, task, lease, worker, events.map(\.seq), events.map(\.type), events.map(\.data.jsonText),
                events.map { $0.ts ?? now }))
    }

    func complete(organization: UUID, task: UUID, worker: UUID, request: CompleteTaskRequest) async throws
        -> CompleteTaskResponse
    {
        // The analyzer (an LLM call with a time budget) runs before the transaction, so no row
        // stays locked while it thinks. Its answer is applied inside the transaction only if the
        // rules, re-run there on the locked, current state, still find the turn ambiguous; and it
        // is stored with the turn number it was about, so it can never apply to another turn.
        try Self.checkSequenceNumbers(request.events ?? [])
        let analyzed = try await analyze(organization: organization, task: task, worker: worker, result: request.result)
        return try await database.withTenant(organization) { connection in
            let journal = ExecutionJournal(connection: connection, logger: logger)
            let leased = try await lockTask(task: task, lease: request.leaseId, worker: worker, on: connection)
            if leased.status == "completed" {
                // Same lease again: the first completion won; answer it again instead of a second turn.
                let rows = try await connection.query(
                    """
                    SELECT t.lease_id = \(request.leaseId) AS same_lease, e.status
                    FROM turns t JOIN executions e ON e.id = t.execution_id WHERE t.task_id = \(task)
                    """, logger: logger)
                for try await (sameLease, status) in rows.decode((Bool, String).self) where sameLease {
                    return CompleteTaskResponse(
                        executionStatus: ExecutionStatus(rawValue: status) ?? .running, decision: "duplicate",
                        duplicate: true)
                }
            }
            guard leased.status == "leased", leased.leaseMatches else {
                throw try await leaseProblem(task: task, lease: request.leaseId, worker: worker, on: connection)
            }
            // The attempt's last events, before `turn_completed` and the transition.
            if let events = request.events, !events.isEmpty {
                let rows = try await connection.execute(
                    Self.appendStatement(organization, task: task, lease: request.leaseId, worker: worker, events: events),
                    logger: logger)
                var outcome: String?
                for try await row in rows { outcome = try row.makeRandomAccess().value("outcome") }
                // The lease was checked under the same lock a moment ago; anything else is a bug,
                // and the completion must not go through without its events.
                guard outcome == "ok" else {
                    throw APIError(.internalServerError, "internal", "the completion's events were not stored (\(outcome ?? "nothing"))")
                }
            }
            let result = request.result
            try await connection.execute(
                Prepared(
                    InsertTurnSQL.self,
                    try binds(
                        leased.executionId, task, leased.turn, leased.attempt, request.leaseId, worker,
                        leased.input.jsonText, result.messages.jsonText, result.toolCalls.jsonText, result.usage.jsonText,
                        result.costUsd, result.finishReason.rawValue, result.output, result.error, result.model,
                        result.timings?.jsonText)),
                logger: logger
            ).consume()
            try await connection.execute(Prepared(CompleteTaskSQL.self, try binds(task)), logger: logger).consume()
            let rows = try await connection.execute(
                Prepared(CountTurnSQL.self, try binds(leased.turn, leased.executionId)), logger: logger)
            var current = "running"
            var cancelRequested = false
            var queue = leased.queueId
            var maxTurns = RuleBasedDecider.defaultMaxTurns
            var policies: Result<[PolicySnapshot], any Error> = .success([])
            var pendingMessages: [JSONValue] = []
            for try await row in rows {
                let row = row.makeRandomAccess()
                current = try row.value("status")
                cancelRequested = try row.value("cancel_requested")
                queue = try row.value("queue_id")
                if let limit = try row.value("max_turns", as: Int32?.self) { maxTurns = Int(limit) }
                policies = Result { try PolicyGate.decodeSet(try row.json("policies").value) }
                pendingMessages = try row.json("pending_messages").value.arrayValue ?? []
            }
            try await journal.appendEvents(
                execution: leased.executionId,
                events: [
                    (
                        "turn_completed",
                        [
                            "turn": .number(Double(leased.turn)), "finish_reason": .string(result.finishReason.rawValue),
                            "usage": try JSONValue(encoding: result.usage), "cost_usd": .number(result.costUsd),
                        ], nil
                    )
                ])
            let started = ContinuousClock.now
            let outcome = RuleBasedDecider.evaluate(
                result, context: DecisionContext(turn: leased.turn, maxTurns: maxTurns, cancelRequested: cancelRequested))
            var decision = outcome.decision
            var latency = (ContinuousClock.now - started).milliseconds
            if outcome.isAmbiguous, let analyzed, analyzed.turn == leased.turn {
                decision = analyzed.decision
                latency = analyzed.latencyMs
            }
            var nextInput = JSONValue.null
            let goesOn: Set<NextStep> = [.completed, .waitingForInput, .continue]
            if !pendingMessages.isEmpty, goesOn.contains(decision.next) {
                // Messages sent during the turn (strategy enqueue) are the next turn's input.
                nextInput = Self.merge(pendingMessages)
                decision = StateDecision(
                    next: .continue,
                    reason: "\(pendingMessages.count) message(s) arrived during the turn; the next turn takes them",
                    decider: "user")
                try await connection.query(
                    "UPDATE executions SET pending_messages = '[]' WHERE id = \(leased.executionId)", logger: logger)
            }
            if decision.next == .continue || decision.next == .waitingForInput {
                // Policies may end an execution that would go on: turn limits and quotas.
                if let stop = try await policyStop(
                    policies: policies, execution: leased.executionId, turn: leased.turn, next: decision.next,
                    on: connection)
                {
                    decision = stop
                }
            }
            let next: ExecutionStatus
            switch decision.next {
            case .continue:
                next = .queued
                _ = try await journal.enqueueTask(
                    execution: leased.executionId, queue: queue, turn: leased.turn + 1, input: nextInput,
                    maxAttempts: configuration.maxAttempts)
            case .completed: next = .completed
            case .waitingForInput: next = .waitingForInput
            case .failed: next = .failed
            case .cancelled: next = .cancelled
            }
            try await journal.transition(
                execution: leased.executionId, from: current, to: next, turn: leased.turn, reason: decision.reason,
                decider: decision.decider, confidence: decision.confidence, latencyMs: latency,
                output: result.output, error: next == .failed ? (result.error ?? decision.reason) : nil)
            return CompleteTaskResponse(executionStatus: next, decision: decision.next.rawValue, duplicate: false)
        }
    }

    /// Queued messages as one turn input: one message as it is, several texts joined.
    static func merge(_ messages: [JSONValue]) -> JSONValue {
        if messages.count == 1 { return messages[0] }
        return .string(messages.map { $0.stringValue ?? $0.jsonString }.joined(separator: "\n\n"))
    }

    /// The policies' word after a turn of an execution that would go on: nil lets it go on, a
    /// `failed` decision (decider `policy`) stops it. A policy set that cannot be read stops it
    /// too. Every check made is audited with its input and the rule that decided.
    func policyStop(
        policies: Result<[PolicySnapshot], any Error>, execution: UUID, turn: Int, next: NextStep,
        on connection: PostgresConnection
    ) async throws -> StateDecision? {
        let journal = ExecutionJournal(connection: connection, logger: logger)
        let evaluator: PolicyEvaluator
        do {
            evaluator = try PolicyEvaluator(try policies.get())
        } catch {
            let failed = PolicyDecision.evaluationFailed("\(error)")
            try await journal.audit(
                actor: "system", action: "policy.deny", targetType: "execution", targetId: execution,
                details: failed.json)
            return StateDecision(next: .failed, reason: failed.reason, decider: "policy")
        }
        guard !evaluator.entries.isEmpty else { return nil }
        var decision = PolicyDecision.allow()
        var input: [String: JSONValue] = ["action": "turn.end", "turn": .number(Double(turn)), "next": .string(next.rawValue)]
        if next == .continue, let limit = evaluator.maxTurns, turn >= limit.limit {
            decision = PolicyDecision(
                outcome: .deny, rule: "limits.max_turns", policyId: limit.policy.id, policyName: limit.policy.name,
                reason: "the execution reached the turn limit of \(limit.limit) set by policy '\(limit.policy.name)' (\(limit.policy.level.rawValue)): limits.max_turns")
        } else {
            let used = try await executionUsage(execution, on: connection)
            let today = evaluator.hasOrganizationQuota
                ? try await PolicyGate.organizationUsageToday(on: connection, logger: logger) : nil
            input["execution_usage"] = ["tokens": .number(Double(used.tokens)), "cost_usd": .number(used.costUSD)]
            if let today {
                input["organization_today"] = ["tokens": .number(Double(today.tokens)), "cost_usd": .number(today.costUSD)]
            }
            decision = evaluator.quotas(execution: used, organizationToday: today)
        }
        var details = decision.json.objectValue ?? [:]
        details["input"] = .object(input)
        try await journal.audit(
            actor: "system", action: "policy.\(decision.outcome.rawValue)", targetType: "execution", targetId: execution,
            details: .object(details))
        return decision.isAllowed ? nil : StateDecision(next: .failed, reason: "denied by policy: \(decision.reason)", decider: "policy")
    }

    /// Tokens (input + output) and dollars of an execution's finished turns.
    func executionUsage(_ execution: UUID, on connection: PostgresConnection) async throws -> PolicyEvaluator.Usage {
        let rows = try await connection.query(
            """
            SELECT COALESCE(sum(COALESCE((usage->>'input_tokens')::bigint, 0)
                              + COALESCE((usage->>'output_tokens')::bigint, 0)), 0)::bigint,
                   COALESCE(sum(cost_usd), 0)::double precision
            FROM turns WHERE execution_id = \(execution)
            """, logger: logger)
        for try await (tokens, cost) in rows.decode((Int64, Double).self) {
            return PolicyEvaluator.Usage(tokens: Int(tokens), costUSD: cost)
        }
        return .zero
    }

    /// The analyzer's decision for an ambiguous turn, with the turn it is about; `nil` when the
    /// rules settle the turn themselves or no analyzer is configured.
    func analyze(organization: UUID, task: UUID, worker: UUID, result: TurnResult) async throws
        -> (turn: Int, decision: StateDecision, latencyMs: Double)?
    {
        guard let analyzer else { return nil }
        // Cancellation and the turn limit are checked again in the transaction; here only the
        // turn itself matters, so these neutral facts are enough to know if it is ambiguous.
        let preliminary = RuleBasedDecider.evaluate(
            result, context: DecisionContext(turn: 0, maxTurns: .max, cancelRequested: false))
        guard case .ambiguous(let fallback) = preliminary else { return nil }
        let facts = try await database.withTenant(organization) { connection -> (Int, JSONValue)? in
            let rows = try await connection.query(
                """
                SELECT turn_number, input::text AS input FROM tasks
                WHERE id = \(task) AND worker_id = \(worker) AND status = 'leased'
                """, logger: logger)
            for try await row in rows {
                let row = row.makeRandomAccess()
                return (Int(try row.value("turn_number", as: Int32.self)), try row.json("input").value)
            }
            return nil
        }
        // Not (or no longer) this worker's leased task: the transaction reports why.
        guard let (turn, input) = facts else { return nil }
        let started = ContinuousClock.now
        let decision = await analyzer.analyze(
            AnalysisRequest(turn: turn, input: input, result: result, fallback: fallback))
        return (turn, decision, (ContinuousClock.now - started).milliseconds)
    }

    func fail(organization: UUID, task: UUID, worker: UUID, request: FailTaskRequest) async throws -> FailTaskResponse {
        try await database.withTenant(organization) { connection in
            let journal = ExecutionJournal(connection: connection, logger: logger)
            let leased = try await lockTask(task: task, lease: request.leaseId, worker: worker, on: connection)
            guard leased.status == "leased", leased.leaseMatches else {
                throw try await leaseProblem(task: task, lease: request.leaseId, worker: worker, on: connection)
            }
            let rows = try await connection.query(
                "SELECT status, cancel_requested FROM executions WHERE id = \(leased.executionId)", logger: logger)
            var current = "running"
            var cancelRequested = false
            for try await (status, cancel) in rows.decode((String, Bool).self) {
                current = status
                cancelRequested = cancel
            }
            let retry = request.retryable && !cancelRequested && leased.attempt < leased.maxAttempts
            let taskStatus = cancelRequested ? "cancelled" : retry ? "queued" : request.retryable ? "dead" : "failed"
            // Retries back off: 1 s, 4 s, 9 s ... after each failed attempt.
            let backoff = Double(leased.attempt * leased.attempt)
            try await connection.query(
                """
                UPDATE tasks SET status = \(taskStatus), last_error = \(request.error), lease_id = NULL,
                    lease_expires_at = NULL, worker_id = NULL,
                    available_at = now() + make_interval(secs => \(retry ? backoff : 0)),
                    finished_at = CASE WHEN \(retry) THEN NULL ELSE now() END
                WHERE id = \(task)
                """, logger: logger)
            let next: ExecutionStatus
            if cancelRequested {
                next = .cancelled
                try await journal.transition(
                    execution: leased.executionId, from: current, to: .cancelled, turn: leased.turn,
                    reason: "cancelled while the turn ran", decider: "system")
            } else if retry {
                next = .queued
                try await journal.transition(
                    execution: leased.executionId, from: current, to: .queued, turn: leased.turn,
                    reason: "attempt \(leased.attempt) of \(leased.maxAttempts) failed; retrying: \(request.error)",
                    decider: "system")
                try await Notifications.send(Notifications.task(queue: leased.queueId), on: connection, logger: logger)
            } else {
                next = .failed
                let why =
                    request.retryable
                    ? "attempt limit (\(leased.maxAttempts)) reached; last error: \(request.error)"
                    : "the turn failed: \(request.error)"
                try await journal.transition(
                    execution: leased.executionId, from: current, to: .failed, turn: leased.turn, reason: why,
                    decider: "system", error: request.error)
            }
            return FailTaskResponse(taskStatus: taskStatus, executionStatus: next)
        }
    }
}

extension TaskStore {
    /// A task leased to a worker that never received it (its poll reply was lost, or the poll
    /// ended first): given back like a release (the attempt does not count), and logged.
    func releaseUndelivered(organization: UUID, task: UUID, lease: UUID, worker: UUID, reason: String) async throws {
        logger.warning(
            "giving back a task its worker never received",
            metadata: ["bosun.task.id": "\(task)", "bosun.worker.id": "\(worker)", "reason": "\(reason)"])
        do {
            _ = try await release(
                organization: organization, task: task, worker: worker,
                request: ReleaseTaskRequest(leaseId: lease, reason: reason))
        } catch let error as APIError where error.status == .conflict || error.status == .notFound {
            // Finished, expired or released meanwhile: nothing left to give back.
        }
    }

    /// The worker gives the task back unfinished (a forced shutdown). It is queued again at once,
    /// and the attempt is not counted against the limit (the limit grows by one): stopping was the
    /// worker's choice, not the task's failure. Attempt numbers still only go up, because events
    /// are deduplicated per attempt.
    func release(organization: UUID, task: UUID, worker: UUID, request: ReleaseTaskRequest) async throws
        -> ReleaseTaskResponse
    {
        try await database.withTenant(organization) { connection in
            let journal = ExecutionJournal(connection: connection, logger: logger)
            let leased = try await lockTask(task: task, lease: request.leaseId, worker: worker, on: connection)
            guard leased.status == "leased", leased.leaseMatches else {
                throw try await leaseProblem(task: task, lease: request.leaseId, worker: worker, on: connection)
            }
            let rows = try await connection.query(
                "SELECT status, cancel_requested FROM executions WHERE id = \(leased.executionId)", logger: logger)
            var current = "running"
            var cancelRequested = false
            for try await (status, cancel) in rows.decode((String, Bool).self) {
                current = status
                cancelRequested = cancel
            }
            let reason = String(request.reason.prefix(500))
            if cancelRequested {
                try await connection.query(
                    """
                    UPDATE tasks SET status = 'cancelled', lease_id = NULL, lease_expires_at = NULL, worker_id = NULL,
                        finished_at = now(), last_error = \(reason)
                    WHERE id = \(task)
                    """, logger: logger)
                try await journal.transition(
                    execution: leased.executionId, from: current, to: .cancelled, turn: leased.turn,
                    reason: "cancelled; the worker released the task (\(reason))", decider: "system")
                return ReleaseTaskResponse(taskStatus: "cancelled", executionStatus: .cancelled)
            }
            try await connection.query(
                """
                UPDATE tasks SET status = 'queued', max_attempts = max_attempts + 1, lease_id = NULL,
                    lease_expires_at = NULL, worker_id = NULL, available_at = now(),
                    last_error = 'released by the worker: ' || \(reason)
                WHERE id = \(task)
                """, logger: logger)
            try await journal.transition(
                execution: leased.executionId, from: current, to: .queued, turn: leased.turn,
                reason: "released by the worker (\(reason)); re-queued", decider: "system")
            try await Notifications.send(Notifications.task(queue: leased.queueId), on: connection, logger: logger)
            return ReleaseTaskResponse(taskStatus: "queued", executionStatus: .queued)
        }
    }
}

extension UUID {
    var lowercased: String { uuidString.lowercased() }
}


/// The claim, prepared once per connection: parsing and planning it every time cost more than
/// running it (measured with `log_min_duration_statement`).
/// The claim (`bosun_claim_tasks`, migration 8), prepared once per connection.
struct ClaimTasksStatement: PostgresPreparedStatement {
    static let sql = "SELECT * FROM bosun_claim_tasks($1::uuid, $2::uuid, $3::float8, $4::uuid, $5::bigint, $6::uuid[])"

    typealias Row = PostgresRow
    var organization: UUID
    var worker: UUID
    var leaseSeconds: Double
    var queue: UUID
    var limit: Int
    var held: [UUID]?

    func makeBindings() throws -> PostgresBindings {
        try binds(organization, worker, leaseSeconds, queue, limit, held)
    }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

// The statements every worker report runs, prepared once per connection: parsing and planning
// one-off statements was about a quarter of PostgreSQL's CPU in `bosun bench e2e`.

/// The task row of a lease, locked for the rest of the transaction.
struct LockTaskStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT execution_id, queue_id, turn_number, attempts, max_attempts, input::text AS input, status,
               (lease_id = $1::uuid AND worker_id = $2::uuid AND lease_expires_at >= now()) AS lease_matches
        FROM tasks WHERE id = $3::uuid FOR UPDATE
        """
    typealias Row = PostgresRow
    var lease: UUID
    var worker: UUID
    var task: UUID
    func makeBindings() throws -> PostgresBindings { try binds(lease, worker, task) }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// The completed turn, append-only.
enum InsertTurnSQL: PreparedSQL {
    static let sql = """
        INSERT INTO turns (organization_id, execution_id, task_id, turn_number, attempt, lease_id, worker_id,
                           input, messages, tool_calls, usage, cost_usd, finish_reason, output, error, model, timings)
        VALUES (bosun_current_org(), $1::uuid, $2::uuid, $3::bigint, $4::bigint, $5::uuid, $6::uuid, $7::text::jsonb,
                $8::text::jsonb, $9::text::jsonb, $10::text::jsonb, $11::float8, $12::text, $13::text, $14::text,
                $15::text, $16::text::jsonb)
        """
}

enum CompleteTaskSQL: PreparedSQL {
    static let sql = "UPDATE tasks SET status = 'completed', finished_at = now(), lease_expires_at = NULL WHERE id = $1::uuid"
}

/// Counts the turn and reads what the state decision needs (limits, policies, queued messages).
enum CountTurnSQL: PreparedSQL {
    static let sql = """
        UPDATE executions e SET turn_count = GREATEST(e.turn_count, $1::bigint), updated_at = now()
        FROM agents a WHERE e.id = $2::uuid AND a.id = e.agent_id
        RETURNING e.status, e.cancel_requested, e.queue_id, (a.limits->>'max_turns')::integer AS max_turns,
                  bosun_policy_set(e.agent_id, e.queue_id)::text AS policies,
                  e.pending_messages::text AS pending_messages
        """
}

/// A worker's event batch in one statement (migration 10).
struct AppendEventsStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT * FROM bosun_append_events($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::bigint[], $6::text[], $7::text[],
                                          $8::timestamptz[])
        """
    typealias Row = PostgresRow
    let bindings: PostgresBindings
    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
