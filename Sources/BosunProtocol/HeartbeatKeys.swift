import Foundation

/// Where one worker's heartbeat lives in Redis. The control API builds the same keys (and the
/// ACL that limits the worker to them) from the registration's `key_prefix`.
public struct HeartbeatKeys: Sendable, Equatable {
    public let prefix: String
    public let workerId: UUID

    public init(prefix: String, workerId: UUID) {
        self.prefix = prefix
        self.workerId = workerId
    }

    /// Hash: status, active_tasks, free_slots, slots, last_seen ... (light heartbeat).
    public var light: String { "\(prefix):worker:\(workerId.uuidString.lowercased())" }
    /// String: JSON system report (full heartbeat).
    public var full: String { light + ":full" }
    /// Sorted set of the queue's workers scored by last-seen time (unix seconds).
    public var queueWorkers: String { "\(prefix):workers" }
}
