import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import Redis
import Testing

/// Workers dying and Redis going away, with the real binaries and servers.
@Suite struct WorkerFaultTests {
    /// Default heartbeat settings (10 s light interval): the lost-worker target holds as shipped.
    @Test func killNineMidTaskAnotherWorkerFinishesItWithin30Seconds() async throws {
        try await Harness.run({ $0.pollMaxWait = .seconds(5) }) { h in
        let tenant = h.tenant
        let agent = try await tenant.createAgent()
        let first = try await h.worker()
        try await first.waitForLog("first poll sent")
        let execution = try await tenant.submit(agent: agent.id, input: "sleep 3; echo survived")
        _ = try await tenant.waitForStatus(execution.id, [.running])

        first.signal(SIGKILL)
        let killed = ContinuousClock.now
        _ = await first.waitForExit(timeout: .seconds(5))
        _ = try await h.worker()

        let requeue = try await eventually("the lost worker's task to be re-queued", timeout: .seconds(40)) {
            try await tenant.transitions(execution.id).first { $0.reason.contains("worker lost") }
        }
        let detection = ContinuousClock.now - killed
        #expect(detection <= .seconds(30), "lost-worker detection took \(detection)")
        #expect(requeue.to == "queued")
        let done = try await tenant.waitForStatus(execution.id, [.completed, .failed])
        #expect(done.status == .completed)
        #expect(done.output == "survived")
        print("lost-worker detection after kill -9: \(detection)")
        }
    }

    @Test func redisStoppedAndRestartedWhileTasksRunFailsNothing() async throws {
        let redis = try await RedisServer.start()
        try await Harness.run({ configuration in
            configuration.redisURL = redis.url
            configuration.heartbeatLightInterval = 0.5
            configuration.heartbeatFullInterval = 1
            configuration.leaseRenewInterval = .milliseconds(500)
            configuration.pollMaxWait = .seconds(5)
        }) { h in
        h.onShutdown { await redis.stop() }
        let tenant = h.tenant
        let agent = try await tenant.createAgent()
        let worker = try await h.worker(slots: 3)
        try await worker.waitForLog("first poll sent")

        var ids: [UUID] = []
        for index in 0..<3 { ids.append(try await tenant.submit(agent: agent.id, input: .string("sleep 6; echo task \(index)")).id) }
        for id in ids { _ = try await tenant.waitForStatus(id, [.running]) }
        await redis.stop()
        try await Task.sleep(for: .seconds(3))
        try await worker.waitForLog("heartbeat failed; tasks keep running")
        try await redis.restart()

        for id in ids {
            let done = try await tenant.waitForStatus(id, [.completed, .failed, .queued], timeout: .seconds(30))
            #expect(done.status == .completed)
        }
        // Redis came back empty (no ACL users either): the worker got a new login and beats again.
        let client = RedisConnection(url: try RedisURL(redis.url))
        let workerId = try #require(try await tenant.workers().first?.id)
        let prefix = "bosun:\(TaskQueue.wireName(organizationId: tenant.organizationId, queueId: tenant.queueId))"
        let key = HeartbeatKeys(prefix: prefix, workerId: workerId).light
        try await eventually("heartbeats to resume after the Redis restart") {
            try await client.command(["EXISTS", key]) == .integer(1) ? true : nil
        }
        #expect(worker.log.contains("heartbeats resumed"))
        for id in ids {
            #expect(try await tenant.transitions(id).allSatisfy { $0.to != "failed" && !$0.reason.contains("lost") })
        }
        }
    }
}

extension WorkerFaultTests {
    /// The control API goes away mid-turn and comes back on the same address: renewals, events
    /// and the completion are retried, nothing is lost or duplicated, and the turn is not re-run.
    @Test func aControlAPIRestartMidTurnLosesNoEvents() async throws {
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let agent = try await h.tenant.createAgent()
            let worker = try await h.worker()
            try await worker.waitForLog("first poll sent")
            let execution = try await h.tenant.submit(agent: agent.id, input: "events 3; sleep 3; events 3; echo done")
            try await eventually("the first events") {
                try await h.tenant.events(execution.id).filter { $0.type == "test.tick" }.count == 3 ? true : nil
            }
            let port = h.server.port
            await h.server.stop()
            try await Task.sleep(for: .milliseconds(1500))
            let restarted = try await TestServer.start { configuration in
                WorkerDaemonTests.fast(&configuration)
                configuration.databaseURL = h.server.server.services.configuration.databaseURL
                configuration.port = port
            }
            h.onShutdown { await restarted.stop() }
            let tenant = Tenant(
                organizationId: h.tenant.organizationId, environmentId: h.tenant.environmentId,
                queueId: h.tenant.queueId, admin: APIClient(baseURL: restarted.baseURL, token: h.tenant.admin.token))
            let done = try await tenant.waitForStatus(execution.id, [.completed, .failed])
            #expect(done.status == .completed)
            #expect(done.output == "done")
            let events = try await tenant.events(execution.id)
            let ticks = events.filter { $0.type == "test.tick" }.compactMap { $0.data["index"]?.numberValue }
            #expect(ticks == [0, 1, 2, 0, 1, 2])
            #expect(events.filter { $0.type == "run_started" }.count == 1)
            #expect(try await tenant.transitions(execution.id).filter { $0.to == "running" }.count == 1)
        }
    }
}

extension WorkerFaultTests {
    /// With Redis down the sweeper judges liveness by PostgreSQL's last-seen time alone: a worker
    /// killed meanwhile is still found lost, and the worker list says where its state came from.
    @Test func aWorkerDyingWhileRedisIsDownIsFoundLostFromPostgreSQL() async throws {
        let redis = try await RedisServer.start()
        try await Harness.run({ configuration in
            configuration.redisURL = redis.url
            WorkerDaemonTests.fast(&configuration)
        }) { h in
            h.onShutdown { await redis.stop() }
            let agent = try await h.tenant.createAgent()
            let worker = try await h.worker()
            try await worker.waitForLog("first poll sent")
            let execution = try await h.tenant.submit(agent: agent.id, input: "sleep 2; echo survived")
            _ = try await h.tenant.waitForStatus(execution.id, [.running])
            await redis.stop()
            worker.signal(SIGKILL)
            _ = await worker.waitForExit(timeout: .seconds(5))
            let live = try #require(try await h.tenant.workers().first?.live)
            #expect(live.source == "postgres")

            let lost = try await eventually("the worker to be found lost without Redis", timeout: .seconds(30)) {
                try await h.tenant.transitions(execution.id).first { $0.reason.contains("worker lost") }
            }
            #expect(lost.reason.contains("heartbeats unavailable"))
            _ = try await h.worker()
            let done = try await h.tenant.waitForStatus(execution.id, [.completed, .failed])
            #expect(done.output == "survived")
        }
    }
}

/// A private redis-server this test may stop and start.
final class RedisServer: @unchecked Sendable {
    let port: Int
    let directory: String
    var process: Process?
    var url: String { "redis://127.0.0.1:\(port)" }

    static func start() async throws -> RedisServer {
        let server = RedisServer(port: try freePort())
        try await server.restart()
        return server
    }

    init(port: Int) {
        self.port = port
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-redis-\(port)").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func restart() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Ready when it answers.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if connected == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("redis-server did not start on port \(port)")
    }

    /// SIGKILL, like a crash. (SIGTERM would not do: processes spawned from the test runner can
    /// inherit a mask that blocks it, and redis-server handles it with a plain signal handler.)
    func stop() async {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
