import BosunLogging
import BosunProtocol
import BosunSystem
import Dispatch
import Foundation
import Logging
import Runtimes
import Sandbox

/// `bosun-worker run`: register, long-poll for as many tasks as there are free slots, supervise
/// each task, heartbeat, and stop in two levels — `drain` (first SIGTERM/SIGINT: no new work,
/// running tasks finish within the drain timeout) and `abort` (second signal or drain timeout:
/// running tasks are stopped and released so another worker takes them at once).
public final class WorkerDaemon: Sendable {
    public let configuration: WorkerConfiguration
    let logger: Logger
    let ring: LogRing
    let notifier: SystemdNotifier?
    let runtimes: [String: any Runtime]
    /// Compiled sandbox profiles for tool processes; `nil` with the test runtime (no tools).
    let sandboxes: SandboxProfiles?
    let state: WorkerState
    let session: WorkerSession
    let control: Control
    let heartbeat: HeartbeatPublisher
    let hostname: String
    let gpus: GPUProbe
    let cgroupRoot: TaskCgroupRoot?

    /// Mutable bits the signal path and the poll loop share.
    actor Control {
        var poll: Task<[TaskAssignment], any Error>?
        var registration: Task<WorkerRegistrationResponse, any Error>?
        var drainStarted: ContinuousClock.Instant?
        func setPoll(_ task: Task<[TaskAssignment], any Error>?) { poll = task }
        func setRegistration(_ task: Task<WorkerRegistrationResponse, any Error>?) { registration = task }
        func markDrain() { if drainStarted == nil { drainStarted = .now } }
        func cancelInFlight() {
            poll?.cancel()
            registration?.cancel()
        }
    }

    public init(
        configuration: WorkerConfiguration, runtimes: [any Runtime], sandbox: SandboxInstallation?, ring: LogRing,
        logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.configuration = configuration
        self.sandboxes = sandbox.map {
            SandboxProfiles(installation: $0, workDirectory: configuration.workDirectory, logger: logger)
        }
        self.ring = ring
        self.notifier = SystemdNotifier(environment: environment)
        var table: [String: any Runtime] = [:]
        for runtime in runtimes { table[runtime.name] = runtime }
        self.runtimes = table
        let hostname = configuration.name ?? ProcessInfo.processInfo.hostName
        self.hostname = hostname
        self.state = WorkerState(slots: configuration.slots)
        let request = WorkerRegistrationRequest(
            queueId: configuration.queueId, hostname: hostname, version: WorkerVersion.current, slots: configuration.slots,
            runtimes: Self.advertisedRuntimes(runtimes: runtimes, testRuntime: configuration.testRuntime),
            labels: configuration.labels)
        let session = WorkerSession(
            client: ControlClient(baseURL: configuration.controlURL), configuration: configuration, request: request,
            logger: logger)
        self.session = session
        self.control = Control()
        self.gpus = GPUProbe(timeout: .seconds(5))
        var versions: [String: String] = [:]
        for runtime in runtimes { versions[runtime.name] = runtime.version }
        self.heartbeat = HeartbeatPublisher(
            session: session, state: state, sampler: SystemSampler(), gpus: gpus, ring: ring, runtimes: versions,
            workDirectory: configuration.workDirectory, hostname: hostname, logger: logger)
        self.cgroupRoot = Self.taskCgroupRoot(environment: environment, logger: logger)
        self.logger = logger
    }

    /// Per-task cgroups when systemd delegated a subtree (`Delegate=yes`). systemd >= 254 starts
    /// the worker in `<unit>/supervisor` (`DelegateSubgroup=`); older ones start it in the unit's
    /// cgroup, and the worker moves itself into `supervisor` — only under systemd
    /// (`INVOCATION_ID`), because outside it a writable cgroup is not proof of delegation.
    static func taskCgroupRoot(environment: [String: String], logger: Logger) -> TaskCgroupRoot? {
        if let root = TaskCgroup.delegatedRoot() {
            logger.info("per-task cgroups on", metadata: ["cgroup": "\(root.path)"])
            return root
        }
        guard environment["INVOCATION_ID"] != nil, environment["BOSUN_WORKER_TASK_CGROUPS"] != "off" else { return nil }
        do {
            let root = try TaskCgroup.enterSupervisorSubgroup()
            logger.info("per-task cgroups on", metadata: ["cgroup": "\(root.path)"])
            return root
        } catch {
            logger.notice("per-task cgroups off (process groups only)", metadata: ["reason": "\(error)"])
            return nil
        }
    }

