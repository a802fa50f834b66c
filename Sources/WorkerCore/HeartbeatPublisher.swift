import BosunLogging
import BosunProtocol
import BosunSystem
import Foundation
import Logging
import Redis

/// The two-level heartbeat: light (one pipelined round trip every light interval) and full
/// (system metrics, GPUs, runtime versions, log tail, every full interval). Redis trouble never
/// touches task work: failures are logged, the connection is rebuilt, and the next beat retries
/// sooner until it gets through.
actor HeartbeatPublisher {
    let session: WorkerSession
    let state: WorkerState
    let sampler: SystemSampler
    let gpus: GPUProbe
    let ring: LogRing
    let runtimes: [String: String]
    let workDirectory: String
    let hostname: String
    let logger: Logger

    private var connection: RedisConnection?
    private var connectionKey: String?
    private var failures = 0
    private var lastAccessRenewal: ContinuousClock.Instant?

    init(
        session: WorkerSession, state: WorkerState, sampler: SystemSampler, gpus: GPUProbe, ring: LogRing,
        runtimes: [String: String], workDirectory: String, hostname: String, logger: Logger
    ) {
        self.session = session
        self.state = state
        self.sampler = sampler
        self.gpus = gpus
        self.ring = ring
        self.runtimes = runtimes
        self.workDirectory = workDirectory
        self.hostname = hostname
        self.logger = logger
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.loop(full: false) }
            group.addTask { await self.loop(full: true) }
        }
    }

    private func loop(full: Bool) async {
        while !Task.isCancelled {
            guard let registration = await session.registration else {
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            let settings = registration.heartbeat
            let interval = full ? settings.fullIntervalS : settings.lightIntervalS
            var delay = Duration.milliseconds(Int64(max(interval, 0.1) * 1000))
            if settings.redisUrl != nil {
                let ok = full ? await beatFull(registration) : await beatLight(registration)
                if !ok {
                    // Reconnect sooner than the interval, backing off, so heartbeats resume fast.
                    delay = min(delay, Backoff.delay(attempt: failures, base: .milliseconds(250), cap: .seconds(5)))
                }
            }
            try? await Task.sleep(for: delay)
        }
    }

    private func redis(for registration: WorkerRegistrationResponse) throws -> RedisConnection {
        let settings = registration.heartbeat
        guard let text = settings.redisUrl else { throw RedisError("no Redis configured") }
        let key = "\(text)|\(settings.username ?? "")|\(settings.password ?? "")|\(registration.workerId)"
        if let connection, connectionKey == key { return connection }
        var url = try RedisURL(text)
        url.username = settings.username
        url.password = settings.password
        let connection = RedisConnection(url: url, timeout: .seconds(2))
        self.connection = connection
        connectionKey = key
        return connection
    }

    func beatLight(_ registration: WorkerRegistrationResponse) async -> Bool {
        let keys = HeartbeatKeys(prefix: registration.heartbeat.keyPrefix, workerId: registration.workerId)
        let now = Date()
        let status = await state.status
        let active = await state.active.count
        let free = await state.freeSlots
        let ttl = max(Int(registration.heartbeat.ttlS.rounded(.up)), 1)
        let commands: [[String]] = [
            [
                "HSET", keys.light, "status", status, "active_tasks", String(active), "free_slots", String(free),
                "slots", String(state.slots), "last_seen", WireCoding.formatDate(now),
                "last_seen_ms", String(Int64(now.timeIntervalSince1970 * 1000)), "hostname", hostname,
                "version", WorkerVersion.current, "queue_id", registration.queue.id.uuidString.lowercased(),
            ],
            ["EXPIRE", keys.light, String(ttl)],
            ["ZADD", keys.queueWorkers, String(Double(Int64(now.timeIntervalSince1970 * 1000)) / 1000), registration.workerId.uuidString.lowercased()],
        ]
        return await send(commands, what: "light heartbeat", registration: registration)
    }

    func beatFull(_ registration: WorkerRegistrationResponse) async -> Bool {
        let keys = HeartbeatKeys(prefix: registration.heartbeat.keyPrefix, workerId: registration.workerId)
        let report = await fullReport()
        guard let data = try? WireCoding.encode(report) else { return false }
        let ttl = max(Int((registration.heartbeat.fullIntervalS * 3).rounded(.up)), 1)
        return await send(
            [["SET", keys.full, String(decoding: data, as: UTF8.self), "EX", String(ttl)]], what: "full heartbeat",
            registration: registration)
    }

    /// Removes this worker's keys before it deregisters, so nobody reads a leaving worker as alive.
    func clear() async {
        guard let registration = await session.registration, registration.heartbeat.redisUrl != nil else { return }
        let keys = HeartbeatKeys(prefix: registration.heartbeat.keyPrefix, workerId: registration.workerId)
        _ = await send(
            [["DEL", keys.light, keys.full], ["ZREM", keys.queueWorkers, registration.workerId.uuidString.lowercased()]],
            what: "heartbeat removal", registration: registration)
    }

    /// What the full heartbeat carries. Probes run off this actor with their own timeouts.
    func fullReport() async -> FullHeartbeat {
        let directory = workDirectory
        let sampler = self.sampler
        let system = await Task.detached { sampler.sample(workDirectory: directory) }.value
        return FullHeartbeat(
            at: Date(), status: await state.status, activeTasks: await state.active.count, slots: state.slots,
            completedTasks: await state.completed, system: system, gpus: await gpus.probe(), runtimes: runtimes,
            version: WorkerVersion.current, logTail: ring.tail(100))
    }

    private func send(
        _ commands: [[String]], what: String, registration: WorkerRegistrationResponse
    ) async -> Bool {
        do {
            let connection = try redis(for: registration)
            let replies = try await connection.pipeline(commands)
            for case .error(let message) in replies { throw RedisError(message) }
            if failures > 0 {
                logger.info("heartbeats resumed", metadata: ["after_failures": "\(failures)"])
            }
            failures = 0
            return true
        } catch {
            failures += 1
            let text = "\(error)"
            if text.contains("WRONGPASS") || text.contains("NOAUTH") || text.contains("NOPERM"),
                lastAccessRenewal.map({ ContinuousClock.now - $0 > .seconds(5) }) ?? true
            {
                lastAccessRenewal = .now
                logger.info("Redis refused the heartbeat login; asking the control API for a new one")
                do {
                    try await session.renewHeartbeatAccess()
                } catch {
                    logger.warning("could not renew the heartbeat login", metadata: ["error": "\(error)"])
                }
            }
            if failures == 1 || failures % 30 == 0 {
                logger.warning(
                    "\(what) failed; tasks keep running, retrying", metadata: ["error": "\(error)", "failures": "\(failures)"])
            }
            return false
        }
    }
}

/// The full heartbeat document (JSON under `HeartbeatKeys.full`).
struct FullHeartbeat: Encodable, Sendable {
    var at: Date
    var status: String
    var activeTasks: Int
    var slots: Int
    var completedTasks: Int
    var system: SystemSnapshot
    var gpus: GPUReport
    var runtimes: [String: String]
    var version: String
    var logTail: [String]

    enum CodingKeys: String, CodingKey {
        case at, status
        case activeTasks = "active_tasks"
        case slots
        case completedTasks = "completed_tasks"
        case system, gpus, runtimes, version
        case logTail = "log_tail"
    }
}
