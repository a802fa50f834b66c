import BosunProtocol
import Foundation
import Synchronization

/// Allowing policy decisions for new executions, remembered by the context they were made on.
///
/// `bosun_submit` only creates an execution when the caller's fingerprint matches the context
/// it finds in the same statement (agent row, routed queue, environment, teams, policies), so a
/// remembered decision can never outlive a change: a stale one costs one more round trip, in
/// which the submit decides again. Decisions that depend on more than that context (quota usage,
/// an external OPA) are never remembered.
final class SubmitDecisions: Sendable {
    struct Key: Hashable, Sendable {
        var organization: UUID
        var agent: UUID
        var actor: String
        var strategy: String
        var queue: UUID?
        var environment: UUID?

        init(organization: UUID, agent: UUID, actor: String, routing: Routing) {
            self.organization = organization
            self.agent = agent
            self.actor = actor
            self.strategy = routing.strategy.rawValue
            self.queue = routing.queueId
            self.environment = routing.environmentId
        }
    }

    struct Decision: Sendable {
        /// `bosun_submit`'s fingerprint of the context the decision was made on.
        var fingerprint: String
        /// The audit entry's policy part: the decision and its input document, as JSON text.
        var audited: String
        /// The queue the context routed to, where a waiting poller may take the task directly.
        var queue: UUID
    }

    /// Bounds memory: past this many entries the whole map starts over (they refill in one
    /// extra round trip each).
    let capacity: Int
    private let decisions = Mutex<[Key: Decision]>([:])

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func decision(for key: Key) -> Decision? {
        decisions.withLock { $0[key] }
    }

    func remember(_ decision: Decision, for key: Key) {
        decisions.withLock {
            if $0.count >= capacity, $0[key] == nil { $0.removeAll(keepingCapacity: true) }
            $0[key] = decision
        }
    }

    func forget(_ key: Key) {
        _ = decisions.withLock { $0.removeValue(forKey: key) }
    }
}
