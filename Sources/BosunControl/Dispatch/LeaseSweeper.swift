import BosunProtocol
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Re-queues tasks whose lease expired (their worker died or hung) and dead-letters those past
/// their attempt limit. Safe to run in every control API process: the sweep claims rows with
/// SKIP LOCKED, so each expired lease is handled once.
public struct LeaseSweeper: Service {
    let database: Database
    let interval: Duration
    let logger: Logger
    let schema: SchemaReady?

    public init(database: Database, interval: Duration, schema: SchemaReady? = nil, logger: Logger) {
        self.database = database
        self.interval = interval
        self.schema = schema
        self.logger = logger
    }

    public func run() async throws {
        await schema?.wait()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                _ = try await sweep()
            } catch {
                logger.warning("lease sweep failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            do {
                // Approvals nobody decided in time count as denied; their tasks go on.
                _ = try await ApprovalStore.expireOverdue(database: database, logger: logger)
            } catch {
                logger.warning("approval expiry failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await gracefulShutdownSleep(interval)
        }
    }

    private func gracefulShutdownSleep(_ duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }

    struct Expired {
        var task: UUID
        var organization: UUID
        var queue: UUID
        var execution: UUID
        var status: String
    }

    /// One sweep; returns how many expired leases it handled.
    @discardableResult
    public func sweep() async throws -> Int {
        let expired = try await database.withoutTenant { connection -> [Expired] in
            let rows = try await connection.query(
                "SELECT task_id, organization_id, queue_id, execution_id, status FROM bosun_requeue_expired_leases()",
                logger: logger)
            var expired: [Expired] = []
            for try await (task, organization, queue, execution, status) in rows.decode(
                (UUID, UUID, UUID, UUID, String).self)
            {
                expired.append(Expired(task: task, organization: organization, queue: queue, execution: execution, status: status))
            }
            return expired
        }
        for item in expired {
            do {
                try await record(item)
            } catch {
                logger.error(
                    "could not record an expired lease",
                    metadata: ["bosun.task.id": "\(item.task.lowercased)", "error": "\(String(reflecting: error))"])
            }
        }
        return expired.count
    }

    /// Brings the execution in line with its task: back to queued, cancelled, or failed when dead.
    private func record(_ item: Expired) async throws {
        try await database.withTenant(item.organization) { connection in
            let journal = ExecutionJournal(connection: connection, logger: logger)
            let rows = try await connection.query(
                """
                SELECT e.status, e.cancel_requested, t.turn_number, t.last_error
                FROM executions e JOIN tasks t ON t.id = \(item.task) WHERE e.id = \(item.execution) FOR UPDATE OF e
                """, logger: logger)
            for try await row in rows {
                let row = row.makeRandomAccess()
                let status: String = try row.value("status")
                let cancelRequested: Bool = try row.value("cancel_requested")
                let turn = Int(try row.value("turn_number", as: Int32.self))
                let lastError: String = try row.value("last_error", as: String?.self) ?? "lease expired"
                guard let current = ExecutionStatus(rawValue: status), !current.isTerminal else { return }
                if cancelRequested {
                    try await connection.query(
                        "UPDATE tasks SET status = 'cancelled', finished_at = now() WHERE id = \(item.task)",
                        logger: logger)
                    try await journal.transition(
                        execution: item.execution, from: status, to: .cancelled, turn: turn,
                        reason: "cancelled; the worker's lease expired", decider: "system")
                } else if item.status == "dead" {
                    logger.warning(
                        "task dead-lettered",
                        metadata: ["bosun.task.id": "\(item.task.lowercased)", "bosun.execution.id": "\(item.execution.lowercased)"])
                    try await journal.transition(
                        execution: item.execution, from: status, to: .failed, turn: turn,
                        reason: "attempt limit reached; \(lastError)", decider: "system", error: lastError)
                } else {
                    logger.info(
                        "lease expired; task re-queued",
                        metadata: ["bosun.task.id": "\(item.task.lowercased)", "bosun.execution.id": "\(item.execution.lowercased)"])
                    try await journal.transition(
                        execution: item.execution, from: status, to: .queued, turn: turn, reason: lastError + "; re-queued",
                        decider: "system")
                    try await Notifications.send(Notifications.task(queue: item.queue), on: connection, logger: logger)
                }
            }
        }
    }
}
