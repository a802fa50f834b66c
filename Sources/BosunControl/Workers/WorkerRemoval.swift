import BosunProtocol
import Foundation
import Logging
import PostgresNIO

/// Takes a worker out of service — deregistered by itself or an admin, or found lost — and gives
/// its leased tasks back to the queue at once instead of waiting for their leases to expire.
/// Runs inside the worker's tenant transaction.
struct WorkerRemoval {
    let connection: PostgresConnection
    let logger: Logger

    struct Removed {
        var tokenHash: [UInt8]
        var queue: UUID
        var requeued: Int
    }

    /// nil when the worker is unknown here or was already removed.
    func remove(worker: UUID, status: String, reason: String) async throws -> Removed? {
        let rows = try await connection.query(
            """
            UPDATE workers SET status = \(status), token_expires_at = now() WHERE id = \(worker)
              AND status IN ('active', 'draining')
            RETURNING token_hash, queue_id
            """, logger: logger)
        var found: ([UInt8], UUID)?
        for try await (hash, queue) in rows.decode((ByteBuffer, UUID).self) { found = (Array(buffer: hash), queue) }
        guard let (hash, queue) = found else { return nil }
        let requeued = try await connection.query(
            """
            UPDATE tasks SET status = 'queued', lease_id = NULL, lease_expires_at = NULL, worker_id = NULL,
                available_at = now(), last_error = \(reason) || ' on attempt ' || attempts
            WHERE worker_id = \(worker) AND status = 'leased'
            RETURNING execution_id, queue_id, turn_number
            """, logger: logger)
        let journal = ExecutionJournal(connection: connection, logger: logger)
        var queues = Set<UUID>()
        var count = 0
        for try await (execution, taskQueue, turn) in requeued.decode((UUID, UUID, Int32).self) {
            queues.insert(taskQueue)
            count += 1
            try await journal.transition(
                execution: execution, from: ExecutionStatus.running.rawValue, to: .queued, turn: Int(turn),
                reason: "\(reason); re-queued", decider: "system")
        }
        for taskQueue in queues {
            try await Notifications.send(Notifications.task(queue: taskQueue), on: connection, logger: logger)
        }
        try await Notifications.send(Notifications.drain(worker: worker), on: connection, logger: logger)
        try await Notifications.send(Notifications.revoke(hash: hash), on: connection, logger: logger)
        return Removed(tokenHash: hash, queue: queue, requeued: count)
    }
}
