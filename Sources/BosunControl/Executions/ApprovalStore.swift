import BosunProtocol
import Foundation
import Logging
import PostgresNIO

/// Human approvals of tool calls. A worker parks its task (`await-approval`): the task waits,
/// the execution is `waiting_for_approval`, one approval per call is pending. When the last one
/// is decided (approved, denied or expired) the task is queued again; its next attempt replays
/// the ledger and runs, or refuses, exactly the calls that waited.
struct ApprovalStore {
    let database: Database
    let configuration: ControlConfiguration
    let logger: Logger

    static let columns = """
        id, execution_id, task_id, turn_number, tool_call_id, tool_name, arguments::text AS arguments, reason, rule,
        status, decision_reason, requested_at, expires_at, decided_at, decided_by
        """

    static func approval(from row: PostgresRow) throws -> Approval {
        let row = row.makeRandomAccess()
        return Approval(
            id: try row.value("id"), executionId: try row.value("execution_id"), taskId: try row.value("task_id"),
            turn: Int(try row.value("turn_number", as: Int32.self)), toolCallId: try row.value("tool_call_id"),
            toolName: try row.value("tool_name"), arguments: try row.json("arguments").value,
            reason: try row.value("reason"), rule: try row.value("rule"),
            status: ApprovalStatus(rawValue: try row.value("status")) ?? .pending,
            decisionReason: try row.value("decision_reason"), requestedAt: try row.value("requested_at"),
            expiresAt: try row.value("expires_at"), decidedAt: try row.value("decided_at"),
            decidedBy: try row.value("decided_by"))
    }

    /// The worker's side: park a leased task until its calls are decided.
    func awaitApproval(organization: UUID, task: UUID, worker: UUID, request: AwaitApprovalRequest, tasks: TaskStore)
        async throws -> AwaitApprovalResponse
    {
        guard !request.approvals.isEmpty, request.approvals.count <= 100 else {
            throw APIError.invalidBody("'approvals' must hold 1 to 100 tool calls")
        }
        guard request.approvals.allSatisfy({ !$0.toolCallId.isEmpty && !$0.toolName.isEmpty }) else {
            throw APIError.invalidBody("every approval needs a 'tool_call_id' and a 'tool_name'")
        }
        return try await database.withTenant(organization) { connection in
            let leased = try await tasks.lockTask(task: task, lease: request.leaseId, worker: worker, on: connection)
            guard leased.status == "leased", leased.leaseMatches else {
                throw try await tasks.leaseProblem(task: task, lease: request.leaseId, worker: worker, on: connection)
            }
            let expires = Date().addingTimeInterval(configuration.approvalTTL.seconds)
            var ids: [UUID] = []
            var events: [(type: String, data: JSONValue, ts: Date?)] = []
            for item in request.approvals {
                let rows = try await connection.query(
                    """
                    INSERT INTO approvals (organization_id, execution_id, task_id, turn_number, tool_call_id, tool_name,
                                           arguments, reason, rule, expires_at)
                    VALUES (bosun_current_org(), \(leased.executionId), \(task), \(leased.turn), \(item.toolCallId),
                            \(item.toolName), \(item.arguments.jsonText)::jsonb, \(String(item.reason.prefix(2000))),
                            \(item.rule), \(expires))
                    ON CONFLICT (task_id, tool_call_id) DO UPDATE SET status = 'pending', expires_at = EXCLUDED.expires_at,
                        decided_at = NULL, decided_by = NULL, decision_reason = NULL
                    RETURNING id
                    """, logger: logger)
                for try await id in rows.decode(UUID.self) {
                    ids.append(id)
                    events.append((
                        "approval_requested",
                        [
                            "approval_id": .string(id.uuidString.lowercased()), "tool_call_id": .string(item.toolCallId),
                            "tool_name": .string(item.toolName), "arguments": item.arguments, "reason": .string(item.reason),
                            "expires_at": .string(WireCoding.formatDate(expires)),
                        ], nil
                    ))
                }
            }
            // Parked, not finished: the attempt that asked does not count against the retries.
            try await connection.query(
                """
                UPDATE tasks SET status = 'waiting', max_attempts = max_attempts + 1, lease_id = NULL,
                    lease_expires_at = NULL, worker_id = NULL
                WHERE id = \(task)
                """, logger: logger)
            let journal = ExecutionJournal(connection: connection, logger: logger)
            try await journal.appendEvents(execution: leased.executionId, events: events)
            let names = request.approvals.map(\.toolName).joined(separator: ", ")
            try await journal.transition(
                execution: leased.executionId, from: "running", to: .waitingForApproval, turn: leased.turn,
                reason: "\(request.approvals.count) tool call(s) need a person's approval: \(names)", decider: "policy")
            return AwaitApprovalResponse(executionStatus: .waitingForApproval, approvalIds: ids)
        }
    }

