import BosunProtocol
import Foundation
import Logging
import PostgresNIO
import Redis
import ServiceLifecycle

/// Finds workers that stopped heartbeating and re-queues their tasks at once; lease expiry stays
/// the backstop. Liveness comes from Redis (the light heartbeat key's TTL); when Redis cannot be
/// read it falls back to PostgreSQL's `last_seen_at`, which polls and lease renewals keep fresh.
/// Safe in every control API process: marking a worker lost is a conditional UPDATE, so only one
/// process acts on it.
public struct WorkerSweeper: Service {
    let database: Database
    let redis: RedisConnection?
    let configuration: ControlConfiguration
    let logger: Logger
    let schema: SchemaReady?

    public init(
        database: Database, redis: RedisConnection?, configuration: ControlConfiguration, schema: SchemaReady? = nil,
        logger: Logger
    ) {
        self.database = database
        self.redis = redis
        self.configuration = configuration
        self.schema = schema
        self.logger = logger
    }

    public func run() async throws {
        await schema?.wait()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                _ = try await sweep()
            } catch {
                logger.warning("worker sweep failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: configuration.workerSweepInterval) }
        }
    }

    struct Candidate {
        var worker: UUID
        var organization: UUID
        var queue: UUID
        var heartbeatRedis: Bool
        var registeredAt: Date
        var lastSeenAt: Date
        var keys: HeartbeatKeys
    }

    /// The heartbeat key's TTL plus a margin.
    var heartbeatGrace: TimeInterval { configuration.heartbeatTTL + 1 }
    /// Without Redis: the longest a healthy worker goes without touching PostgreSQL, plus the TTL.
    var lastSeenGrace: TimeInterval {
        max(configuration.pollFallbackInterval.seconds, configuration.leaseRenewInterval.seconds) + heartbeatGrace
    }

    /// One sweep; returns the workers it marked lost.
    ///
    /// A worker is lost when its heartbeat key is gone AND PostgreSQL has not seen it (poll or
    /// lease renewal) for longer than the key's TTL. Requiring both keeps a Redis restart, which
    /// empties every key at once, from condemning healthy workers; a dead worker meets both within
    /// TTL + margin + one sweep interval.
    @discardableResult
    public func sweep() async throws -> [UUID] {
        let candidates = try await database.withoutTenant { connection -> [Candidate] in
            let rows = try await connection.query(
                """
                SELECT worker_id, organization_id, queue_id, heartbeat_redis, registered_at, last_seen_at
                FROM bosun_live_workers()
                """, logger: logger)
            var candidates: [Candidate] = []
            for try await (worker, organization, queue, heartbeatRedis, registered, lastSeen) in rows.decode(
                (UUID, UUID, UUID, Bool, Date, Date).self)
            {
                let prefix = "\(configuration.heartbeatKeyPrefix):\(TaskQueue.wireName(organizationId: organization, queueId: queue))"
                candidates.append(
                    Candidate(
                        worker: worker, organization: organization, queue: queue, heartbeatRedis: heartbeatRedis,
                        registeredAt: registered, lastSeenAt: lastSeen, keys: HeartbeatKeys(prefix: prefix, workerId: worker)))
            }
            return candidates
        }
        let now = Date()
        // Only workers PostgreSQL has not seen lately are worth a Redis look.
        let stale = candidates.filter { now.timeIntervalSince($0.lastSeenAt) > heartbeatGrace }
        var lost: [(Candidate, String)] = []
        let heartbeating = stale.filter(\.heartbeatRedis)
        var alive = Set<UUID>()
        var redisAnswered = redis != nil && heartbeating.isEmpty
        if let redis, !heartbeating.isEmpty {
            do {
                let replies = try await redis.pipeline(heartbeating.map { ["EXISTS", $0.keys.light] })
                redisAnswered = true
                for (candidate, reply) in zip(heartbeating, replies) where reply != .integer(0) {
                    alive.insert(candidate.worker)
                }
            } catch {
                logger.warning(
                    "Redis unreadable; judging worker liveness by PostgreSQL last-seen", metadata: ["error": "\(error)"])
            }
        }
        for candidate in stale where !alive.contains(candidate.worker) {
            let silent = now.timeIntervalSince(candidate.lastSeenAt)
            if candidate.heartbeatRedis && redisAnswered {
                lost.append((candidate, "no heartbeat and not seen for \(Int(silent)) s"))
            } else if silent > lastSeenGrace {
                lost.append((candidate, "not seen for \(Int(silent)) s (heartbeats unavailable)"))
            }
        }
        var marked: [UUID] = []
        for (candidate, why) in lost {
            do {
                if try await markLost(candidate, why: why) { marked.append(candidate.worker) }
            } catch {
                logger.error(
                    "could not mark a worker lost",
                    metadata: ["bosun.worker.id": "\(candidate.worker.lowercased)", "error": "\(String(reflecting: error))"])
            }
        }
        return marked
    }

    private func markLost(_ candidate: Candidate, why: String) async throws -> Bool {
        let removed = try await database.withTenant(candidate.organization) { connection -> WorkerRemoval.Removed? in
            guard
                let removed = try await WorkerRemoval(connection: connection, logger: logger).remove(
                    worker: candidate.worker, status: "lost", reason: "worker lost (\(why))")
            else { return nil }
            try await ExecutionJournal(connection: connection, logger: logger).audit(
                actor: "system:worker-sweeper", action: "worker.lost", targetType: "worker", targetId: candidate.worker,
                details: ["reason": .string(why), "requeued_tasks": .number(Double(removed.requeued))])
            return removed
        }
        guard let removed else { return false }
        logger.warning(
            "worker lost; its tasks were re-queued",
            metadata: [
                "bosun.worker.id": "\(candidate.worker.lowercased)", "bosun.org.id": "\(candidate.organization.lowercased)",
                "reason": "\(why)", "requeued_tasks": "\(removed.requeued)",
            ])
        if let redis {
            await WorkerRedisAccess(redis: redis, logger: logger).revoke(worker: candidate.worker, keys: candidate.keys)
        }
        return true
    }
}
