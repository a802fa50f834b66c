import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The one PostgreSQL channel Bosun's control API processes talk through. Payloads are
/// `kind:id[:extra]`; NOTIFY is transactional, so a wake-up is only seen once its data committed.
/// Two SQL functions build the same payloads (`bosun_submit`, which adds the sending
/// process's origin to its task wake-up, and `bosun_claim_tasks`); change them together with these.
enum Notifications {
    static let channel = "bosun"

    static func task(queue: UUID, count: Int = 1) -> String { "task:\(queue.uuidString.lowercased()):\(count)" }
    static func event(execution: UUID) -> String { "event:\(execution.uuidString.lowercased())" }
    static func drain(worker: UUID) -> String { "drain:\(worker.uuidString.lowercased())" }
    static func revoke(hash: [UInt8]) -> String { "revoke:\(hash.map { String(format: "%02x", $0) }.joined())" }

    /// Sends `payload` when the surrounding transaction commits.
    static func send(_ payload: String, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.execute(NotifyStatement(payload: payload), logger: logger)
        for try await _ in rows {}
    }
}

/// Holds a dedicated LISTEN connection and routes notifications to the dispatcher, the event
/// hub and the credential cache. Reconnects with backoff; while it is down, long polls still
/// find work through their fallback re-check, and on reconnect every waiter is woken.
public struct NotificationListener: Service {
    let url: DatabaseURL
    let dispatcher: Dispatcher
    let events: EventHub
    let authenticator: Authenticator
    let logger: Logger

    public init(
        url: DatabaseURL, dispatcher: Dispatcher, events: EventHub, authenticator: Authenticator, logger: Logger
    ) {
        self.url = url
        self.dispatcher = dispatcher
        self.events = events
        self.authenticator = authenticator
        self.logger = logger
    }

    public func run() async throws {
        var backoff = Duration.milliseconds(100)
        var connectionID = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            connectionID += 1
            let id = connectionID
            let started = ContinuousClock.now
            do {
                try await cancelWhenGracefulShutdown {
                    let connection = try await PostgresConnection.connect(
                        configuration: try url.connectionConfiguration(), id: id, logger: logger)
                    defer { Task { try? await connection.close() } }
                    try await connection.listen(on: Notifications.channel) { notifications in
                        // Anything may have happened while we were not listening.
                        await dispatcher.wakeAll()
                        await events.publishAll()
                        await authenticator.invalidateAll()
                        for try await notification in notifications {
                            await route(notification.payload)
                        }
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isShuttingDownGracefully { return }
                logger.warning(
                    "notification connection lost; reconnecting",
                    metadata: ["error": "\(String(reflecting: error))", "retry_in_ms": "\(Int(backoff.milliseconds))"])
            }
            // A connection that held for a while was healthy: start the backoff over.
            if ContinuousClock.now - started > .seconds(10) { backoff = .milliseconds(100) }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    func route(_ payload: String) async {
        let parts = payload.split(separator: ":")
        guard parts.count >= 2 else { return }
        switch parts[0] {
        case "task":
            guard let queue = UUID(uuidString: String(parts[1])) else { return }
            // `task:queue:count:origin`: the process that sent it has already woken its own pollers.
            if parts.count > 3, parts[3] == dispatcher.origin { return }
            let count = parts.count > 2 ? Int(parts[2]) : nil
            await dispatcher.wake(queue: queue, count: count)
        case "event":
            guard let execution = UUID(uuidString: String(parts[1])) else { return }
            await events.publish(execution)
        case "drain":
            guard let worker = UUID(uuidString: String(parts[1])) else { return }
            await dispatcher.drain(worker: worker)
        case "revoke":
            await authenticator.invalidate(hash: Self.bytes(hex: String(parts[1])))
        default:
            logger.debug("ignored notification", metadata: ["payload": "\(payload)"])
        }
    }

    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            if let byte = UInt8(hex[index..<next], radix: 16) { bytes.append(byte) }
            index = next
        }
        return bytes
    }
}

/// `pg_notify` on Bosun's channel, prepared once per connection (it runs with most writes).
struct NotifyStatement: PostgresPreparedStatement {
    static let sql = "SELECT pg_notify('\(Notifications.channel)', $1::text)"
    typealias Row = Void
    var payload: String
    func makeBindings() throws -> PostgresBindings { try binds(payload) }
    func decodeRow(_ row: PostgresRow) throws {}
}
