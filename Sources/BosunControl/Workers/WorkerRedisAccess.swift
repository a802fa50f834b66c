import BosunProtocol
import Foundation
import Logging
import Redis

/// Per-worker Redis users (Redis ACL): each worker gets a user that can write only its own
/// heartbeat keys and its entry in its queue's sorted set, with only the commands heartbeats use.
/// No worker ever holds the control API's Redis credential.
struct WorkerRedisAccess: Sendable {
    let redis: RedisConnection
    let logger: Logger

    struct Grant: Sendable {
        var username: String
        var password: String
    }

    static func username(for worker: UUID) -> String { "bosun-worker-\(worker.uuidString.lowercased())" }

    /// Creates (or replaces) the worker's Redis user.
    func grant(worker: UUID, keys: HeartbeatKeys) async throws -> Grant {
        let username = Self.username(for: worker)
        let password = Credential.randomBase62(count: 40)
        let reply = try await redis.command([
            "ACL", "SETUSER", username, "reset", "on", ">\(password)",
            "~\(Self.escapeGlob(keys.light))*", "~\(Self.escapeGlob(keys.queueWorkers))",
            "-@all", "+hset", "+expire", "+zadd", "+zrem", "+set", "+del", "+ping", "+select",
        ])
        if case .error(let message) = reply { throw RedisError("ACL SETUSER refused: \(message)") }
        return Grant(username: username, password: password)
    }

    /// Removes the worker's user and its heartbeat keys (deregistered or lost).
    func revoke(worker: UUID, keys: HeartbeatKeys) async {
        do {
            let replies = try await redis.pipeline([
                ["ACL", "DELUSER", Self.username(for: worker)],
                ["DEL", keys.light, keys.full],
                ["ZREM", keys.queueWorkers, worker.uuidString.lowercased()],
            ])
            for case .error(let message) in replies { throw RedisError(message) }
        } catch {
            logger.warning(
                "could not remove a worker's Redis user",
                metadata: ["bosun.worker.id": "\(worker.uuidString.lowercased())", "error": "\(error)"])
        }
    }

    /// Key patterns are globs; ids and prefixes must match themselves only.
    static func escapeGlob(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
