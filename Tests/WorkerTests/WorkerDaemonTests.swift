import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import Redis
import Testing

/// The real `bosun-worker` binary against a real control API, PostgreSQL and Redis.
@Suite(.serialized) struct WorkerDaemonTests {
    /// Short intervals so heartbeats, renewals and cancels show within a second or two.
    static let fast: @Sendable (inout ControlConfiguration) -> Void = { configuration in
        configuration.heartbeatLightInterval = 0.5
        configuration.heartbeatFullInterval = 1
        configuration.leaseRenewInterval = .milliseconds(500)
        configuration.leaseDuration = .seconds(20)
        configuration.pollMaxWait = .seconds(5)
    }

    @Test func registersPollsRunsCompletesAndHeartbeats() async throws {
        try await Harness.run(Self.fast) { h in
        let tenant = h.tenant
        let agent = try await tenant.createAgent()
        let worker = try await h.worker(slots: 2, arguments: ["--label", "gpu=none", "--name", "test-box"])
        try await worker.waitForLog("first poll sent")

        let execution = try await tenant.submit(agent: agent.id, input: "events 5; echo hello from the worker")
        let done = try await tenant.waitForStatus(execution.id, [.completed, .failed])
        #expect(done.status == .completed)
        #expect(done.output == "hello from the worker")

        // Events arrive in order, with the runtime's own numbering intact.
        let events = try await tenant.events(execution.id)
        let types = events.map(\.type)
        #expect(types.first(where: { $0 == "run_started" }) != nil)
        let ticks = events.filter { $0.type == "test.tick" }.compactMap { $0.data["index"]?.numberValue }
        #expect(ticks == [0, 1, 2, 3, 4])
        #expect(events.map(\.seq) == events.map(\.seq).sorted())

        // The light heartbeat is real: the hash in Redis carries the worker's live numbers.
        let workers = try await tenant.workers()
        let info = try #require(workers.first)
        #expect(info.hostname == "test-box")
        #expect(info.labels == ["gpu": "none"])
        let live = try await eventually("a light heartbeat") { () -> WorkerLiveStatus? in
            let live = try await tenant.workers().first?.live
            return live?.source == "redis" && live?.state == "idle" ? live : nil
        }
        #expect(live.freeSlots == 2)
        #expect(live.activeTasks == 0)

        let redis = RedisConnection(url: try RedisURL(TestEnvironment.redisURL))
        let prefix = "bosun:\(TaskQueue.wireName(organizationId: tenant.organizationId, queueId: tenant.queueId))"
        let keys = HeartbeatKeys(prefix: prefix, workerId: info.id)
        let ttl = try await redis.command(["TTL", keys.light])
        guard case .integer(let seconds) = ttl else { throw TestFailure("no TTL on \(keys.light): \(ttl)") }
        #expect(seconds > 0 && seconds <= 2)
        let score = try await redis.command(["ZSCORE", keys.queueWorkers, info.id.uuidString.lowercased()])
        guard case .string(let scoreText) = score, let lastSeen = Double(scoreText) else {
            throw TestFailure("no score in \(keys.queueWorkers): \(score)")
        }
        #expect(abs(lastSeen - Date().timeIntervalSince1970) < 5)

        // The full heartbeat: system metrics read from this host, runtime versions, the log tail.
        let full = try await eventually("a full heartbeat after the task") { () -> JSONValue? in
            guard let full = try await tenant.workers().first?.fullHeartbeat else { return nil }
            let tail = full["log_tail"]?.arrayValue ?? []
            // Not a ternary: JSONValue is nil-literal expressible, so `: nil` would mean JSON null.
            if tail.contains(where: { $0.stringValue?.contains("task completed") == true }) { return full }
            return nil
        }
        #expect((full["system"]?["memory"]?["total_bytes"]?.numberValue ?? 0) > 0)
        #expect(full["system"]?["load"] != nil)
        #expect(full["gpus"]?["status"]?.stringValue == "none")
        #expect(full["runtimes"]?["test"]?.stringValue == "test-runtime/1")
        #expect((full["system"]?["process"]?["rss_bytes"]?.numberValue ?? 0) > 0)

        // The worker's Redis user can write its own keys and nothing else.
        let registration = try #require(await worker.registrationCredentials(redis: redis, workerId: info.id))
        #expect(registration.contains("~\(keys.light)*"))

        // SIGTERM: drain, deregister, exit 0, heartbeat keys gone.
        worker.signal(SIGTERM)
        #expect(await worker.waitForExit(timeout: .seconds(15)) == 0)
        #expect(try await tenant.workers().isEmpty)
        #expect(try await redis.command(["EXISTS", keys.light]) == .integer(0))
        #expect(try await redis.command(["ACL", "GETUSER", "bosun-worker-\(info.id.uuidString.lowercased())"]) == .null)
        }
    }