    /// With the test runtime every agent runs on it, so the worker claims work for every runtime name.
    static func advertisedRuntimes(runtimes: [any Runtime], testRuntime: Bool) -> [String] {
        if testRuntime { return ["agno", "claude_code", "test"] }
        return runtimes.map(\.name).sorted()
    }

    var client: ControlClient { session.client }

    /// Runs until the worker has drained (or, with `--once`, finished its task) and deregistered.
    /// Throws `WorkerFatalError` for what retrying cannot fix.
    public func run() async throws {
        let startedAt = ContinuousClock.now
        try prepareWorkDirectory()
        try await prepareSandbox(logger: logger)
        Self.sweepStaleWorkspaces(in: configuration.workDirectory, logger: logger)
        ProcessGroupLauncher.ignoreSIGPIPE()

        let facts = HostFacts.collect(gpus: await gpus.probe().devices)
        await session.updateSystem((try? JSONValue(encoding: facts)) ?? [:])
        notifier?.send(status: "registering with \(configuration.controlURL.absoluteString)")

        let registrationTask = Task { try await session.register() }
        await control.setRegistration(registrationTask)
        if await state.phase == .draining { registrationTask.cancel() }
        let registration: WorkerRegistrationResponse
        do {
            registration = try await registrationTask.value
        } catch is CancellationError {
            logger.info("stopped before registration finished")
            return
        }
        await control.setRegistration(nil)
        var workerLogger = logger
        workerLogger[metadataKey: "bosun.worker.id"] = "\(registration.workerId.lowercased)"
        workerLogger[metadataKey: "bosun.org.id"] = "\(registration.queue.organizationId.lowercased)"
        let logger = workerLogger

        guard await state.phase == .registering else {
            await deregister(logger: logger)
            return
        }
        await state.setPhase(.polling)
        notifier?.send(ready: "polling queue \(registration.queue.name) with \(configuration.slots) slot(s)")

        let background = [
            Task { await heartbeat.run() },
            Task { await watchdogLoop() },
            Task { await workspaceSweepLoop(logger: logger) },
            Task { await tokenRefreshLoop(logger: logger) },
        ]

        await withTaskGroup(of: Void.self) { group in
            await pollLoop(group: &group, startedAt: startedAt, logger: logger)
            await waitForRunningTasks(logger: logger)
            let stillRunning = await state.active.count
            if stillRunning > 0 {
                logger.warning("stopping running tasks and releasing them", metadata: ["tasks": "\(stillRunning)"])
                group.cancelAll()
            }
            await group.waitForAll()
        }

        background.forEach { $0.cancel() }
        await heartbeat.clear()
        await deregister(logger: logger)
        await state.setPhase(.stopped)
        // STOPPING again: the drain request's own notification runs in a task of its own and
        // could lose the race with a fast exit; systemd takes a repeated STOPPING=1 as one.
        notifier?.send(stopping: "stopped")
        let completed = await state.completed
        logger.info("worker stopped", metadata: ["tasks_completed": "\(completed)"])
    }

    /// Stops taking work, once: tells systemd the stop has begun and starts the drain clock.
    /// False when a drain had already begun.
    private func beginDrain(status: String) async -> Bool {
        guard await state.beginDrain() else { return false }
        notifier?.send(stopping: status)
        await control.markDrain()
        return true
    }

    /// First call drains, the next aborts.
    public func requestStop(reason: String) {
        Task {
            if await beginDrain(status: "draining") {
                logger.info("draining: no new tasks; running tasks may finish", metadata: ["reason": "\(reason)"])
                guard let worker = await session.workerId else {
                    await control.cancelInFlight()
                    return
                }
                do {
                    // The control API ends our pending poll empty, so no task goes to a leaving worker.
                    try await session.withToken { token in try await self.client.drain(token: token, worker: worker) }
                } catch {
                    logger.warning("drain call failed; cancelling the local poll", metadata: ["error": "\(error)"])
                    await control.cancelInFlight()
                }
            } else {
                logger.warning("second stop signal: stopping running tasks now", metadata: ["reason": "\(reason)"])
                await state.beginAbort()
                await control.cancelInFlight()
            }
        }
    }

