import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

/// The real `bosun-control` binary (the other tests host the control API in the test process,
/// on Swift's default executor): it runs on NIO's event loops unless told otherwise, serves a
/// real worker through a whole execution, and stops cleanly on SIGTERM.
@Suite(.serialized) struct ControlProcessTests {
    @Test func theControlBinaryRunsOnTheEventLoopsServesAWorkerAndStopsOnSigterm() async throws {
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let port = try freePort()
            let control = try ControlProcess(database: h.server.server.services.configuration.databaseURL, port: port)
            h.onShutdown { await control.stop() }
            try await control.waitForLog("bosun-control is listening", timeout: .seconds(30))
            #expect(control.log.contains(#""concurrency_executor":"nio""#))

            // The tenant the harness made, through the spawned process.
            let base = "http://127.0.0.1:\(port)"
            let tenant = Tenant(
                organizationId: h.tenant.organizationId, environmentId: h.tenant.environmentId, queueId: h.tenant.queueId,
                admin: APIClient(baseURL: base, token: h.tenant.admin.token))
            let agent = try await tenant.createAgent()
            let key = try await tenant.createKey(scope: .worker, queue: tenant.queueId)
            let worker = try h.adopt(WorkerProcess(controlURL: base, apiKey: key, queue: tenant.queueId, slots: 2))
            try await worker.waitForLog("first poll sent")
            var executions: [Execution] = []
            for index in 0..<4 {
                executions.append(try await tenant.submit(agent: agent.id, input: .string("events 3; echo run \(index)")))
            }
            for (index, execution) in executions.enumerated() {
                let done = try await tenant.waitForStatus(execution.id, [.completed, .failed])
                #expect(done.status == .completed)
                #expect(done.output == "run \(index)")
            }
            let events = try await tenant.events(executions[0].id)
            #expect(events.filter { $0.type == "test.tick" }.count == 3)

            await worker.stop()
            control.signal(SIGTERM)
            #expect(await control.waitForExit(timeout: .seconds(15)) == 0)
        }
    }

    @Test func aBadExecutorSettingFailsAtStartNamingTheSetting() async throws {
        let control = try ControlProcess(
            database: try DatabaseURL(TestEnvironment.databaseURL), port: try freePort(),
            environment: ["BOSUN_CONCURRENCY_EXECUTOR": "threads"])
        #expect(await control.waitForExit(timeout: .seconds(15)) == 64)
        #expect(control.log.contains("BOSUN_CONCURRENCY_EXECUTOR must be 'nio' or 'swift', got 'threads'"))
    }

    @Test func theSettingDefaultsToTheEventLoopsAndTakesSwift() throws {
        #expect(try ConcurrencyExecutor.fromEnvironment([:]) == .eventLoops)
        #expect(try ConcurrencyExecutor.fromEnvironment(["BOSUN_CONCURRENCY_EXECUTOR": ""]) == .eventLoops)
        #expect(try ConcurrencyExecutor.fromEnvironment(["BOSUN_CONCURRENCY_EXECUTOR": "swift"]) == .swift)
        #expect(throws: ConfigurationError.self) { try ConcurrencyExecutor.fromEnvironment(["BOSUN_CONCURRENCY_EXECUTOR": "NIO"]) }
    }
}

/// A real `bosun-control serve` process on `port`, with its log captured.
final class ControlProcess: LoggedProcess, @unchecked Sendable {
    let name = "bosun-control"
    let process = Process()
    let logURL: URL

    init(database: DatabaseURL, port: Int, environment extra: [String: String] = [:]) throws {
        process.executableURL = WorkerProcess.binDirectory.appendingPathComponent("bosun-control")
        process.arguments = ["serve"]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BOSUN_") && !$0.key.hasPrefix("NOTIFY_") }
        let password = database.password.map { ":\($0)" } ?? ""
        environment["BOSUN_DATABASE_URL"] =
            "postgres://\(database.username)\(password)@\(database.host):\(database.port)/\(database.database)"
        environment["BOSUN_LISTEN"] = "127.0.0.1:\(port)"
        environment["BOSUN_LOG_LEVEL"] = "info"
        environment.merge(extra) { _, new in new }
        process.environment = environment
        logURL = try captureOutput(of: process, prefix: "bosun-control")
        try process.run()
    }

    func stop() async {
        guard process.isRunning else { return }
        signal(SIGTERM)
        if await waitForExit(timeout: .seconds(10)) == nil {
            signal(SIGKILL)
            _ = await waitForExit(timeout: .seconds(5))
        }
    }
}
