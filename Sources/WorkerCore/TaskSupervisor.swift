import BosunProtocol
import BosunSystem
import Foundation
import Logging
import MCP
import Runtimes
import Sandbox

/// Why a running turn was stopped before it finished on its own.
enum StopReason: Sendable, Equatable {
    /// A user cancelled the execution (the renew reply said so).
    case cancelRequested
    /// The lease is gone: expired, re-queued, or held by another worker. Nothing to report.
    case leaseLost(String)
    /// The worker is shutting down without waiting (second signal, drain timeout).
    case workerAbort
}

/// First reason wins: a lease lost after a cancel is still a cancel.
actor StopSignal {
    private(set) var reason: StopReason?
    func set(_ reason: StopReason) -> Bool {
        guard self.reason == nil else { return false }
        self.reason = reason
        return true
    }
}

/// Runs one claimed task to its end: the turn in its runtime, lease renewal at the server's
/// interval, event delivery, and exactly one report (complete, fail or release). Whatever ends
/// the turn — its own end, a cancel, a lost lease, a shutdown — the task's processes are stopped
/// before the supervisor returns.
struct TaskSupervisor: Sendable {
    let assignment: TaskAssignment
    let session: WorkerSession
    let runtime: (any Runtime)?
    let configuration: WorkerConfiguration
    let llm: LLMSettings
    let cgroupRoot: TaskCgroupRoot?
    /// Compiled sandbox profiles; `nil` only with the test runtime, which starts no tools.
    let sandboxes: SandboxProfiles?
    /// Tells the worker whether the control API answered; the systemd watchdog depends on it,
    /// and a worker whose slots are all busy learns it only from renewals.
    let onContact: @Sendable (Bool) async -> Void
    let logger: Logger

    init(
        assignment: TaskAssignment, session: WorkerSession, runtime: (any Runtime)?,
        configuration: WorkerConfiguration, llm: LLMSettings, cgroupRoot: TaskCgroupRoot?,
        sandboxes: SandboxProfiles?, onContact: @escaping @Sendable (Bool) async -> Void = { _ in }, logger: Logger
    ) {
        self.cgroupRoot = cgroupRoot
        self.sandboxes = sandboxes
        self.onContact = onContact
        self.assignment = assignment
        self.session = session
        self.runtime = runtime
        self.configuration = configuration
        self.llm = llm
        var logger = logger
        logger[metadataKey: "bosun.task.id"] = "\(assignment.id.lowercased)"
        logger[metadataKey: "bosun.execution.id"] = "\(assignment.executionId.lowercased)"
        logger[metadataKey: "bosun.org.id"] = "\(assignment.organizationId.lowercased)"
        self.logger = logger
    }

    var client: ControlClient { session.client }
    var taskId: UUID { assignment.id }
    var leaseId: UUID { assignment.lease.id }

    func run() async {
        let started = ContinuousClock.now
        logger.info(
            "task started",
            metadata: ["turn": "\(assignment.turn)", "attempt": "\(assignment.attempt)", "runtime": "\(assignment.agent.runtime)"])
        guard let runtime else {
            await report(
                .failure(
                    TurnFailure(
                        "this worker does not run the '\(assignment.agent.runtime)' runtime", retryable: false)),
                stop: nil, events: nil)
            return
        }
        var sandbox: PreparedSandbox?
        if let sandboxes {
            do {
                sandbox = try await sandboxes.prepare(assignment.agent.sandboxProfile)
            } catch {
                await report(
                    .failure(TurnFailure("the agent's sandbox profile cannot be used: \(error)", retryable: false)),
                    stop: nil, events: nil)
                return
            }
        }
        let events = EventStreamer(
            task: taskId, lease: leaseId, session: session, logger: logger,
            flushInterval: configuration.eventFlushInterval, recordTimeout: .seconds(max(assignment.lease.durationS, 5)))
        var cgroup: TaskCgroup?
        if let cgroupRoot {
            do {
                cgroup = try cgroupRoot.create(name: assignment.id.lowercased)
            } catch {
                logger.warning("no cgroup for this task; its process groups still are", metadata: ["error": "\(error)"])
            }
        }
        let processes = TaskProcesses(
            killGrace: configuration.killGrace, cgroup: cgroup,
            secrets: configuration.secretsDirectory.map(SecretDirectory.init(path:)))
        let stop = StopSignal()
        let workspace = URL(fileURLWithPath: configuration.workDirectory)
            .appendingPathComponent("executions").appendingPathComponent(assignment.executionId.lowercased).path
        do {
            try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
            // Marks it in use: the stale-workspace sweep goes by this directory's own mtime.
            try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: workspace)
        } catch {
            await report(.failure(TurnFailure("cannot create the workspace \(workspace): \(error)", retryable: true)), stop: nil, events: events)
            return
        }
        let context = TurnContext(
            assignment: assignment, workspace: workspace, events: events, processes: processes, llm: llm,
            sandbox: sandbox, logger: logger)
        let turn = Task { try await runtime.runTurn(context) }

