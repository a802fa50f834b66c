import AsyncHTTPClient
import BosunProtocol
import Foundation
import NIOCore
import NIOHTTP1

/// A failed call to the control API, sorted by what the worker should do about it.
public struct ControlAPIError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The credential was refused (bad key, expired or revoked worker token).
        case unauthorized
        case forbidden
        case notFound
        /// The lease no longer holds the task (it expired, was re-queued, or another worker has it).
        case conflict
        /// Any other 4xx: our request is wrong; retrying it will not help.
        case rejected
        /// 5xx, 429, a timeout or no connection: worth retrying.
        case unavailable
    }

    public let kind: Kind
    public let status: Int?
    public let problemType: String?
    public let detail: String

    public var description: String {
        if let status { return "control API answered \(status): \(detail)" }
        return "control API unreachable: \(detail)"
    }

    public var isTransient: Bool { kind == .unavailable }
}

/// A poll ended empty because the control API is draining this worker: an operator drained it
/// (`POST /api/v1/workers/{id}/drain`), or it is draining itself.
struct WorkerDrainedByControlAPI: Error, CustomStringConvertible {
    var description: String { "the control API is draining this worker" }
}

/// The worker's side of the v1 contract (DESIGN.md, "The HTTP contract"). Holds no state but
/// the base URL; callers pass the credential, so the token can change under a running task.
public struct ControlClient: Sendable {
    public let baseURL: String
    let http: HTTPClient
    /// Bounds every call except the long poll, which gets its wait plus this.
    let requestTimeout: TimeAmount

    /// The worker's own HTTP client: connection attempts give up after 3 s (the shared client
    /// keeps trying for 10 s), so a control API that went away is noticed, and the systemd
    /// watchdog stops, within seconds instead of half a minute.
    public static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(3)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(baseURL: URL, http: HTTPClient = ControlClient.http, requestTimeout: TimeAmount = .seconds(15)) {
        var text = baseURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        self.baseURL = text
        self.http = http
        self.requestTimeout = requestTimeout
    }

    public func register(apiKey: String, _ request: WorkerRegistrationRequest) async throws -> WorkerRegistrationResponse {
        try await call(.POST, "/api/v1/workers/register", credential: apiKey, body: request)
    }

    public func refreshToken(apiKey: String, worker: UUID) async throws -> WorkerTokenResponse {
        try await call(.POST, "/api/v1/workers/\(worker.lowercased)/token", credential: apiKey, body: EmptyBody())
    }

    /// A long poll: `[]` when the wait ended empty (204). `held` names the tasks the worker runs,
    /// so the control API can give back any it leased in a reply that never arrived.
    public func poll(token: String, worker: UUID, slots: Int, wait: Double, held: [UUID]? = nil) async throws
        -> [TaskAssignment]
    {
        let timeout = requestTimeout + .milliseconds(Int64(wait * 1000))
        let (reply, headers): (PollResponse?, HTTPHeaders) = try await exchange(
            .POST, "/api/v1/workers/\(worker.lowercased)/poll", credential: token,
            body: PollRequest(slots: slots, waitS: wait, heldTaskIds: held), timeout: timeout, allowEmpty: true)
        if reply == nil, headers.first(name: PollResponse.workerStatusHeader) == "draining" {
            throw WorkerDrainedByControlAPI()
        }
        return reply?.tasks ?? []
    }

    public func drain(token: String, worker: UUID) async throws {
        let _: Empty? = try await call(
            .POST, "/api/v1/workers/\(worker.lowercased)/drain", credential: token, body: EmptyBody(), allowEmpty: true)
    }

    public func deregister(token: String, worker: UUID) async throws {
        let _: Empty? = try await call(
            .DELETE, "/api/v1/workers/\(worker.lowercased)", credential: token, body: nil as EmptyBody?, allowEmpty: true)
    }

    public func renew(token: String, task: UUID, lease: UUID) async throws -> RenewLeaseResponse {
        try await call(.POST, "/api/v1/tasks/\(task.lowercased)/renew", credential: token, body: RenewLeaseRequest(leaseId: lease))
    }

    public func appendEvents(token: String, task: UUID, lease: UUID, events: [TaskEvent]) async throws
        -> AppendEventsResponse
    {
        try await call(
            .POST, "/api/v1/tasks/\(task.lowercased)/events", credential: token,
            body: AppendEventsRequest(leaseId: lease, events: events))
    }

