import ArgumentParser
import AsyncHTTPClient
import BosunControl
import BosunLogging
import BosunProtocol
import Foundation
import Logging
import NIOCore

/// Submit -> claim latency and claim throughput through the real control API (HTTP on
/// loopback) against a real PostgreSQL.
///
/// It starts `bosun-control` in process on a free port, bootstraps a throw-away organization,
/// registers K workers and has them long poll. Latency: one execution at a time, measured from
/// just before the submit request is sent to the moment a poller holds the claimed task.
/// Throughput: N tasks queued up front, then K pollers claim them as fast as they can.
struct DispatchBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch", abstract: "Submit -> claim latency and claims per second.")

    @Option(help: "PostgreSQL URL (or BOSUN_DATABASE_URL). The benchmark creates its own organization there.")
    var databaseURL: String?

    @Option(help: "Concurrent long-polling workers.")
    var pollers: Int = 4

    @Option(help: "Executions submitted one at a time for the latency run.")
    var latencySamples: Int = 500

    @Option(help: "Tasks queued up front for the throughput run.")
    var throughputTasks: Int = 2000

    @Option(help: "Tasks each poll may claim in the throughput run.")
    var slots: Int = 1

    func validate() throws {
        guard pollers >= 1, latencySamples >= 1, throughputTasks >= 1, slots >= 1 else {
            throw ValidationError("--pollers, --latency-samples, --throughput-tasks and --slots must be at least 1")
        }
    }

    func run() async throws {
        BosunLogging.bootstrap(level: .error)
        // The in-process server is torn down by cancellation at the end; that is not an error here.
        var logger = Logger(label: "bosun-bench")
        logger.logLevel = .critical
        var environment = ProcessInfo.processInfo.environment
        if let databaseURL { environment["BOSUN_DATABASE_URL"] = databaseURL }
        var configuration = try ControlConfiguration.fromEnvironment(environment)
        configuration.port = 0
        configuration.redisURL = nil
        configuration.databaseMaxConnections = max(8, pollers * 2 + 4)

        let control = try await InProcessControl.start(configuration: configuration, logger: logger)
        defer { control.stop() }
        let server = control.server
        let base = control.baseURL
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: pollers + 8)))
        defer { _ = http.shutdown() }

        let bootstrap = try await Bootstrap(database: server.services.database, logger: logger)
            .run(organization: "bench-\(UUID().uuidString.prefix(8).lowercased())")
        let admin = BenchClient(http: http, base: base, token: bootstrap.adminKey)
        let agent: Agent = try await admin.call(
            "POST", "/api/v1/agents", AgentDefinition(name: "bench", runtime: .agno, model: "bench/model"))
        let workerKey: CreatedAPIKey = try await admin.call(
            "POST", "/api/v1/api-keys", CreateAPIKeyRequest(name: "bench", scope: .worker, queueId: bootstrap.queueId))
        func registerWorkers(_ phase: String) async throws -> [(UUID, BenchClient)] {
            var registered: [(UUID, BenchClient)] = []
            for index in 0..<pollers {
                let registration: WorkerRegistrationResponse = try await admin.with(token: workerKey.key).call(
                    "POST", "/api/v1/workers/register",
                    WorkerRegistrationRequest(
                        queueId: bootstrap.queueId, hostname: "bench-\(phase)-\(index)", version: "bench", slots: slots,
                        runtimes: ["agno"]))
                registered.append((registration.workerId, admin.with(token: registration.token)))
            }
            return registered
        }
        let workers = try await registerWorkers("latency")
        print("bosun bench dispatch: \(pollers) pollers, PostgreSQL \(configuration.databaseURL), concurrency executor \(ConcurrencyExecutor.inEffect.rawValue)")

        // Latency: pollers wait; one submit at a time; each claim is timed against its submit.
        let claims = ClaimLog()
        let latencyPollers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (id, client) in workers {
                    group.addTask {
                        while !Task.isCancelled {
                            let tasks = try await client.poll(worker: id, slots: 1, wait: 5)
                            let now = ContinuousClock.now
                            for task in tasks { await claims.record(task.input.stringValue ?? "", at: now) }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        var latencies: [Duration] = []
        var submits: [Duration] = []
        for index in 0..<latencySamples {
            let label = "latency-\(index)"
            let sent = ContinuousClock.now
            // Only the status: decoding the reply is the client's cost, not the dispatch path's.
            let (status, reply) = try await admin.send(
                "POST", "/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: .string(label)))
            guard status == 201 else { throw ValidationError("submit answered \(status): \(String(buffer: reply))") }
            submits.append(ContinuousClock.now - sent)
            let claimed = try await claims.wait(for: label, timeout: .seconds(10))
            latencies.append(claimed - sent)
        }
        // Drain ends the latency workers' pending polls, so none of them claims a throughput task.
        for (id, client) in workers {
            _ = try await client.send("POST", "/api/v1/workers/\(id.uuidString.lowercased())/drain", [String: String]())
        }
        latencyPollers.cancel()
        _ = try? await latencyPollers.value
        let throughputWorkers = try await registerWorkers("throughput")
        latencies.sort()
        func ms(_ duration: Duration) -> String { String(format: "%.2f ms", duration.milliseconds) }
        let p50 = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
        print("submit -> claim latency over \(latencySamples) executions: p50 \(ms(p50))  p99 \(ms(p99))  max \(ms(latencies.last!))")
        submits.sort()
        print("  of which the submit request (until its reply): p50 \(ms(submits[submits.count / 2]))")

        // Throughput: queue everything, then claim flat out.
        try await withThrowingTaskGroup(of: Void.self) { group in
            let perSubmitter = (throughputTasks + 7) / 8
            for submitter in 0..<8 where submitter * perSubmitter < throughputTasks {
                group.addTask {
                    for index in (submitter * perSubmitter)..<min(throughputTasks, (submitter + 1) * perSubmitter) {
                        let _: Execution = try await admin.call(
                            "POST", "/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: .string("bulk-\(index)")))
                    }
                }
            }
            try await group.waitForAll()
        }
        let started = ContinuousClock.now
        let claimed = try await withThrowingTaskGroup(of: Int.self) { group in
            for (id, client) in throughputWorkers {
                group.addTask {
                    var count = 0
                    while true {
                        let tasks = try await client.poll(worker: id, slots: slots, wait: 0)
                        if tasks.isEmpty { return count }
                        count += tasks.count
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - started
        print(
            String(
                format: "claims: %d tasks by %d pollers (%d per poll) in %.2f s = %.0f claims/s", claimed, pollers, slots,
                elapsed.seconds, Double(claimed) / elapsed.seconds))
        if claimed != throughputTasks {
            throw ValidationError("expected \(throughputTasks) claims, got \(claimed)")
        }
        // The fixed cost under every claim: a poll that finds nothing (HTTP, auth, one claim statement).
        var emptyPolls: [Duration] = []
        let (emptyWorker, emptyClient) = throughputWorkers[0]
        for _ in 0..<200 {
            let sent = ContinuousClock.now
            _ = try await emptyClient.poll(worker: emptyWorker, slots: 1, wait: 0)
            emptyPolls.append(ContinuousClock.now - sent)
        }
        emptyPolls.sort()
        print("empty poll round trip (nothing queued): p50 \(ms(emptyPolls[100]))")

        // What this machine charges for the two hops under every submit and claim, doing nothing:
        // the latency above cannot go below them (compare across machines with these).
        var httpFloor: [Duration] = []
        var databaseFloor: [Duration] = []
        for _ in 0..<200 {
            var sent = ContinuousClock.now
            let response = try await http.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 16)
            httpFloor.append(ContinuousClock.now - sent)
            sent = ContinuousClock.now
            for try await _ in try await server.services.database.client.query("SELECT 1", logger: logger) {}
            databaseFloor.append(ContinuousClock.now - sent)
        }
        httpFloor.sort()
        databaseFloor.sort()
        print(
            "round trips that do nothing, on this machine: HTTP (GET /healthz) p50 \(ms(httpFloor[100])), PostgreSQL (SELECT 1) p50 \(ms(databaseFloor[100]))")
    }
}

/// When each labelled task was claimed; `wait` returns once it has been (or fails on timeout).
actor ClaimLog {
    private var claimed: [String: ContinuousClock.Instant] = [:]
    private var waiters: [String: CheckedContinuation<ContinuousClock.Instant?, Never>] = [:]

    func record(_ label: String, at instant: ContinuousClock.Instant) {
        if let waiter = waiters.removeValue(forKey: label) {
            waiter.resume(returning: instant)
        } else {
            claimed[label] = instant
        }
    }

    func wait(for label: String, timeout: Duration) async throws -> ContinuousClock.Instant {
        if let instant = claimed.removeValue(forKey: label) { return instant }
        let instant = await withCheckedContinuation { continuation in
            waiters[label] = continuation
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(label)
            }
        }
        guard let instant else { throw ValidationError("task '\(label)' was not claimed within \(timeout)") }
        return instant
    }

    private func expire(_ label: String) {
        waiters.removeValue(forKey: label)?.resume(returning: nil)
    }
}

struct BenchClient: Sendable {
    let http: HTTPClient
    let base: String
    let token: String

    func with(token: String) -> BenchClient { BenchClient(http: http, base: base, token: token) }

    func send(_ method: String, _ path: String, _ body: some Encodable) async throws -> (Int, ByteBuffer) {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try WireCoding.encode(body)))
        let response = try await http.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), try await response.body.collect(upTo: 16 << 20))
    }

    func call<Reply: Decodable>(_ method: String, _ path: String, _ body: some Encodable) async throws -> Reply {
        let (status, buffer) = try await send(method, path, body)
        guard (200..<300).contains(status) else {
            throw ValidationError("\(method) \(path) answered \(status): \(String(buffer: buffer))")
        }
        return try WireCoding.decode(Reply.self, from: buffer.readableBytesView)
    }

    func poll(worker: UUID, slots: Int, wait: Double) async throws -> [TaskAssignment] {
        let (status, buffer) = try await send(
            "POST", "/api/v1/workers/\(worker.uuidString.lowercased())/poll", PollRequest(slots: slots, waitS: wait))
        if status == 204 { return [] }
        guard status == 200 else { throw ValidationError("poll answered \(status): \(String(buffer: buffer))") }
        return try WireCoding.decode(PollResponse.self, from: buffer.readableBytesView).tasks
    }
}
