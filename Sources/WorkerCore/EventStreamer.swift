import BosunProtocol
import Foundation
import Logging
import Runtimes

/// Delivers one task attempt's events in order, in small batches, at least every `flushInterval`.
/// A batch that fails stays at the head of the queue and is resent with the same sequence
/// numbers (the control API ignores seqs it already has), so a transient error loses nothing.
actor EventStreamer: TurnEventSink {
    let task: UUID
    let lease: UUID
    let session: WorkerSession
    let logger: Logger
    let flushInterval: Duration
    let maxBatch: Int
    let recordTimeout: Duration

    private var pending: [TaskEvent] = []
    private var nextSeq = 1
    private var lost = false
    private var failures = 0

    init(
        task: UUID, lease: UUID, session: WorkerSession, logger: Logger, flushInterval: Duration = .milliseconds(100),
        maxBatch: Int = 100, recordTimeout: Duration = .seconds(60)
    ) {
        self.task = task
        self.lease = lease
        self.session = session
        self.logger = logger
        self.flushInterval = flushInterval
        self.maxBatch = maxBatch
        self.recordTimeout = recordTimeout
    }

    func emit(_ type: String, _ data: JSONValue) async {
        pending.append(TaskEvent(seq: nextSeq, type: type, data: data, ts: Date()))
        nextSeq += 1
    }

    func record(_ type: String, _ data: JSONValue) async throws {
        await emit(type, data)
        // As long as a lease lasts: past that the task belongs to someone else anyway.
        guard await flushAll(deadline: .now + recordTimeout) else {
            throw TurnFailure(
                "a '\(type)' event could not be stored (lease lost or control API unreachable)", retryable: true)
        }
    }

    /// Runs until cancelled: flushes on a fixed cadence, backing off while the API is unreachable.
    func run() async {
        while !Task.isCancelled {
            let delay = failures == 0 ? flushInterval : Backoff.delay(attempt: failures, base: .milliseconds(200), cap: .seconds(5))
            try? await Task.sleep(for: delay)
            if Task.isCancelled { return }
            _ = await flushOnce()
        }
    }

    /// Sends everything pending, retrying transient errors until `deadline`. Returns false when
    /// events could not be delivered (lease lost, or still failing at the deadline).
    /// With `leaving`, stops once at most that many events are left pending.
    func flushAll(deadline: ContinuousClock.Instant, leaving keep: Int = 0) async -> Bool {
        while pending.count > keep {
            if lost { return false }
            if await flushOnce() { continue }
            if lost || ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: Backoff.delay(attempt: failures, base: .milliseconds(100), cap: .seconds(2)))
        }
        return true
    }

    /// The last events, for the completion to carry (`CompleteTaskRequest.events`): everything
    /// pending past one batch is sent first, the rest is handed over and no longer sent from
    /// here. The completion is resent with the same events until it is stored, and the control
    /// API skips seqs it already has, so handing over loses nothing that a flush would keep.
    /// Nil when events can no longer be delivered at all (the lease is gone).
    func takeForReport(deadline: ContinuousClock.Instant) async -> [TaskEvent]? {
        guard await flushAll(deadline: deadline, leaving: maxBatch), !lost else { return nil }
        let last = pending
        pending.removeAll()
        return last
    }

    /// One batch. True when it was delivered (or there was nothing to send).
    private func flushOnce() async -> Bool {
        guard !pending.isEmpty, !lost else { return true }
        let batch = Array(pending.prefix(maxBatch))
        do {
            _ = try await session.withToken { token in
                try await session.client.appendEvents(token: token, task: task, lease: lease, events: batch)
            }
            // Only now drop them: a failed send leaves the batch to go again, same seqs. By seq,
            // not by count: the cadence loop and `record` may have sent overlapping batches.
            let delivered = batch[batch.count - 1].seq
            pending.removeAll { $0.seq <= delivered }
            failures = 0
            return true
        } catch let error as WorkerGone {
            lost = true
            logger.warning("events can no longer be delivered", metadata: ["error": "\(error)"])
            return false
        } catch let error as ControlAPIError where !error.isTransient {
            // The lease is gone (409/404) or the request is wrong: resending cannot help.
            lost = true
            logger.warning(
                "events can no longer be delivered", metadata: ["error": "\(error)", "events.dropped": "\(pending.count)"])
            return false
        } catch {
            failures += 1
            if failures == 1 || failures % 20 == 0 {
                logger.warning("event delivery failed; will resend the same batch", metadata: ["error": "\(error)"])
            }
            return false
        }
    }
}
