import BosunProtocol
import Foundation
import Logging

/// The worker has been removed by the control API (deregistered or marked lost): its token
/// cannot be refreshed and it must register again as a new worker.
struct WorkerGone: Error, CustomStringConvertible {
    let detail: String
    var description: String { "the control API no longer knows this worker: \(detail)" }
}

/// A failure retrying cannot fix: a refused API key, a queue that does not exist, a bad request.
public struct WorkerFatalError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Who this worker is to the control API: its registration and current token. Calls made with
/// `withToken` survive token expiry and revocation: the first 401 refreshes the token once (for
/// every caller at the same time) and the call is made again.
actor WorkerSession {
    nonisolated let client: ControlClient
    nonisolated let configuration: WorkerConfiguration
    let logger: Logger
    private(set) var registration: WorkerRegistrationResponse?
    private var token: String = ""
    private var refreshing: Task<Void, any Error>?
    private var registrationRequest: WorkerRegistrationRequest

    init(client: ControlClient, configuration: WorkerConfiguration, request: WorkerRegistrationRequest, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.registrationRequest = request
        self.logger = logger
    }

    var workerId: UUID? { registration?.workerId }

    func updateSystem(_ system: JSONValue) { registrationRequest.system = system }

    /// Registers, retrying with backoff and jitter while the control API is unreachable. A refused
    /// key or a bad request is fatal: retrying would only hide the mistake.
    @discardableResult
    func register() async throws -> WorkerRegistrationResponse {
        var attempt = 0
        while true {
            do {
                let reply = try await client.register(apiKey: configuration.apiKey, registrationRequest)
                registration = reply
                token = reply.token
                logger.info(
                    "registered",
                    metadata: [
                        "bosun.worker.id": "\(reply.workerId.lowercased)", "bosun.queue": "\(reply.queue.name)",
                        "bosun.org.id": "\(reply.queue.organizationId.lowercased)",
                    ])
                return reply
            } catch let error as ControlAPIError where !error.isTransient {
                switch error.kind {
                case .unauthorized:
                    throw WorkerFatalError(
                        description: "the control API refused the API key (\(error.detail)); check BOSUN_API_KEY")
                case .forbidden:
                    throw WorkerFatalError(description: "registration was refused: \(error.detail)")
                case .notFound:
                    throw WorkerFatalError(description: "registration failed: \(error.detail); check BOSUN_QUEUE_ID")
                default:
                    throw WorkerFatalError(description: "registration was rejected: \(error.detail)")
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                attempt += 1
                let delay = Backoff.delay(attempt: attempt, base: .milliseconds(500), cap: .seconds(30))
                logger.warning(
                    "cannot register yet; retrying",
                    metadata: ["error": "\(error)", "attempt": "\(attempt)", "retry_in_ms": "\(delay / .milliseconds(1))"])
                try await Task.sleep(for: delay)
            }
        }
    }

    /// Runs `body` with the current token; on 401 refreshes the token and runs it once more.
    func withToken<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let used = token
        do {
            return try await body(used)
        } catch let error as ControlAPIError where error.kind == .unauthorized {
            try await refresh(replacing: used)
            return try await body(token)
        }
    }

    /// A new token for the same worker, once, however many callers saw the old one fail.
    func refresh(replacing stale: String) async throws {
        if token != stale { return }
        if let refreshing {
            try await refreshing.value
            return
        }
        guard let worker = registration?.workerId else { throw WorkerGone(detail: "not registered") }
        let task = Task {
            do {
                let reply = try await client.refreshToken(apiKey: configuration.apiKey, worker: worker)
                self.install(reply)
            } catch let error as ControlAPIError where error.kind == .notFound || error.kind == .unauthorized || error.kind == .conflict {
                throw WorkerGone(detail: error.detail)
            }
        }
        refreshing = task
        defer { refreshing = nil }
        try await task.value
    }

    private func install(_ reply: WorkerTokenResponse) {
        guard reply.workerId == registration?.workerId else { return }
        token = reply.token
        registration?.token = reply.token
        registration?.tokenExpiresAt = reply.tokenExpiresAt
        // Without a new Redis login (Redis still unreachable from the control API) keep the old
        // settings: the next refused login asks again, so heartbeats come back once Redis does.
        if reply.heartbeat.redisUrl != nil || registration?.heartbeat.redisUrl == nil {
            registration?.heartbeat = reply.heartbeat
        }
        logger.info("worker token refreshed", metadata: ["bosun.worker.id": "\(reply.workerId.lowercased)"])
    }

    /// Refreshes ahead of expiry so running tasks never meet an expired token.
    func refreshIfExpiring(within margin: TimeInterval) async throws {
        guard let expires = registration?.tokenExpiresAt, expires.timeIntervalSinceNow < margin else { return }
        try await refresh(replacing: token)
    }

    /// Redis refused the heartbeat login (it restarts without ACL users): a token refresh also
    /// brings a new Redis credential.
    func renewHeartbeatAccess() async throws {
        try await refresh(replacing: token)
    }
}