    func list(_ organization: UUID, execution: UUID) async throws -> [Approval] {
        try await database.withTenant(organization) { connection in
            try await connection.requireRow("executions", id: execution, what: "execution", logger: logger)
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.columns) FROM approvals WHERE execution_id = $1 ORDER BY requested_at, tool_call_id",
                    binds: try binds(execution)),
                logger: logger)
            var items: [Approval] = []
            for try await row in rows { items.append(try Self.approval(from: row)) }
            return items
        }
    }

    /// A person approves or denies one pending call.
    func decide(_ principal: Principal, execution: UUID, approval: UUID, approve: Bool, reason: String?) async throws
        -> Approval
    {
        if let reason, reason.count > 2000 { throw APIError.invalidBody("'reason' must be at most 2000 characters") }
        return try await database.withTenant(principal.organizationId) { connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT \(Self.columns) FROM approvals WHERE id = $1 AND execution_id = $2 FOR UPDATE",
                    binds: try binds(approval, execution)),
                logger: logger)
            var found: Approval?
            for try await row in rows { found = try Self.approval(from: row) }
            guard var current = found else { throw APIError.notFound("approval", approval) }
            guard current.status == .pending else {
                throw APIError.conflict("already-decided", "the approval is already \(current.status.rawValue)")
            }
            if current.expiresAt < Date() {
                throw APIError.conflict("expired", "the approval expired at \(WireCoding.formatDate(current.expiresAt)); it counts as denied")
            }
            let status: ApprovalStatus = approve ? .approved : .denied
            try await connection.query(
                """
                UPDATE approvals SET status = \(status.rawValue), decided_at = now(), decided_by = \(principal.actor),
                    decision_reason = \(reason)
                WHERE id = \(approval)
                """, logger: logger)
            current.status = status
            current.decidedBy = principal.actor
            current.decisionReason = reason
            current.decidedAt = Date()
            let journal = ExecutionJournal(connection: connection, logger: logger)
            try await journal.appendEvents(
                execution: execution,
                events: [(
                    "approval_decided",
                    [
                        "approval_id": .string(approval.uuidString.lowercased()), "tool_call_id": .string(current.toolCallId),
                        "tool_name": .string(current.toolName), "status": .string(status.rawValue),
                        "decided_by": .string(principal.actor), "reason": reason.map(JSONValue.string) ?? .null,
                    ], nil
                )])
            try await journal.audit(
                actor: principal.actor, action: "approval.\(status.rawValue)", targetType: "execution", targetId: execution,
                details: [
                    "approval_id": .string(approval.uuidString.lowercased()), "tool_name": .string(current.toolName),
                    "arguments": current.arguments, "reason": reason.map(JSONValue.string) ?? .null,
                ])
            try await Self.settle(task: current.taskId, decider: "user", on: connection, logger: logger)
            return current
        }
    }

    /// Queues a parked task again once none of its approvals is pending.
    static func settle(task: UUID, decider: String, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            """
            SELECT t.status, t.execution_id, t.queue_id, t.turn_number, e.status AS execution_status,
                   (SELECT count(*) FROM approvals a WHERE a.task_id = t.id AND a.status = 'pending') AS pending,
                   (SELECT string_agg(a.tool_name || ' ' || a.status, ', ' ORDER BY a.tool_call_id)
                      FROM approvals a WHERE a.task_id = t.id) AS summary
            FROM tasks t JOIN executions e ON e.id = t.execution_id WHERE t.id = \(task) FOR UPDATE OF t, e
            """, logger: logger)
        for try await row in rows {
            let row = row.makeRandomAccess()
            guard try row.value("status", as: String.self) == "waiting", try row.value("pending", as: Int64.self) == 0 else {
                return
            }
            let execution: UUID = try row.value("execution_id")
            let queue: UUID = try row.value("queue_id")
            try await connection.query(
                "UPDATE tasks SET status = 'queued', available_at = now() WHERE id = \(task)", logger: logger)
            try await ExecutionJournal(connection: connection, logger: logger).transition(
                execution: execution, from: try row.value("execution_status"), to: .queued,
                turn: Int(try row.value("turn_number", as: Int32.self)),
                reason: "approvals decided (\(try row.value("summary", as: String?.self) ?? "")); the turn goes on",
                decider: decider)
            try await Notifications.send(Notifications.task(queue: queue), on: connection, logger: logger)
        }
    }

    /// The sweeper's part: expired approvals count as denied; their tasks go on.
    static func expireOverdue(database: Database, logger: Logger) async throws -> Int {
        let expired = try await database.withoutTenant { connection in
            let rows = try await connection.query("SELECT organization_id, task_id FROM bosun_expire_approvals()", logger: logger)
            var items: [(UUID, UUID)] = []
            for try await (organization, task) in rows.decode((UUID, UUID).self) { items.append((organization, task)) }
            return items
        }
        for (organization, task) in Set(expired.map { Pair($0.0, $0.1) }).map({ ($0.a, $0.b) }) {
            try await database.withTenant(organization) { connection in
                try await settle(task: task, decider: "system", on: connection, logger: logger)
            }
        }
        return expired.count
    }

    private struct Pair: Hashable {
        let a: UUID
        let b: UUID
        init(_ a: UUID, _ b: UUID) {
            self.a = a
            self.b = b
        }
    }

    /// Decided approvals of a task, for its next attempt.
    static func resolutions(task: UUID, on connection: PostgresConnection, logger: Logger) async throws
        -> [ApprovalResolution]
    {
        let rows = try await connection.query(
            """
            SELECT tool_call_id, tool_name, status, decision_reason, decided_by FROM approvals
            WHERE task_id = \(task) AND status <> 'pending' ORDER BY requested_at, tool_call_id
            """, logger: logger)
        var items: [ApprovalResolution] = []
        for try await (call, name, status, reason, by) in rows.decode((String, String, String, String?, String?).self) {
            items.append(
                ApprovalResolution(
                    toolCallId: call, toolName: name, status: ApprovalStatus(rawValue: status) ?? .denied, reason: reason,
                    decidedBy: by))
        }
        return items
    }
}
