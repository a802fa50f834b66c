import BosunProtocol
import BosunControl
import BosunTestSupport
import Foundation

/// A spawned Bosun binary whose output goes to a log file the test reads.
protocol LoggedProcess: AnyObject {
    var process: Process { get }
    var logURL: URL { get }
    /// How the failure messages name it ("worker", "bosun-control").
    var name: String { get }
}

/// Sends `process`'s output (both streams) to a new file in the temporary directory, named
/// `<prefix>-<id>.log`, and gives it no input; returns the file.
func captureOutput(of process: Process, prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8)).log")
    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
    let log = try FileHandle(forWritingTo: url)
    process.standardOutput = log
    process.standardError = log
    process.standardInput = FileHandle.nullDevice
    return url
}

extension LoggedProcess {
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    func signal(_ signo: Int32) { kill(process.processIdentifier, signo) }

    /// The exit status, or nil if it is still running at the deadline.
    func waitForExit(timeout: Duration) async -> Int32? {
        let end = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > end { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// Waits until the log contains `text`.
    func waitForLog(_ text: String, timeout: Duration = .seconds(20)) async throws {
        let end = ContinuousClock.now + timeout
        while !log.contains(text) {
            if ContinuousClock.now > end { throw TestFailure("\(name) log never said '\(text)':\n\(log.suffix(3000))") }
            if !process.isRunning {
                throw TestFailure("\(name) exited (\(process.terminationStatus)) before '\(text)':\n\(log.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A real `bosun-worker` process (the binary `swift build` made), with its log captured.
final class WorkerProcess: LoggedProcess, @unchecked Sendable {
    let name = "worker"
    let process = Process()
    let logURL: URL
    let workDirectory: String

    /// The directory holding the built executables: the test bundle sits beside them.
    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["BOSUN_TEST_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // The test binary may sit inside an .xctest bundle directory.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("bosun-worker").path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }

    init(
        controlURL: String, apiKey: String, queue: UUID, slots: Int = 1, extraArguments: [String] = [],
        environment extra: [String: String] = [:], testRuntime: Bool = true
    ) throws {
        let id = UUID().uuidString.prefix(8)
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-work-\(id)").path
        process.executableURL = Self.binDirectory.appendingPathComponent("bosun-worker")
        process.arguments =
            ["run"] + (testRuntime ? ["--test-runtime"] : [])
            + ["--slots", String(slots), "--work-dir", workDirectory, "--kill-grace", "1"] + extraArguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BOSUN_") && !$0.key.hasPrefix("NOTIFY_") }
        environment["BOSUN_CONTROL_URL"] = controlURL
        environment["BOSUN_API_KEY"] = apiKey
        environment["BOSUN_QUEUE_ID"] = queue.uuidString.lowercased()
        environment["BOSUN_LOG_LEVEL"] = "debug"
        // This checkout's profiles; the helper is found next to the worker binary.
        environment["BOSUN_SANDBOX_PROFILES"] = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("sandbox-profiles").path
        environment.merge(extra) { _, new in new }
        process.environment = environment
        logURL = try captureOutput(of: process, prefix: "bosun-worker")
    }

    /// Starts the worker inside `cgroup` (a directory under the cgroup2 mount), as systemd
    /// starts it in `<unit>/supervisor` with `DelegateSubgroup=supervisor`.
    func startInCgroup(_ cgroup: String) throws -> WorkerProcess {
        let binary = process.executableURL!.path
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "echo $$ > '\(cgroup)/cgroup.procs' && exec '\(binary)' \"$@\"", "sh"] + (process.arguments ?? [])
        return try start()
    }

    func start() throws -> WorkerProcess {
        try process.run()
        return self
    }

    var pid: Int32 { process.processIdentifier }

    /// Stops the worker the way an operator would (drain, then abort) so its task processes
    /// are stopped too; SIGKILL only if that fails.
    func stop() async {
        if process.isRunning {
            signal(SIGTERM)
            signal(SIGTERM)
            if await waitForExit(timeout: .seconds(10)) == nil {
                signal(SIGKILL)
                _ = await waitForExit(timeout: .seconds(5))
            }
        }
        try? FileManager.default.removeItem(atPath: workDirectory)
    }
}

func processAlive(_ pid: Int32) -> Bool {
    // A zombie still answers kill(0); /proc/<pid>/stat says 'Z'.
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z"
}

extension Tenant {
    func execution(_ id: UUID) async throws -> Execution {
        let reply = try await admin.get("/api/v1/executions/\(id.uuidString.lowercased())")
        guard reply.status == 200 else { throw TestFailure("get execution: \(reply.status) \(reply.text)") }
        return try reply.decode()
    }

    func waitForStatus(_ id: UUID, _ statuses: Set<ExecutionStatus>, timeout: Duration = .seconds(30)) async throws
        -> Execution
    {
        try await eventually("execution \(id) to reach \(statuses.map(\.rawValue))", timeout: timeout) {
            let execution = try await self.execution(id)
            return statuses.contains(execution.status) ? execution : nil
        }
    }

    func events(_ id: UUID) async throws -> [ExecutionEvent] {
        let reply = try await admin.get("/api/v1/executions/\(id.uuidString.lowercased())/events?limit=1000")
        guard reply.status == 200 else { throw TestFailure("events: \(reply.status) \(reply.text)") }
        return try reply.decode(ExecutionEventPage.self).events
    }

    func transitions(_ id: UUID) async throws -> [StateTransition] {
        let reply = try await admin.get("/api/v1/executions/\(id.uuidString.lowercased())/transitions")
        guard reply.status == 200 else { throw TestFailure("transitions: \(reply.status) \(reply.text)") }
        return try reply.decode(ItemList<StateTransition>.self).items
    }

    func workers() async throws -> [WorkerInfo] {
        let reply = try await admin.get("/api/v1/workers")
        guard reply.status == 200 else { throw TestFailure("workers: \(reply.status) \(reply.text)") }
        return try reply.decode(ItemList<WorkerInfo>.self).items
    }
}

/// One test's world: a control API on its own database, a tenant, and the workers the test
/// starts. `run` always stops the workers (drain, then abort) before the server, whatever the
/// test did, so no worker talks to a server that is going away and no task process outlives it.
final class Harness: @unchecked Sendable {
    let server: TestServer
    let tenant: Tenant
    private let lock = NSLock()
    private var workers: [WorkerProcess] = []
    private var cleanups: [@Sendable () async -> Void] = []

    init(server: TestServer, tenant: Tenant) {
        self.server = server
        self.tenant = tenant
    }

    static func run(
        _ adjust: @escaping @Sendable (inout ControlConfiguration) -> Void = { _ in },
        _ body: (Harness) async throws -> Void
    ) async throws {
        let server = try await TestServer.startIsolated(adjust)
        let harness: Harness
        do {
            harness = Harness(server: server, tenant: try await Tenant.create(on: server))
        } catch {
            await server.stop()
            throw error
        }
        do {
            try await body(harness)
        } catch {
            await harness.shutdown()
            throw error
        }
        await harness.shutdown()
    }

    /// A worker with a fresh worker key for the tenant's default queue.
    /// `testRuntime: false` runs the real `agno` and `claude_code` runtimes.
    func worker(
        slots: Int = 1, arguments: [String] = [], environment: [String: String] = [:], testRuntime: Bool = true
    ) async throws -> WorkerProcess {
        let key = try await tenant.createKey(scope: .worker, queue: tenant.queueId)
        return try adopt(
            WorkerProcess(
                controlURL: server.baseURL, apiKey: key, queue: tenant.queueId, slots: slots, extraArguments: arguments,
                environment: environment, testRuntime: testRuntime))
    }

    /// Starts `worker` (in `cgroup` when given) and stops it at the end of the test.
    func adopt(_ worker: WorkerProcess, inCgroup cgroup: String? = nil) throws -> WorkerProcess {
        lock.withLock { workers.append(worker) }
        if let cgroup { return try worker.startInCgroup(cgroup) }
        return try worker.start()
    }

    func onShutdown(_ cleanup: @escaping @Sendable () async -> Void) { lock.withLock { cleanups.append(cleanup) } }

    func shutdown() async {
        let (workers, cleanups) = lock.withLock { (self.workers, self.cleanups) }
        for worker in workers { await worker.stop() }
        await server.stop()
        for cleanup in cleanups { await cleanup() }
    }
}
