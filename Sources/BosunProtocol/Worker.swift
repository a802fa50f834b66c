import Foundation

/// A registered worker as `GET /api/v1/workers` lists it.
public struct WorkerInfo: Codable, Sendable, Equatable {
    public var id: UUID
    public var organizationId: UUID
    public var queueId: UUID
    public var hostname: String
    public var version: String
    public var slots: Int
    public var runtimes: [String]
    public var labels: [String: String]
    public var status: String
    public var registeredAt: Date
    public var lastSeenAt: Date
    /// Live state from the light heartbeat (or from PostgreSQL when Redis cannot be read).
    public var live: WorkerLiveStatus?
    /// The latest full heartbeat: system metrics, GPUs, runtime versions, log tail.
    public var fullHeartbeat: JSONValue?

    public init(
        id: UUID, organizationId: UUID, queueId: UUID, hostname: String, version: String, slots: Int,
        runtimes: [String], labels: [String: String], status: String, registeredAt: Date, lastSeenAt: Date
    ) {
        self.id = id
        self.organizationId = organizationId
        self.queueId = queueId
        self.hostname = hostname
        self.version = version
        self.slots = slots
        self.runtimes = runtimes
        self.labels = labels
        self.status = status
        self.registeredAt = registeredAt
        self.lastSeenAt = lastSeenAt
    }

    /// The same worker with its live state filled in.
    public func with(live: WorkerLiveStatus?, fullHeartbeat: JSONValue?) -> WorkerInfo {
        var copy = self
        copy.live = live
        copy.fullHeartbeat = fullHeartbeat
        return copy
    }

    enum CodingKeys: String, CodingKey {
        case id
        case organizationId = "organization_id"
        case queueId = "queue_id"
        case hostname, version, slots, runtimes, labels, status
        case registeredAt = "registered_at"
        case lastSeenAt = "last_seen_at"
        case live
        case fullHeartbeat = "full_heartbeat"
    }
}

/// What a worker's light heartbeat says right now.
public struct WorkerLiveStatus: Codable, Sendable, Equatable {
    /// idle, busy or draining from the heartbeat; `unknown` without one.
    public var state: String
    public var activeTasks: Int?
    public var freeSlots: Int?
    public var lastHeartbeatAt: Date?
    /// `redis` (the heartbeat) or `postgres` (last poll or renewal, when Redis cannot be read).
    public var source: String

    public init(state: String, activeTasks: Int?, freeSlots: Int?, lastHeartbeatAt: Date?, source: String) {
        self.state = state
        self.activeTasks = activeTasks
        self.freeSlots = freeSlots
        self.lastHeartbeatAt = lastHeartbeatAt
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case state
        case activeTasks = "active_tasks"
        case freeSlots = "free_slots"
        case lastHeartbeatAt = "last_heartbeat_at"
        case source
    }
}
