import BosunProtocol
import Foundation

/// In-process waiters for long polls, woken by pushes (PostgreSQL NOTIFY from any control API
/// process) instead of a polling loop.
///
/// Each queue has a generation counter that every wake-up bumps. A poll reads the generation
/// before it tries to claim and waits "since" it, so a task that arrives between the claim and
/// the wait is never missed.
public actor Dispatcher {
    public enum WakeReason: Sendable {
        case work
        case drain
        case timeout
        /// A submit leased its new task straight to this poller (see `reserve(queue:)`).
        case handedOff(TaskAssignment)
    }

    /// A waiting poller taken out of the waiters for a direct hand-off. Whoever holds it must end
    /// it with `handOff(_:task:)` or `release(_:)`: nothing else resumes that poll any more.
    public struct Reservation: Sendable {
        public let worker: UUID
        fileprivate let queue: UUID
        fileprivate let waiter: UUID
    }

    struct Waiter {
        var workerId: UUID
        var continuation: CheckedContinuation<WakeReason, Never>
        var timer: Task<Void, Never>?
    }

    /// Names this control API process in the task notifications it sends: it wakes its own
    /// pollers directly after a submit commits, and skips its own notification when it comes back.
    public nonisolated let origin = UUID().uuidString.lowercased()

    private var waiters: [UUID: [UUID: Waiter]] = [:]
    private var reserved: [UUID: Waiter] = [:]
    private var generations: [UUID: UInt64] = [:]
    private var draining: Set<UUID> = []

    public init() {}

    public func generation(of queue: UUID) -> UInt64 {
        generations[queue, default: 0]
    }

    public func isDraining(_ worker: UUID) -> Bool {
        draining.contains(worker)
    }

    /// Waits until work may be on `queue`, the worker is drained, or `timeout` passes.
    public func wait(queue: UUID, worker: UUID, since generation: UInt64, timeout: Duration) async -> WakeReason {
        if draining.contains(worker) { return .drain }
        if generations[queue, default: 0] != generation { return .work }
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    await self?.resume(queue: queue, waiter: id, with: .timeout)
                }
                waiters[queue, default: [:]][id] = Waiter(workerId: worker, continuation: continuation, timer: timer)
            }
        } onCancel: {
            Task { await self.resume(queue: queue, waiter: id, with: .timeout) }
        }
    }

    /// Wakes up to `count` waiters of `queue` (all of them when `count` is nil).
    public func wake(queue: UUID, count: Int? = nil) {
        generations[queue, default: 0] &+= 1
        guard var queueWaiters = waiters[queue] else { return }
        var woken = 0
        for (id, waiter) in queueWaiters {
            if let count, woken >= count { break }
            waiter.timer?.cancel()
            waiter.continuation.resume(returning: .work)
            queueWaiters[id] = nil
            woken += 1
        }
        waiters[queue] = queueWaiters.isEmpty ? nil : queueWaiters
    }

    /// Takes one poller waiting on `queue` for a submit that will lease its task to that worker
    /// directly (Temporal calls this a sync match): the new task never waits in the queue, and the
    /// claim's round trip is saved. `nil` when nobody waits here.
    public func reserve(queue: UUID) -> Reservation? {
        guard var queueWaiters = waiters[queue], let (id, waiter) = queueWaiters.first else { return nil }
        queueWaiters[id] = nil
        waiters[queue] = queueWaiters.isEmpty ? nil : queueWaiters
        waiter.timer?.cancel()
        reserved[id] = waiter
        return Reservation(worker: waiter.workerId, queue: queue, waiter: id)
    }

    /// Ends a reserved poll with the task leased to it.
    public func handOff(_ reservation: Reservation, task: TaskAssignment) {
        reserved.removeValue(forKey: reservation.waiter)?.continuation.resume(returning: .handedOff(task))
    }

    /// Gives a reserved poll back without a task: it looks for work itself again at once.
    public func release(_ reservation: Reservation) {
        reserved.removeValue(forKey: reservation.waiter)?.continuation.resume(returning: .work)
    }

    /// Wakes every waiter: after the notification connection was lost, anything may have changed.
    public func wakeAll() {
        for queue in Array(waiters.keys) { wake(queue: queue) }
        for queue in Array(generations.keys) { generations[queue, default: 0] &+= 1 }
    }

    /// Ends the worker's pending polls at once and refuses its future ones.
    public func drain(worker: UUID) {
        draining.insert(worker)
        for (queue, queueWaiters) in waiters {
            for (id, waiter) in queueWaiters where waiter.workerId == worker {
                resume(queue: queue, waiter: id, with: .drain)
            }
        }
    }

    private func resume(queue: UUID, waiter id: UUID, with reason: WakeReason) {
        guard let waiter = waiters[queue]?.removeValue(forKey: id) else { return }
        if waiters[queue]?.isEmpty == true { waiters[queue] = nil }
        waiter.timer?.cancel()
        waiter.continuation.resume(returning: reason)
    }

    /// Polls waiting (or reserved for a hand-off) in this process.
    public var waiterCount: Int { waiters.values.reduce(0) { $0 + $1.count } + reserved.count }
}