    /// The sandbox must work before any task is taken: the `default` profile is compiled now, so a
    /// missing helper or a broken profile stops the worker at start instead of failing tasks.
    private func prepareSandbox(logger: Logger) async throws {
        guard let sandboxes else { return }
        do {
            let ready = try await sandboxes.prepare("default")
            // Which layers this host gives the profiles (a kernel without Landlock, say).
            let layers = try SandboxLayers.check(helper: ready.helper)
            logger.info(
                "sandbox ready",
                metadata: [
                    "bosun.sandbox.helper": "\(ready.helper)",
                    "bosun.sandbox.profiles": "\(sandboxes.installation.profilesDirectory)",
                    "bosun.sandbox.layers": "\(layers.summary.joined(separator: "; "))",
                ])
        } catch {
            throw WorkerFatalError(
                description: "the tool sandbox is unusable (\(error)); set BOSUN_SANDBOX_HELPER and BOSUN_SANDBOX_PROFILES, or check them with `bosun-worker sandbox check`")
        }
    }

    private func prepareWorkDirectory() throws {
        do {
            try FileManager.default.createDirectory(atPath: configuration.workDirectory, withIntermediateDirectories: true)
        } catch {
            throw WorkerFatalError(
                description: "\(WorkerSetting.workDirectory.flag) '\(configuration.workDirectory)' cannot be created: \(error)")
        }
        guard access(configuration.workDirectory, W_OK) == 0 else {
            throw WorkerFatalError(
                description: "\(WorkerSetting.workDirectory.flag) '\(configuration.workDirectory)' is not writable")
        }
    }

