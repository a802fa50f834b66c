import ArgumentParser
import AsyncHTTPClient
import BosunControl
import BosunLogging
import BosunProtocol
import Foundation
import Logging
import NIOCore
import BosunSystem
import ScriptedLLM

/// Single-turn executions per second through the whole system: the control API (in process,
/// HTTP on loopback), real `bosun-worker` processes running the real `agno` runtime, and the
/// scripted LLM server standing in for the model. Printed beside PostgreSQL's own commit rate,
/// measured with pgbench in the same run, and the ceiling that rate sets given how many commits
/// one execution costs (counted from `pg_stat_database` during the run).
struct EndToEndBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e", abstract: "Executions per second end to end, against PostgreSQL's commit rate (pgbench).")

    @Option(help: "PostgreSQL URL (or BOSUN_DATABASE_URL). The benchmark creates its own organization there.")
    var databaseURL: String?

    @Option(help: "Worker processes.")
    var workers: Int = 2

    @Option(help: "Slots (concurrent turns) per worker.")
    var slots: Int = 4

    @Option(help: "Executions to time (after a warm-up of 20).")
    var executions: Int = 300

    @Option(help: "Concurrent submitters.")
    var submitters: Int = 8

    @Option(help: "Seconds pgbench runs.")
    var pgbenchSeconds: Int = 10

    @Option(help: "The bosun-worker binary (default: next to this one).")
    var worker: String?

    @Option(help: "Sandbox profiles directory for the workers.")
    var profiles: String = "sandbox-profiles"

    func validate() throws {
        guard workers >= 1, slots >= 1, executions >= 10, submitters >= 1, pgbenchSeconds >= 1 else {
            throw ValidationError("--workers, --slots, --submitters, --pgbench-seconds must be at least 1, --executions at least 10")
        }
    }

    func run() async throws {
        BosunLogging.bootstrap(level: .error)
        var logger = Logger(label: "bosun-bench")
        logger.logLevel = .critical
        var environment = ProcessInfo.processInfo.environment
        if let databaseURL { environment["BOSUN_DATABASE_URL"] = databaseURL }
        var configuration = try ControlConfiguration.fromEnvironment(environment)
        configuration.port = 0
        configuration.redisURL = nil
        configuration.llmBaseURL = nil  // no analyzer: the rules decide every turn
        configuration.databaseMaxConnections = max(10, workers * slots + submitters + 4)
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let binary = worker ?? directory.appendingPathComponent("bosun-worker").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("no bosun-worker at \(binary); build it or pass --worker")
        }
        guard FileManager.default.fileExists(atPath: profiles + "/default.json") else {
            throw ValidationError("no sandbox profiles in '\(profiles)'; run from the repository or pass --profiles")
        }

        let llm = try await ScriptedLLMServer.start(
            script: ScriptedLLMScript(default: .init(text: "Done.")), requireKey: "sk-bench", logger: logger)
        defer { Task { await llm.stop() } }
        let control = try await InProcessControl.start(configuration: configuration, logger: logger)
        defer { control.stop() }
        let server = control.server
        let base = control.baseURL
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: submitters + 4)))
        defer { _ = http.shutdown() }

        let bootstrap = try await Bootstrap(database: server.services.database, logger: logger)
            .run(organization: "bench-e2e-\(UUID().uuidString.prefix(8).lowercased())")
        let admin = BenchClient(http: http, base: base, token: bootstrap.adminKey)
        let agent: Agent = try await admin.call(
            "POST", "/api/v1/agents",
            AgentDefinition(name: "e2e", runtime: .agno, model: "openai/gpt-4o-mini", instructions: "Answer briefly."))
        let key: CreatedAPIKey = try await admin.call(
            "POST", "/api/v1/api-keys", CreateAPIKeyRequest(name: "bench", scope: .worker, queueId: bootstrap.queueId))

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-bench-e2e-\(UUID().uuidString.prefix(6))")
        var children: [Process] = []
        defer {
            for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(at: work)
        }
        for index in 0..<workers {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: binary)
            child.arguments = [
                "run", "--slots", String(slots), "--work-dir", work.appendingPathComponent("w\(index)").path,
                "--log-level", "error", "--name", "bench-\(index)",
            ]
            var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BOSUN_") }
            env["BOSUN_CONTROL_URL"] = base
            env["BOSUN_API_KEY"] = key.key
            env["BOSUN_QUEUE_ID"] = bootstrap.queueId.uuidString.lowercased()
            env["BOSUN_LLM_BASE_URL"] = llm.url
            env["BOSUN_LLM_API_KEY"] = "sk-bench"
            env["BOSUN_SANDBOX_PROFILES"] = URL(fileURLWithPath: profiles).standardizedFileURL.path
            child.environment = env
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            children.append(child)
        }
        let database = server.services.database
        let organization = bootstrap.organizationId
        func finished() async throws -> (completed: Int, failed: Int) {
            try await database.withTenant(organization) { connection in
                let rows = try await connection.query(
                    """
                    SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status IN ('failed', 'cancelled'))
                    FROM executions
                    """, logger: logger)
                for try await (completed, failed) in rows.decode((Int64, Int64).self) { return (Int(completed), Int(failed)) }
                return (0, 0)
            }
        }
        func commits() async throws -> Int64 {
            try await database.withoutTenant { connection in
                let rows = try await connection.query(
                    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()", logger: logger)
                for try await value in rows.decode(Int64.self) { return value }
                return 0
            }
        }
        func submitAll(_ count: Int, label: String) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for submitter in 0..<submitters {
                    group.addTask {
                        var index = submitter
                        while index < count {
                            let _: Execution = try await admin.call(
                                "POST", "/api/v1/executions",
                                CreateExecutionRequest(agentId: agent.id, input: .string("\(label) \(index): say done")))
                            index += submitters
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        func waitUntil(_ total: Int, timeout: Duration) async throws -> (completed: Int, failed: Int) {
            let deadline = ContinuousClock.now + timeout
            while true {
                let state = try await finished()
                if state.completed + state.failed >= total { return state }
                guard ContinuousClock.now < deadline else {
                    throw ValidationError("only \(state.completed + state.failed) of \(total) executions finished in \(timeout)")
                }
                for child in children where !child.isRunning {
                    throw ValidationError("a worker exited with status \(child.terminationStatus)")
                }
                // Counting scans every execution of the run: often enough for a 1 % error on a
                // run of several seconds, rarely enough not to load the database it measures.
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        print("bosun bench e2e: \(workers) workers x \(slots) slots (agno runtime, scripted LLM), \(submitters) submitters, control API on the \(ConcurrencyExecutor.inEffect.rawValue) executor")
        let warmup = 20
        try await submitAll(warmup, label: "warm-up")
        _ = try await waitUntil(warmup, timeout: .seconds(120))
        // A busy PostgreSQL 15 backend reports its counters at most once a second and an idle one
        // within 10 s (and at disconnect): waiting that long on both sides of the window is what
        // makes the count exact. Measured: after a 1 s wait, half of a run's commits were
        // still unreported, and runs of the same build read 3.7 or 7.5 commits per execution.
        print("waiting 11 s for PostgreSQL's statistics to settle before and after the timed run")
        try await Task.sleep(for: .seconds(11))
        let commitsBefore = try await commits()
        let started = ContinuousClock.now
        try await submitAll(executions, label: "timed")
        let state = try await waitUntil(warmup + executions, timeout: .seconds(600))
        let elapsed = (ContinuousClock.now - started).seconds
        // Stopped first, so their idle long polls do not add commits while the counters settle.
        for child in children { kill(child.processIdentifier, SIGKILL) }
        try await Task.sleep(for: .seconds(11))
        let commitsAfter = try await commits()
        let rate = Double(executions) / elapsed
        let perExecution = Double(commitsAfter - commitsBefore) / Double(executions)
        print(
            String(
                format: "end to end: %d single-turn executions in %.2f s = %.1f executions/s (%d completed, %d failed in all)",
                executions, elapsed, rate, state.completed, state.failed))
        print(String(format: "PostgreSQL commits per execution (pg_stat_database, whole database): %.1f", perExecution))

        let tps = try await pgbench(url: configuration.databaseURL, seconds: pgbenchSeconds)
        let ceiling = tps / perExecution
        print(String(format: "pgbench simple-update, 8 clients, %d s: %.0f commits/s", pgbenchSeconds, tps))
        print(
            String(
                format: "ceiling that commit rate sets: %.1f executions/s; measured %.1f = %.0f %% of it (goal >= 50 %%)",
                ceiling, rate, rate / ceiling * 100))
    }

    /// pgbench's simple-update on a scratch database next to Bosun's, on the same server. Run
    /// through ChildProcess, which resets the signal mask: pgbench's `-T` timer is a SIGALRM that
    /// a child spawned from a concurrency thread would otherwise never receive.
    func pgbench(url: DatabaseURL, seconds: Int) async throws -> Double {
        let scratch = "bosun_pgbench_\(UUID().uuidString.prefix(8).lowercased())"
        var target = url
        target.database = scratch
        // The URL's text leaves the password out; libpq takes it from the environment.
        var environment = ProcessInfo.processInfo.environment
        if let password = url.password { environment["PGPASSWORD"] = password }
        func run(_ arguments: [String]) async throws -> String {
            let child = try ChildProcess.spawn(
                executable: "/usr/bin/env", arguments: arguments, environment: environment, workingDirectory: nil)
            let output = await child.output()
            let text = String(decoding: output.stdout + output.stderr, as: UTF8.self)
            guard output.status == .exited(0) else {
                throw ValidationError("\(arguments.prefix(2).joined(separator: " ")) failed: \(text.suffix(500))")
            }
            return text
        }
        _ = try await run(["psql", url.description, "-q", "-c", "CREATE DATABASE \(scratch)"])
        do {
            _ = try await run(["pgbench", "-i", "-q", "-s", "1", target.description])
            let text = try await run(
                ["pgbench", "-n", "-b", "simple-update", "-c", "8", "-j", "2", "-T", String(seconds), target.description])
            _ = try? await run(["psql", url.description, "-q", "-c", "DROP DATABASE IF EXISTS \(scratch)"])
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
                let value = Double(line.dropFirst("tps = ".count).split(separator: " ").first ?? "")
            else { throw ValidationError("no tps in pgbench's output: \(text.suffix(500))") }
            return value
        } catch {
            _ = try? await run(["psql", url.description, "-q", "-c", "DROP DATABASE IF EXISTS \(scratch)"])
            throw error
        }
    }
}
