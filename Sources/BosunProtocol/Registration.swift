import Foundation

/// `POST /api/v1/workers/register`, sent with a worker-scoped API key.
public struct WorkerRegistrationRequest: Codable, Sendable, Equatable {
    public var queueId: UUID
    public var hostname: String
    public var version: String
    public var slots: Int
    public var runtimes: [String]
    public var labels: [String: String]
    public var system: JSONValue

    public init(
        queueId: UUID, hostname: String, version: String, slots: Int, runtimes: [String],
        labels: [String: String] = [:], system: JSONValue = [:]
    ) {
        self.queueId = queueId
        self.hostname = hostname
        self.version = version
        self.slots = slots
        self.runtimes = runtimes
        self.labels = labels
        self.system = system
    }

    enum CodingKeys: String, CodingKey {
        case queueId = "queue_id"
        case hostname, version, slots, runtimes, labels, system
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.queueId = try c.decode(UUID.self, forKey: .queueId)
        self.hostname = try c.decode(String.self, forKey: .hostname)
        self.version = try c.decodeIfPresent(String.self, forKey: .version) ?? "unknown"
        self.slots = try c.decodeIfPresent(Int.self, forKey: .slots) ?? 1
        self.runtimes = try c.decodeIfPresent([String].self, forKey: .runtimes) ?? []
        self.labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        self.system = try c.decodeIfPresent(JSONValue.self, forKey: .system) ?? [:]
    }
}

/// The registration reply: who the worker is and the intervals the server wants it to use.
public struct WorkerRegistrationResponse: Codable, Sendable, Equatable {
    public var workerId: UUID
    public var token: String
    public var tokenExpiresAt: Date
    public var queue: QueueInfo
    public var heartbeat: HeartbeatSettings
    public var poll: PollSettings
    public var lease: LeaseSettings
    public var llm: LLMSettings
    /// What this control API supports beyond the first protocol (`ControlFeature`); absent from
    /// an older control API, so a newer worker falls back to what that one understands.
    public var features: [String]?

    public init(
        workerId: UUID, token: String, tokenExpiresAt: Date, queue: QueueInfo, heartbeat: HeartbeatSettings,
        poll: PollSettings, lease: LeaseSettings, llm: LLMSettings, features: [String]? = nil
    ) {
        self.workerId = workerId
        self.token = token
        self.tokenExpiresAt = tokenExpiresAt
        self.queue = queue
        self.heartbeat = heartbeat
        self.poll = poll
        self.lease = lease
        self.llm = llm
        self.features = features
    }

    public func supports(_ feature: ControlFeature) -> Bool { features?.contains(feature.rawValue) ?? false }

    enum CodingKeys: String, CodingKey {
        case workerId = "worker_id"
        case token
        case tokenExpiresAt = "token_expires_at"
        case queue, heartbeat, poll, lease, llm, features
    }
}

/// Protocol additions a control API announces at registration. A worker uses one only when it
/// is announced: an older control API ignores fields it does not know, so sending them blindly
/// could lose data.
public enum ControlFeature: String, Sendable, CaseIterable {
    /// `CompleteTaskRequest.events`: the completion stores the attempt's last events.
    case completeCarriesEvents = "complete-events"
}

public struct QueueInfo: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var wireName: String
    public var environmentId: UUID?
    public var organizationId: UUID

    public init(id: UUID, name: String, wireName: String, environmentId: UUID?, organizationId: UUID) {
        self.id = id
        self.name = name
        self.wireName = wireName
        self.environmentId = environmentId
        self.organizationId = organizationId
    }

    enum CodingKeys: String, CodingKey {
        case id, name
        case wireName = "wire_name"
        case environmentId = "environment_id"
        case organizationId = "organization_id"
    }
}

public struct HeartbeatSettings: Codable, Sendable, Equatable {
    public var redisUrl: String?
    public var username: String?
    public var password: String?
    public var keyPrefix: String
    public var lightIntervalS: Double
    public var fullIntervalS: Double
    public var ttlS: Double

    public init(
        redisUrl: String?, username: String?, password: String?, keyPrefix: String, lightIntervalS: Double,
        fullIntervalS: Double, ttlS: Double
    ) {
        self.redisUrl = redisUrl
        self.username = username
        self.password = password
        self.keyPrefix = keyPrefix
        self.lightIntervalS = lightIntervalS
        self.fullIntervalS = fullIntervalS
        self.ttlS = ttlS
    }

    enum CodingKeys: String, CodingKey {
        case redisUrl = "redis_url"
        case username, password
        case keyPrefix = "key_prefix"
        case lightIntervalS = "light_interval_s"
        case fullIntervalS = "full_interval_s"
        case ttlS = "ttl_s"
    }
}

public struct PollSettings: Codable, Sendable, Equatable {
    public var maxWaitS: Double
    public init(maxWaitS: Double) { self.maxWaitS = maxWaitS }
    enum CodingKeys: String, CodingKey { case maxWaitS = "max_wait_s" }
}

public struct LeaseSettings: Codable, Sendable, Equatable {
    public var durationS: Double
    public var renewIntervalS: Double
    public init(durationS: Double, renewIntervalS: Double) {
        self.durationS = durationS
        self.renewIntervalS = renewIntervalS
    }
    enum CodingKeys: String, CodingKey {
        case durationS = "duration_s"
        case renewIntervalS = "renew_interval_s"
    }
}

public struct LLMSettings: Codable, Sendable, Equatable {
    public var baseUrl: String?
    public var defaultModel: String?
    public var fallbacks: [String]
    public init(baseUrl: String?, defaultModel: String?, fallbacks: [String]) {
        self.baseUrl = baseUrl
        self.defaultModel = defaultModel
        self.fallbacks = fallbacks
    }
    enum CodingKeys: String, CodingKey {
        case baseUrl = "base_url"
        case defaultModel = "default_model"
        case fallbacks
    }
}

/// `POST /api/v1/workers/{id}/token` (with the worker's API key): a fresh token for the same
/// worker, so tasks in flight keep their leases across token expiry.
///
/// It also re-issues the worker's Redis credential: Redis does not keep ACL users across a
/// restart, so a worker whose heartbeat login is refused asks here for a new one.
public struct WorkerTokenResponse: Codable, Sendable, Equatable {
    public var workerId: UUID
    public var token: String
    public var tokenExpiresAt: Date
    public var heartbeat: HeartbeatSettings

    public init(workerId: UUID, token: String, tokenExpiresAt: Date, heartbeat: HeartbeatSettings) {
        self.workerId = workerId
        self.token = token
        self.tokenExpiresAt = tokenExpiresAt
        self.heartbeat = heartbeat
    }

    enum CodingKeys: String, CodingKey {
        case workerId = "worker_id"
        case token
        case tokenExpiresAt = "token_expires_at"
        case heartbeat
    }
}