    /// Workspaces stay between the turns of an execution. One in which no task has started for a
    /// day (each task start touches its directory) belongs to an execution that finished
    /// elsewhere or was abandoned; it is removed at start and then hourly.
    static func sweepStaleWorkspaces(in workDirectory: String, olderThan age: TimeInterval = 24 * 3600, logger: Logger) {
        let root = URL(fileURLWithPath: workDirectory).appendingPathComponent("executions")
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return }
        let cutoff = Date().addingTimeInterval(-age)
        var removed = 0
        for entry in entries {
            let path = root.appendingPathComponent(entry).path
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                modified < cutoff
            else { continue }
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed += 1 }
        }
        if removed > 0 { logger.info("removed stale workspaces", metadata: ["count": "\(removed)"]) }
    }

    private func pollLoop(group: inout TaskGroup<Void>, startedAt: ContinuousClock.Instant, logger: Logger) async {
        var failures = 0
        var firstPoll = true
        while await state.acceptingWork {
            await state.waitForFreeSlot()
            guard await state.acceptingWork, let registration = await session.registration else { break }
            let free = configuration.once ? 1 : await state.freeSlots
            let wait = registration.poll.maxWaitS
            let worker = registration.workerId
            let session = self.session
            let client = self.client
            // Polls are sequential, so a task leased to this worker and not held now was in a
            // reply that never arrived; the control API gives it back (`held_task_ids`).
            let held = Array(await state.active)
            let poll = Task {
                try await session.withToken { token in
                    try await client.poll(token: token, worker: worker, slots: free, wait: wait, held: held)
                }
            }
            await control.setPoll(poll)
            if !(await state.acceptingWork) { poll.cancel() }
            if firstPoll {
                firstPoll = false
                logger.info(
                    "first poll sent", metadata: ["since_start_ms": "\((ContinuousClock.now - startedAt) / .milliseconds(1))"])
            }
            do {
                let tasks = try await poll.value
                await control.setPoll(nil)
                await state.contact(ok: true)
                failures = 0
                for assignment in tasks {
                    await state.taskStarted(assignment.id)
                    let supervisor = TaskSupervisor(
                        assignment: assignment, session: session, runtime: runtime(for: assignment),
                        configuration: configuration, llm: registration.llm, cgroupRoot: cgroupRoot,
                        sandboxes: sandboxes, onContact: { [state] ok in await state.contact(ok: ok) }, logger: logger)
                    let state = self.state
                    group.addTask {
                        await supervisor.run()
                        await state.taskFinished(assignment.id)
                    }
                }
                if configuration.once && !tasks.isEmpty {
                    logger.info("one-shot mode: took a task; no more polls")
                    _ = await state.beginDrain()
                }
            } catch is CancellationError {
                await control.setPoll(nil)
            } catch is WorkerDrainedByControlAPI {
                await control.setPoll(nil)
                await state.contact(ok: true)
                // An operator drained this worker through the API (a worker's own drain has
                // already stopped its polling): drain as on SIGTERM. Polling on would only get
                // empty replies at once, in a loop.
                if await beginDrain(status: "drained through the control API") {
                    logger.warning("the control API drained this worker: no new tasks; running tasks may finish, then it stops")
                }
            } catch is WorkerGone {
                await control.setPoll(nil)
                logger.warning("the control API removed this worker (lost or deregistered); registering again")
                do {
                    try await session.register()
                } catch {
                    logger.error("cannot register again", metadata: ["error": "\(error)"])
                    _ = await state.beginDrain()
                }
            } catch {
                await control.setPoll(nil)
                failures += 1
                await state.contact(ok: false)
                let delay = Backoff.delay(attempt: failures, base: .milliseconds(500), cap: .seconds(30))
                logger.warning(
                    "poll failed; backing off", metadata: ["error": "\(error)", "retry_in_ms": "\(delay / .milliseconds(1))"])
                await sleepUnlessStopping(delay)
            }
        }
    }

    private func runtime(for assignment: TaskAssignment) -> (any Runtime)? {
        if configuration.testRuntime { return runtimes["test"] }
        return runtimes[assignment.agent.runtime]
    }

    /// Waits for running tasks: until they finish, a second signal, or the drain timeout
    /// (one-shot mode without a signal waits for its task however long it takes).
    private func waitForRunningTasks(logger: Logger) async {
        var lastExtend = ContinuousClock.now - .seconds(60)
        while await !state.active.isEmpty, await !state.aborting {
            if let started = await control.drainStarted {
                if ContinuousClock.now - started >= configuration.drainTimeout {
                    logger.warning("drain timeout reached", metadata: ["timeout_s": "\(configuration.drainTimeout)"])
                    await state.beginAbort()
                    break
                }
                // Tell systemd the stop is progressing so TimeoutStopSec does not kill a healthy drain.
                if ContinuousClock.now - lastExtend >= .seconds(5) {
                    lastExtend = .now
                    let running = await state.active.count
                    notifier?.send(extendTimeout: .seconds(15), status: "draining: \(running) task(s) running")
                }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func sleepUnlessStopping(_ delay: Duration) async {
        let end = ContinuousClock.now + delay
        while ContinuousClock.now < end, await state.acceptingWork {
            try? await Task.sleep(for: min(.milliseconds(100), end - .now))
        }
    }

    /// WATCHDOG=1 only while the control API answers: a worker cut off from it is restarted.
    /// Executions that went on elsewhere, or were cancelled while waiting for input, leave their
    /// workspace here; an hourly sweep removes those no task has started in for a day.
    private func workspaceSweepLoop(logger: Logger) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
            if Task.isCancelled { return }
            Self.sweepStaleWorkspaces(in: configuration.workDirectory, logger: logger)
        }
    }

    private func watchdogLoop() async {
        guard let notifier, let interval = notifier.watchdogInterval else { return }
        while !Task.isCancelled {
            if await state.controlReachable { notifier.send(watchdog: ()) }
            try? await Task.sleep(for: interval)
        }
    }

    private func tokenRefreshLoop(logger: Logger) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(15))
            guard let registration = await session.registration else { continue }
            let ttl = registration.tokenExpiresAt.timeIntervalSince(Date())
            do {
                // Refresh when less than a fifth of an hour-long token is left (at least a minute).
                try await session.refreshIfExpiring(within: max(ttl > 0 ? 720 : 0, 60))
            } catch {
                logger.warning("token refresh failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func deregister(logger: Logger) async {
        guard let worker = await session.workerId else { return }
        for attempt in 1...5 {
            do {
                try await session.withToken { token in try await self.client.deregister(token: token, worker: worker) }
                logger.info("deregistered")
                return
            } catch let error as ControlAPIError where !error.isTransient {
                logger.info("deregistration not needed", metadata: ["error": "\(error)"])
                return
            } catch {
                if attempt == 5 {
                    logger.warning("could not deregister; the control API will mark this worker lost", metadata: ["error": "\(error)"])
                    return
                }
                try? await Task.sleep(for: Backoff.delay(attempt: attempt, base: .milliseconds(200), cap: .seconds(2)))
            }
        }
    }
}

extension SystemdNotifier {
    /// sd_notify is best effort: a full socket must never stop the worker.
    func send(ready status: String) { try? send("READY=1\nSTATUS=\(status)") }
    func send(status: String) { try? send("STATUS=\(status)") }
    func send(stopping status: String) { try? send("STOPPING=1\nSTATUS=\(status)") }
    func send(watchdog: Void) { try? send("WATCHDOG=1") }
    func send(extendTimeout: Duration, status: String) {
        try? send("EXTEND_TIMEOUT_USEC=\(extendTimeout / .microseconds(1))\nSTATUS=\(status)")
    }
}

