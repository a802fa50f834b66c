import BosunProtocol
import Foundation
import Logging
import PostgresNIO

/// Writes what happened to an execution: its status, the recorded transition and the matching
/// event, always together and inside the caller's transaction.
struct ExecutionJournal {
    let connection: PostgresConnection
    let logger: Logger

    /// Appends events with the next per-execution sequence numbers and wakes SSE subscribers.
    /// Returns the sequence number of the last one.
    @discardableResult
    func appendEvents(
        execution: UUID, events: [(type: String, data: JSONValue, ts: Date?)], taskId: UUID? = nil,
        attempt: Int? = nil
    ) async throws -> Int64 {
        guard !events.isEmpty else { return 0 }
        // The counter row lock orders concurrent appenders; sequence numbers stay gap-free.
        let rows = try await connection.execute(
            ReserveEventSeqsStatement(count: events.count, execution: execution), logger: logger)
        var last: Int64 = 0
        for try await value in rows { last = value }
        let first = last - Int64(events.count) + 1
        let seqs = (0..<Int64(events.count)).map { first + $0 }
        let types = events.map(\.type)
        let datas = events.map(\.data.jsonText)
        let now = Date()
        let stamps = events.map { $0.ts ?? now }
        let inserted = try await connection.execute(
            InsertEventsStatement(
                bindings: try binds(execution, taskId, attempt, seqs, types, datas, stamps)), logger: logger)
        for try await _ in inserted {}
        try await Notifications.send(Notifications.event(execution: execution), on: connection, logger: logger)
        return last
    }

    /// Moves the execution to `to`, recording the transition and a `status` event.
    func transition(
        execution: UUID, from: String, to: ExecutionStatus, turn: Int?, reason: String, decider: String,
        confidence: Double? = nil, latencyMs: Double? = nil, output: String? = nil, error: String? = nil
    ) async throws {
        try await connection.execute(
            Prepared(SetStatusSQL.self, try binds(to.rawValue, output, error, to.isTerminal, execution)), logger: logger
        ).consume()
        try await recordTransition(
            execution: execution, from: from, to: to.rawValue, turn: turn, reason: reason, decider: decider,
            confidence: confidence, latencyMs: latencyMs)
        var data: [String: JSONValue] = ["status": .string(to.rawValue), "reason": .string(reason)]
        if let error { data["error"] = .string(error) }
        if let turn { data["turn"] = .number(Double(turn)) }
        try await appendEvents(execution: execution, events: [("status", .object(data), nil)])
    }

    func recordTransition(
        execution: UUID, from: String, to: String, turn: Int?, reason: String, decider: String,
        confidence: Double? = nil, latencyMs: Double? = nil
    ) async throws {
        try await connection.execute(
            Prepared(
                InsertTransitionSQL.self, try binds(execution, turn, from, to, reason, decider, confidence, latencyMs)),
            logger: logger
        ).consume()
    }

    func audit(actor: String, action: String, targetType: String, targetId: UUID?, details: JSONValue = [:])
        async throws
    {
        try await connection.query(
            """
            INSERT INTO audit_log (organization_id, actor, action, target_type, target_id, details)
            VALUES (bosun_current_org(), \(actor), \(action), \(targetType), \(targetId?.uuidString.lowercased()),
                    \(details.jsonText)::jsonb)
            """, logger: logger)
    }

    /// Queues a task for a turn and wakes a poller of its queue.
    func enqueueTask(
        execution: UUID, queue: UUID, turn: Int, input: JSONValue, maxAttempts: Int
    ) async throws -> UUID {
        let rows = try await connection.execute(
            Prepared(EnqueueTaskSQL.self, try binds(execution, queue, turn, input.jsonText, maxAttempts)), logger: logger)
        var id: UUID?
        for try await row in rows { id = try row.decode(UUID.self) }
        try await Notifications.send(Notifications.task(queue: queue), on: connection, logger: logger)
        guard let id else { throw APIError(.internalServerError, "internal", "the task was not created") }
        return id
    }
}

/// Takes `count` event sequence numbers of an execution; the row lock orders concurrent appenders.
struct ReserveEventSeqsStatement: PostgresPreparedStatement {
    static let sql = "UPDATE executions SET event_seq = event_seq + $1::bigint WHERE id = $2::uuid RETURNING event_seq"
    typealias Row = Int64
    var count: Int
    var execution: UUID
    func makeBindings() throws -> PostgresBindings { try binds(count, execution) }
    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// The control API's own events in one statement (a worker's go through `bosun_append_events`).
struct InsertEventsStatement: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO execution_events (organization_id, execution_id, seq, task_id, attempt, type, data, ts)
        SELECT bosun_current_org(), $1::uuid, s.seq, $2::uuid, $3::bigint, s.type, s.data::jsonb, s.ts
        FROM unnest($4::bigint[], $5::text[], $6::text[], $7::timestamptz[]) AS s(seq, type, data, ts)
        """
    typealias Row = Void
    let bindings: PostgresBindings
    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws {}
}

enum SetStatusSQL: PreparedSQL {
    static let sql = """
        UPDATE executions SET status = $1::text, updated_at = now(),
            output = COALESCE($2::text, output), error = COALESCE($3::text, error),
            completed_at = CASE WHEN $4::boolean THEN now() ELSE NULL END
        WHERE id = $5::uuid
        """
}

enum InsertTransitionSQL: PreparedSQL {
    static let sql = """
        INSERT INTO state_transitions (organization_id, execution_id, turn_number, from_status, to_status, reason,
                                       decider, confidence, latency_ms)
        VALUES (bosun_current_org(), $1::uuid, $2::bigint, $3::text, $4::text, $5::text, $6::text, $7::float8, $8::float8)
        """
}

enum EnqueueTaskSQL: PreparedSQL {
    static let sql = """
        INSERT INTO tasks (organization_id, execution_id, queue_id, turn_number, status, input, max_attempts)
        VALUES (bosun_current_org(), $1::uuid, $2::uuid, $3::bigint, 'queued', $4::text::jsonb, $5::bigint)
        RETURNING id
        """
}