    @Test func aBusyWorkerReportsBusyAndUsesOnlyItsFreeSlots() async throws {
        try await Harness.run(Self.fast) { h in
        let tenant = h.tenant
        let agent = try await tenant.createAgent()
        let worker = try await h.worker(slots: 2)
        try await worker.waitForLog("first poll sent")
        var submitted: [UUID] = []
        for _ in 0..<3 { submitted.append(try await tenant.submit(agent: agent.id, input: "sleep 2; echo ok").id) }
        let ids = submitted
        let live = try await eventually("a busy heartbeat") { () -> WorkerLiveStatus? in
            let live = try await tenant.workers().first?.live
            return live?.state == "busy" && live?.activeTasks == 2 ? live : nil
        }
        #expect(live.freeSlots == 0)
        // Two run at once; the third waits for a free slot.
        let running = try await eventually("two running executions") { () -> [Execution]? in
            var all: [Execution] = []
            for id in ids { all.append(try await tenant.execution(id)) }
            return all.filter { $0.status == .running }.count == 2 ? all : nil
        }
        #expect(running.filter { $0.status == .queued }.count == 1)
        for id in ids { #expect(try await tenant.waitForStatus(id, [.completed, .failed]).status == .completed) }
        }
    }

    @Test func aFailingTurnReportsFailWithItsRetryableFlag() async throws {
        try await Harness.run(Self.fast) { h in
        let tenant = h.tenant
        let agent = try await tenant.createAgent()
        _ = try await h.worker()

        let permanent = try await tenant.submit(agent: agent.id, input: "fail the tool is broken")
        let failed = try await tenant.waitForStatus(permanent.id, [.failed, .completed])
        #expect(failed.status == .failed)
        #expect(failed.error?.contains("the tool is broken") == true)

        // Retryable: attempts 1..3 (backoff 1 s, 4 s), then the attempt limit.
        let flaky = try await tenant.submit(agent: agent.id, input: "crash network blip")
        let dead = try await tenant.waitForStatus(flaky.id, [.failed, .completed], timeout: .seconds(40))
        #expect(dead.status == .failed)
        let reasons = try await tenant.transitions(flaky.id).map(\.reason)
        #expect(reasons.contains { $0.contains("retrying") })
        #expect(reasons.contains { $0.contains("attempt limit") })
        }
    }

    @Test func cancelFromTheAPIStopsTheTurnAndItsProcessGroup() async throws {
        try await Harness.run(Self.fast) { h in
        let tenant = h.tenant
        let agent = try await tenant.createAgent()
        _ = try await h.worker()

        let execution = try await tenant.submit(agent: agent.id, input: "spawn 300")
        let pids = try await spawnedPids(tenant, execution.id)
        #expect(pids.allSatisfy(processAlive))
        let reply = try await tenant.admin.post("/api/v1/executions/\(execution.id.uuidString.lowercased())/cancel", [String: String]())
        #expect(reply.status == 200)
        let cancelled = try await tenant.waitForStatus(execution.id, [.cancelled, .failed, .completed])
        #expect(cancelled.status == .cancelled)
        try await eventually("the turn's processes to be gone", timeout: .seconds(10)) {
            pids.allSatisfy { !processAlive($0) } ? true : nil
        }
        // The worker keeps working afterwards.
        let next = try await tenant.submit(agent: agent.id, input: "echo still here")
        #expect(try await tenant.waitForStatus(next.id, [.completed, .failed]).output == "still here")
        }
    }

    @Test func sigtermDrainsTheRunningTaskAndTakesNoNewOne() async throws {
        try await Harness.run(Self.fast) { h in
        let tenant = h.tenant
        let agent = try await tenant.createAgent()
        let worker = try await h.worker()
        try await worker.waitForLog("first poll sent")

        let running = try await tenant.submit(agent: agent.id, input: "sleep 2; echo drained")
        _ = try await tenant.waitForStatus(running.id, [.running])
        worker.signal(SIGTERM)
        try await worker.waitForLog("draining")
        let later = try await tenant.submit(agent: agent.id, input: "echo too late")
        #expect(await worker.waitForExit(timeout: .seconds(20)) == 0)
        let finished = try await tenant.execution(running.id)
        #expect(finished.status == .completed)
        #expect(finished.output == "drained")
        #expect(try await tenant.execution(later.id).status == .queued)
        }
    }

    /// An operator's drain (`POST /workers/{id}/drain` with an admin key) ends the worker's poll
    /// with `Bosun-Worker-Status: draining`; the worker drains as on SIGTERM and stops, instead
    /// of polling on and getting an empty reply at once, in a loop.
    @Test func aWorkerDrainedThroughTheAPIFinishesItsTaskAndStops() async throws {
        try await Harness.run(Self.fast) { h in
            let tenant = h.tenant
            let agent = try await tenant.createAgent()
            let worker = try await h.worker(slots: 2)
            try await worker.waitForLog("first poll sent")
            let running = try await tenant.submit(agent: agent.id, input: "sleep 2; echo drained by an operator")
            _ = try await tenant.waitForStatus(running.id, [.running])
            let id = try #require(try await tenant.workers().first).id
            let reply = try await tenant.admin.send(.POST, "/api/v1/workers/\(id.uuidString.lowercased())/drain")
            #expect(reply.status == 202)
            try await worker.waitForLog("the control API drained this worker")
            let later = try await tenant.submit(agent: agent.id, input: "echo too late")
            #expect(await worker.waitForExit(timeout: .seconds(20)) == 0)
            let finished = try await tenant.execution(running.id)
            #expect(finished.status == .completed)
            #expect(finished.output == "drained by an operator")
            #expect(try await tenant.execution(later.id).status == .queued)
            #expect(worker.log.contains("deregistered"))
        }
    }

    @Test func aSecondSignalReleasesTheTaskAndKillsItsProcesses() async throws {
        try await Harness.run(Self.fast) { h in
        let tenant = h.tenant
        let agent = try await tenant.createAgent()
        let worker = try await h.worker()

        let execution = try await tenant.submit(agent: agent.id, input: "spawn 300")
        let pids = try await spawnedPids(tenant, execution.id)
        worker.signal(SIGTERM)
        try await worker.waitForLog("draining")
        worker.signal(SIGTERM)
        #expect(await worker.waitForExit(timeout: .seconds(15)) == 0)
        #expect(pids.allSatisfy { !processAlive($0) })
        let released = try await tenant.execution(execution.id)
        #expect(released.status == .queued)
        #expect(try await tenant.transitions(execution.id).contains { $0.reason.contains("released by the worker") })

        // Another worker takes it at once; the released attempt did not use up the limit.
        _ = try await h.worker()
        let events = try await eventually("the second worker to start the turn") { () -> [ExecutionEvent]? in
            let started = try await tenant.events(execution.id).filter { $0.type == "test.spawned" }
            return started.count >= 2 ? started : nil
        }
        #expect(events.count == 2)
        let reply = try await tenant.admin.post("/api/v1/executions/\(execution.id.uuidString.lowercased())/cancel", [String: String]())
        #expect(reply.status == 200)
        }
    }

    @Test func oneShotModeRunsOneTaskDeregistersAndExits() async throws {
        try await Harness.run(Self.fast) { h in
        let tenant = h.tenant
        let agent = try await tenant.createAgent()
        let first = try await tenant.submit(agent: agent.id, input: "echo one")
        let second = try await tenant.submit(agent: agent.id, input: "echo two")
        let worker = try await h.worker(slots: 4, arguments: ["--once"])
        #expect(await worker.waitForExit(timeout: .seconds(20)) == 0)
        let statuses = [try await tenant.execution(first.id).status, try await tenant.execution(second.id).status]
        #expect(statuses.sorted { $0.rawValue < $1.rawValue } == [.completed, .queued])
        #expect(try await tenant.workers().isEmpty)
        }
    }

    @Test func registrationRetriesUntilTheControlAPIAnswers() async throws {
        try await Harness.run(Self.fast) { h in
            let port = try freePort()
            let key = try await h.tenant.createKey(scope: .worker, queue: h.tenant.queueId)
            let worker = try h.adopt(
                WorkerProcess(controlURL: "http://127.0.0.1:\(port)", apiKey: key, queue: h.tenant.queueId))
            try await worker.waitForLog("cannot register yet; retrying")
            try await Task.sleep(for: .seconds(1))
            #expect(worker.process.isRunning)
            // The control API appears on the port the worker keeps trying.
            let late = try await TestServer.start { configuration in
                configuration.databaseURL = h.server.server.services.configuration.databaseURL
                configuration.port = port
            }
            h.onShutdown { await late.stop() }
            try await worker.waitForLog("first poll sent", timeout: .seconds(40))
            let admin = APIClient(baseURL: late.baseURL, token: h.tenant.admin.token)
            let workers = try await admin.get("/api/v1/workers").decode(ItemList<WorkerInfo>.self).items
            #expect(workers.count == 1)
        }
    }

    @Test func aWorkerRemovedByAnAdminRegistersAgainAndKeepsWorking() async throws {
        try await Harness.run(Self.fast) { h in
            let agent = try await h.tenant.createAgent()
            let worker = try await h.worker()
            try await worker.waitForLog("first poll sent")
            let first = try #require(try await h.tenant.workers().first)
            let reply = try await h.tenant.admin.send(.DELETE, "/api/v1/workers/\(first.id.uuidString.lowercased())")
            #expect(reply.status == 204)
            // Its token is revoked: the refresh finds no worker, so it registers as a new one.
            let second = try await eventually("the worker to register again") { () -> WorkerInfo? in
                try await h.tenant.workers().first { $0.id != first.id }
            }
            #expect(second.hostname == first.hostname)
            let execution = try await h.tenant.submit(agent: agent.id, input: "echo back again")
            #expect(try await h.tenant.waitForStatus(execution.id, [.completed, .failed]).output == "back again")
            #expect(worker.log.contains("registering again"))
        }
    }

    @Test func aRefusedAPIKeyIsAClearFatalError() async throws {
        try await Harness.run(Self.fast) { h in
        let tenant = h.tenant
        let bogus = "bsk_" + String(repeating: "x", count: 43)
        let worker = try h.adopt(WorkerProcess(controlURL: h.server.baseURL, apiKey: bogus, queue: tenant.queueId))
        #expect(await worker.waitForExit(timeout: .seconds(10)) == 1)
        #expect(worker.log.contains("refused the API key"))
        #expect(!worker.log.contains(bogus))
        }
    }

    @Test func aBadSettingFailsAtStartNamingTheSetting() async throws {
        let worker = try WorkerProcess(
            controlURL: "http://127.0.0.1:1", apiKey: "bsk_" + String(repeating: "y", count: 43), queue: UUID(),
            environment: ["BOSUN_WORKER_SLOTS": "many"]
        )
        worker.process.arguments = ["run"]
        _ = try worker.start()
        #expect(await worker.waitForExit(timeout: .seconds(10)) == 78)
        #expect(worker.log.contains("BOSUN_WORKER_SLOTS"))
    }

    func spawnedPids(_ tenant: Tenant, _ execution: UUID) async throws -> [Int32] {
        try await eventually("the turn to spawn its processes") { () -> [Int32]? in
            guard let event = try await tenant.events(execution).first(where: { $0.type == "test.spawned" }) else { return nil }
            let children = (event.data["children"]?.arrayValue ?? []).compactMap(\.numberValue).map { Int32($0) }
            guard let pid = event.data["pid"]?.numberValue, children.count == 2 else { return nil }
            return [Int32(pid)] + children
        }
    }
}

func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestFailure("bind failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

extension WorkerProcess {
    /// The ACL rules Redis holds for the worker's own user.
    func registrationCredentials(redis: RedisConnection, workerId: UUID) async throws -> String? {
        let reply = try await redis.command(["ACL", "LIST"])
        guard case .array(let users) = reply else { return nil }
        for case .string(let line) in users where line.contains("bosun-worker-\(workerId.uuidString.lowercased())") {
            return line
        }
        return nil
    }
}
