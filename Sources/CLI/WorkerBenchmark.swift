import ArgumentParser
import AsyncHTTPClient
import BosunControl
import BosunLogging
import BosunProtocol
import Foundation
import Logging
import NIOCore

/// The cost of an idle worker: time from process start to its first long poll, then resident
/// memory and CPU while it sits registered and polling (with heartbeats, when Redis is given).
///
/// It starts `bosun-control` in process on a free port, bootstraps a throw-away organization and
/// starts the real `bosun-worker` binary as a child. Start-to-first-poll is measured from just
/// before the spawn to the moment the worker's "first poll sent" log line arrives on its stderr,
/// so process start, configuration, host probes and registration are all inside it. Idle CPU is
/// the worker's own user+system time (/proc/<pid>/stat) over the idle window.
struct WorkerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Idle RSS, idle CPU and start-to-first-poll time of a real worker.")

    @Option(help: "PostgreSQL URL (or BOSUN_DATABASE_URL). The benchmark creates its own organization there.")
    var databaseURL: String?

    @Option(help: "Redis URL (or BOSUN_REDIS_URL); with it the worker sends its heartbeats as in production.")
    var redisURL: String?

    @Option(help: "The bosun-worker binary (default: next to this one).")
    var worker: String?

    @Option(help: "Worker starts to time.")
    var starts: Int = 5

    @Option(help: "Seconds the last worker stays idle while its RSS and CPU are measured.")
    var idleSeconds: Double = 30

    func validate() throws {
        guard starts >= 1, idleSeconds > 0 else { throw ValidationError("--starts and --idle-seconds must be positive") }
    }

    func run() async throws {
        BosunLogging.bootstrap(level: .error)
        var logger = Logger(label: "bosun-bench")
        logger.logLevel = .critical
        var environment = ProcessInfo.processInfo.environment
        if let databaseURL { environment["BOSUN_DATABASE_URL"] = databaseURL }
        if let redisURL { environment["BOSUN_REDIS_URL"] = redisURL }
        var configuration = try ControlConfiguration.fromEnvironment(environment)
        configuration.port = 0
        let binary =
            worker
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("bosun-worker").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("no bosun-worker at \(binary); build it or pass --worker")
        }

        let control = try await InProcessControl.start(configuration: configuration, logger: logger)
        defer { control.stop() }
        let server = control.server
        let base = control.baseURL
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        let bootstrap = try await Bootstrap(database: server.services.database, logger: logger)
            .run(organization: "bench-\(UUID().uuidString.prefix(8).lowercased())")
        let admin = BenchClient(http: http, base: base, token: bootstrap.adminKey)
        let key: CreatedAPIKey = try await admin.call(
            "POST", "/api/v1/api-keys", CreateAPIKeyRequest(name: "bench", scope: .worker, queueId: bootstrap.queueId))

        print("bosun bench worker: \(binary)")
        print("heartbeats: \(configuration.redisURL == nil ? "off (no Redis)" : "on")")
        var firstPoll: [Double] = []
        var selfReported: [Double] = []
        var last: RunningWorker?
        for index in 0..<starts {
            let running = try RunningWorker.start(
                binary: binary, controlURL: base, apiKey: key.key, queue: bootstrap.queueId)
            let (wall, reported) = try await running.waitForFirstPoll(timeout: .seconds(30))
            firstPoll.append(wall)
            selfReported.append(reported)
            if index < starts - 1 { await running.stop() } else { last = running }
        }
        firstPoll.sort()
        print(
            String(
                format: "start -> first poll (spawn to poll sent): median %.1f ms, min %.1f ms, max %.1f ms (%d starts)",
                firstPoll[firstPoll.count / 2], firstPoll.first!, firstPoll.last!, starts))
        selfReported.sort()
        print(String(format: "  of which inside the worker (run() to poll sent): median %.1f ms", selfReported[selfReported.count / 2]))

        guard let idle = last else { return }
        // Let start-up settle (first full heartbeat, GPU probe) before the window opens.
        try await Task.sleep(for: .seconds(2))
        let before = idle.cpuSeconds()
        let clock = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(Int64(idleSeconds * 1000)))
        let elapsed = (ContinuousClock.now - clock) / .seconds(1)
        let cpu = (idle.cpuSeconds() - before) / elapsed * 100
        print(
            String(
                format: "idle RSS: %.1f MB (peak %.1f MB); PSS %.1f MB; anonymous (heap, stacks, relocated data) %.1f MB",
                idle.rssMB(field: "VmRSS"), idle.rssMB(field: "VmHWM"), idle.rollupMB("Pss"), idle.rollupMB("Anonymous")))
        // Not Private_Dirty: a binary linked or copied moments ago still has unwritten page-cache
        // pages, which count as dirty (16.6 MB of a fresh copy, 2.7 MB after `sync`).
        print("  (RSS counts the code and read-only data mapped from the binary and its libraries; scripts/build-worker builds the deployed footprint)")
        print("  (and how the binary's page cache was filled: right after the binary was written or copied, more of it is resident)")
        print(String(format: "idle CPU: %.3f %% of one core over %.0f s", cpu, elapsed))
        await idle.stop()
    }
}

/// A `bosun-worker` child whose stderr is watched for its log lines.
final class RunningWorker: @unchecked Sendable {
    let process = Process()
    let started: ContinuousClock.Instant
    private let lock = NSLock()
    private var buffer = ""
    private var firstPoll: (ContinuousClock.Instant, Double)?

    static func start(binary: String, controlURL: String, apiKey: String, queue: UUID) throws -> RunningWorker {
        let worker = RunningWorker(binary: binary, controlURL: controlURL, apiKey: apiKey, queue: queue)
        try worker.process.run()
        return worker
    }

    private init(binary: String, controlURL: String, apiKey: String, queue: UUID) {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--work-dir", FileManager.default.temporaryDirectory.appendingPathComponent("bosun-bench-work").path]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BOSUN_") }
        environment["BOSUN_CONTROL_URL"] = controlURL
        environment["BOSUN_API_KEY"] = apiKey
        environment["BOSUN_QUEUE_ID"] = queue.uuidString.lowercased()
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        started = .now
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            let now = ContinuousClock.now
            self.lock.withLock {
                self.buffer += String(decoding: data, as: UTF8.self)
                while let newline = self.buffer.firstIndex(of: "\n") {
                    let line = String(self.buffer[..<newline])
                    self.buffer.removeSubrange(...newline)
                    if self.firstPoll == nil, line.contains("first poll sent"),
                        let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    {
                        let reported = (object["since_start_ms"] as? String).flatMap(Double.init) ?? .nan
                        self.firstPoll = (now, reported)
                    }
                }
                // Only the start matters; the rest of the log is not kept.
                if self.buffer.count > 1 << 16 { self.buffer = "" }
            }
        }
    }

    func waitForFirstPoll(timeout: Duration) async throws -> (Double, Double) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let (at, reported) = lock.withLock({ firstPoll }) { return ((at - started) / .milliseconds(1), reported) }
            guard process.isRunning else { throw ValidationError("the worker exited with \(process.terminationStatus)") }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw ValidationError("the worker did not poll within \(timeout)")
    }

    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func rssMB(field: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else {
            return 0
        }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kilobytes / 1024
        }
        return 0
    }

    /// A field of /proc/<pid>/smaps_rollup, in MB.
    func rollupMB(_ field: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/smaps_rollup", encoding: .utf8)
        else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return (line.split(separator: " ").compactMap { Double($0) }.first ?? 0) / 1024
        }
        return 0
    }

    func stop() async {
        process.terminate()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }
}