    public func complete(token: String, task: UUID, lease: UUID, result: TurnResult, events: [TaskEvent] = [])
        async throws -> CompleteTaskResponse
    {
        try await call(
            .POST, "/api/v1/tasks/\(task.lowercased)/complete", credential: token,
            body: CompleteTaskRequest(leaseId: lease, result: result, events: events))
    }

    public func fail(token: String, task: UUID, lease: UUID, error: String, retryable: Bool) async throws
        -> FailTaskResponse
    {
        try await call(
            .POST, "/api/v1/tasks/\(task.lowercased)/fail", credential: token,
            body: FailTaskRequest(leaseId: lease, error: error, retryable: retryable))
    }

    public func release(token: String, task: UUID, lease: UUID, reason: String) async throws -> ReleaseTaskResponse {
        try await call(
            .POST, "/api/v1/tasks/\(task.lowercased)/release", credential: token,
            body: ReleaseTaskRequest(leaseId: lease, reason: reason))
    }

    public func awaitApproval(token: String, task: UUID, lease: UUID, approvals: [ApprovalRequest]) async throws
        -> AwaitApprovalResponse
    {
        try await call(
            .POST, "/api/v1/tasks/\(task.lowercased)/await-approval", credential: token,
            body: AwaitApprovalRequest(leaseId: lease, approvals: approvals))
    }

    struct EmptyBody: Encodable {}
    struct Empty: Decodable {}

    private func call<Body: Encodable, Reply: Decodable>(
        _ method: HTTPMethod, _ path: String, credential: String, body: Body?, timeout: TimeAmount? = nil
    ) async throws -> Reply {
        guard let reply: Reply = try await call(method, path, credential: credential, body: body, timeout: timeout, allowEmpty: false)
        else {
            throw ControlAPIError(kind: .unavailable, status: nil, problemType: nil, detail: "empty reply from \(path)")
        }
        return reply
    }

    private func call<Body: Encodable, Reply: Decodable>(
        _ method: HTTPMethod, _ path: String, credential: String, body: Body?, timeout: TimeAmount? = nil,
        allowEmpty: Bool
    ) async throws -> Reply? {
        try await exchange(method, path, credential: credential, body: body, timeout: timeout, allowEmpty: allowEmpty).0
    }

    /// `call` that also returns the reply's headers.
    private func exchange<Body: Encodable, Reply: Decodable>(
        _ method: HTTPMethod, _ path: String, credential: String, body: Body?, timeout: TimeAmount? = nil,
        allowEmpty: Bool
    ) async throws -> (Reply?, HTTPHeaders) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(credential)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "bosun-worker/\(WorkerVersion.current)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try WireCoding.encode(body)))
        }
        let response: HTTPClientResponse
        let data: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout ?? requestTimeout)
            data = try await response.body.collect(upTo: 64 << 20)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ControlAPIError(kind: .unavailable, status: nil, problemType: nil, detail: "\(method) \(path): \(error)")
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) {
            if data.readableBytes == 0 || status == 204 || status == 202 {
                if allowEmpty { return (nil, response.headers) }
            }
            do {
                return (try WireCoding.decode(Reply.self, from: data.readableBytesView), response.headers)
            } catch {
                throw ControlAPIError(
                    kind: .unavailable, status: status, problemType: nil,
                    detail: "\(method) \(path) returned a reply the worker cannot read: \(error)")
            }
        }
        let problem = try? WireCoding.decode(Problem.self, from: data.readableBytesView)
        let detail = problem?.detail ?? String(decoding: Data(data.readableBytesView).prefix(300), as: UTF8.self)
        let kind: ControlAPIError.Kind =
            switch status {
            case 401: .unauthorized
            case 403: .forbidden
            case 404, 410: .notFound
            case 409: .conflict
            case 408, 429, 500...: .unavailable
            default: .rejected
            }
        throw ControlAPIError(kind: kind, status: status, problemType: problem?.type, detail: detail)
    }
}

extension UUID {
    var lowercased: String { uuidString.lowercased() }
}

public enum WorkerVersion {
    public static let current = "0.4.0"
}