        let outcome: Result<TurnResult, any Error> = await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await events.run() }
                group.addTask { await renewLoop(stop: stop, turn: turn, processes: processes) }
                let result = await turn.result
                group.cancelAll()
                return result
            }
        } onCancel: {
            // The worker is aborting: stop the turn now; the report below releases the task.
            Task {
                if await stop.set(.workerAbort) {
                    turn.cancel()
                    await processes.terminateAll()
                }
            }
        }
        var reason = await stop.reason
        if reason == nil, Task.isCancelled, await stop.set(.workerAbort) { reason = .workerAbort }
        // An unstructured task does not inherit the abort's cancellation, which would otherwise
        // cut short the grace period and the release/fail report.
        await Task { [reason] in
            // Nothing the turn started outlives it, even when it ended normally.
            await processes.finish()
            let status = await report(outcome, stop: reason, events: events)
            // The workspace outlives the turn while the execution goes on (a claude_code
            // session's files are there for its next turn on this worker); it goes once the
            // execution is finished or its fate is unknown here. Leftovers are swept at start.
            if status.map({ $0.isTerminal }) ?? true {
                try? FileManager.default.removeItem(atPath: workspace)
            }
        }.value
        logger.info(
            "task finished",
            metadata: ["duration_ms": "\((ContinuousClock.now - started) / .milliseconds(1))"])
    }

    /// Renews at the server's interval. A cancel in the reply, or a lease that no longer holds,
    /// stops the turn and its process groups at once.
    func renewLoop(stop: StopSignal, turn: Task<TurnResult, any Error>, processes: TaskProcesses) async {
        var expiresAt = ContinuousClock.now + .milliseconds(Int64(assignment.lease.durationS * 1000))
        let interval = Duration.milliseconds(Int64(max(assignment.lease.renewIntervalS, 0.2) * 1000))
        var failures = 0
        while !Task.isCancelled {
            let delay = failures == 0 ? interval : min(Backoff.delay(attempt: failures, base: .milliseconds(250), cap: .seconds(5)), interval)
            do { try await Task.sleep(for: delay) } catch { return }
            do {
                let reply = try await session.withToken { token in
                    try await client.renew(token: token, task: taskId, lease: leaseId)
                }
                failures = 0
                await onContact(true)
                expiresAt = ContinuousClock.now + .milliseconds(Int64(assignment.lease.durationS * 1000))
                if reply.cancelRequested {
                    logger.info("cancel requested; stopping the turn")
                    if await stop.set(.cancelRequested) {
                        turn.cancel()
                        await processes.terminateAll()
                    }
                    return
                }
            } catch is CancellationError {
                return
            } catch let error as WorkerGone {
                // The control API removed this worker (lost, deregistered): its leases are gone.
                logger.warning("lease lost; stopping the turn", metadata: ["error": "\(error)"])
                if await stop.set(.leaseLost(error.detail)) {
                    turn.cancel()
                    await processes.terminateAll()
                }
                return
            } catch let error as ControlAPIError where !error.isTransient {
                logger.warning("lease lost; stopping the turn", metadata: ["error": "\(error)"])
                if await stop.set(.leaseLost(error.detail)) {
                    turn.cancel()
                    await processes.terminateAll()
                }
                return
            } catch {
                failures += 1
                await onContact(false)
                if ContinuousClock.now >= expiresAt {
                    // Another worker may hold the task by now; running on would duplicate work.
                    logger.warning("lease expired while the control API was unreachable; stopping the turn")
                    if await stop.set(.leaseLost("expired while unreachable")) {
                        turn.cancel()
                        await processes.terminateAll()
                    }
                    return
                }
                if failures == 1 { logger.warning("lease renewal failed; retrying", metadata: ["error": "\(error)"]) }
            }
        }
    }

    /// Exactly one report per attempt. Transient errors are retried until the lease would have
    /// expired; after that the task belongs to the sweeper. Returns the execution's status after
    /// it, when the control API said (complete and fail replies carry it).
    @discardableResult
    func report(_ outcome: Result<TurnResult, any Error>, stop: StopReason?, events: EventStreamer?) async
        -> ExecutionStatus?
    {
        let reported = ReportedStatus()
        let deadline = ContinuousClock.now + .milliseconds(Int64(assignment.lease.durationS * 1000))
        switch stop {
        case .leaseLost(let why):
            logger.warning("task abandoned: the lease no longer holds it", metadata: ["reason": "\(why)"])
            return nil
        case .workerAbort:
            _ = await events?.flushAll(deadline: .now + .seconds(2))
            await send("release", deadline: .now + .seconds(5)) { token in
                _ = try await client.release(token: token, task: taskId, lease: leaseId, reason: "the worker shut down")
            }
            return nil
        case .cancelRequested:
            _ = await events?.flushAll(deadline: deadline)
            await send("fail", deadline: deadline) { token in
                let reply = try await client.fail(token: token, task: taskId, lease: leaseId, error: "cancelled", retryable: false)
                reported.set(reply.executionStatus)
            }
            return reported.value
        case nil:
            break
        }
        switch outcome {
        case .success(let result):
            // The last events go with the completion when the control API takes them there
            // (one request fewer per turn); otherwise they are flushed first.
            var last: [TaskEvent] = []
            if let events, await session.registration?.supports(.completeCarriesEvents) == true {
                last = await events.takeForReport(deadline: deadline) ?? []
            } else {
                _ = await events?.flushAll(deadline: deadline)
            }
            await send("complete", deadline: deadline) { [last] token in
                let reply = try await client.complete(token: token, task: taskId, lease: leaseId, result: result, events: last)
                reported.set(reply.executionStatus)
                logger.info(
                    "task completed",
                    metadata: ["decision": "\(reply.decision)", "execution_status": "\(reply.executionStatus.rawValue)"])
            }
        case .failure(let paused as ApprovalRequired):
            // Parked until people decide; the next attempt replays the ledger and goes on.
            logger.info("tool calls wait for approval", metadata: ["tools": "\(paused.requests.map(\.toolName))"])
            _ = await events?.flushAll(deadline: deadline)
            await send("await-approval", deadline: deadline) { token in
                let reply = try await client.awaitApproval(
                    token: token, task: taskId, lease: leaseId, approvals: paused.requests)
                reported.set(reply.executionStatus)
            }
        case .failure(let error):
            let failure =
                (error as? TurnFailure)
                ?? TurnFailure(error is CancellationError ? "the turn was cancelled" : String(describing: error), retryable: true)
            logger.warning("turn failed", metadata: ["error": "\(failure.message)", "retryable": "\(failure.retryable)"])
            _ = await events?.flushAll(deadline: deadline)
            await send("fail", deadline: deadline) { token in
                let reply = try await client.fail(
                    token: token, task: taskId, lease: leaseId, error: failure.message, retryable: failure.retryable)
                reported.set(reply.executionStatus)
            }
        }
        return reported.value
    }

    private func send(_ what: String, deadline: ContinuousClock.Instant, _ body: @escaping @Sendable (String) async throws -> Void) async {
        var attempt = 0
        while true {
            do {
                try await session.withToken(body)
                return
            } catch let error as ControlAPIError where !error.isTransient {
                logger.warning("\(what) was refused", metadata: ["error": "\(error)"])
                return
            } catch let error as WorkerGone {
                logger.warning("\(what) cannot be sent", metadata: ["error": "\(error)"])
                return
            } catch {
                attempt += 1
                if ContinuousClock.now >= deadline {
                    logger.error("\(what) could not be delivered before the lease ran out", metadata: ["error": "\(error)"])
                    return
                }
                if attempt == 1 { logger.warning("\(what) failed; retrying", metadata: ["error": "\(error)"]) }
                try? await Task.sleep(for: Backoff.delay(attempt: attempt, base: .milliseconds(200), cap: .seconds(5)))
            }
        }
    }
}

/// The execution status a report's reply carried, written from the report's sending closure.
final class ReportedStatus: @unchecked Sendable {
    private let lock = NSLock()
    private var status: ExecutionStatus?

    func set(_ status: ExecutionStatus) { lock.withLock { self.status = status } }
    var value: ExecutionStatus? { lock.withLock { status } }
}
