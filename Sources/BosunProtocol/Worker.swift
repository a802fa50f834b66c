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

    enum CodingKeys: String, CodingKey {
        case id
        case organizationId = "organization_id"
        case queueId = "queue_id"
        case hostname, version, slots, runtimes, labels, status
        case registeredAt = "registered_at"
        case lastSeenAt = "last_seen_at"
    }
}
