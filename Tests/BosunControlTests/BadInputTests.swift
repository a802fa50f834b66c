import BosunControl
import BosunLogging
import BosunProtocol
import BosunTestSupport
import Foundation
import Glibc
import Logging
import Testing

@Suite struct BadInputTests {
    @Test func malformedBodiesGetProblemDetails() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()

        let broken = try await tenant.admin.send(.POST, "/api/v1/executions", rawBody: Data("{\"agent_id\": ".utf8))
        #expect(broken.status == 400)
        #expect(broken.headers.first(name: "Content-Type") == "application/problem+json")
        #expect(broken.problem?.detail == "the body is not valid JSON")

        let notObject = try await tenant.admin.send(.POST, "/api/v1/executions", rawBody: Data("[1,2]".utf8))
        #expect(notObject.status == 400)

        let unknown = try await tenant.admin.send(
            .POST, "/api/v1/executions", rawBody: Data(#"{"agentid": "x", "input": "hi"}"#.utf8))
        #expect(unknown.status == 400)
        #expect(unknown.problem?.detail.contains("unknown field 'agentid'") == true)

        let wrongType = try await tenant.admin.send(
            .POST, "/api/v1/executions", rawBody: Data(#"{"agent_id": 42, "input": "hi"}"#.utf8))
        #expect(wrongType.status == 400)
        #expect(wrongType.problem?.detail.contains("agent_id") == true)

        let badRuntime = try await tenant.admin.send(
            .POST, "/api/v1/agents", rawBody: Data(#"{"name": "x", "runtime": "langchain", "model": "m"}"#.utf8))
        #expect(badRuntime.status == 400)

        let nullInput = try await tenant.admin.send(
            .POST, "/api/v1/executions",
            rawBody: Data(#"{"agent_id": "\#(agent.id.uuidString)", "input": null}"#.utf8))
        #expect(nullInput.status == 400)

        let empty = try await tenant.admin.send(.POST, "/api/v1/agents", rawBody: Data())
        #expect(empty.status == 400)
    }

    @Test func agentSettingsAreCheckedWhenSavedAndTravelWithTheTask() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let bad: [(String, String)] = [
            (#"{"permissions": {"defaultMode": "yolo"}}"#, "defaultMode' must be one of"),
            (#"{"permissions": {"allow": ["Bash(git *"]}}"#, "permission rule \"Bash(git *\" is not"),
            (#"{"permissions": {"deny": "Bash"}}"#, "must be a list of rules"),
            (#"{"hooks": {"OnStop": []}}"#, "unknown hook event 'OnStop'"),
            (#"{"hooks": {"PreToolUse": [{"matcher": "(", "hooks": [{"type": "command", "command": "x"}]}]}}"#, "not a valid regular expression"),
            (#"{"colour": "blue"}"#, "unknown setting 'colour'"),
        ]
        for (settings, message) in bad {
            let reply = try await tenant.admin.send(
                .POST, "/api/v1/agents",
                rawBody: Data(#"{"name": "s\#(UUID().uuidString.prefix(6))", "runtime": "claude_code", "model": "m", "settings": \#(settings)}"#.utf8))
            #expect(reply.status == 400, "\(settings)")
            #expect(reply.problem?.detail.contains(message) == true, "\(settings): \(reply.text)")
        }
        let good: [String: JSONValue] = [
            "permissions": ["defaultMode": "acceptEdits", "allow": ["Bash(git *)"], "deny": ["Bash(rm *)"]],
            "hooks": ["PreToolUse": [["matcher": "Bash", "hooks": [["type": "command", "command": "exit 0"]]]]],
        ]
        let created = try await tenant.admin.post(
            "/api/v1/agents", AgentDefinition(name: "coder", runtime: .claudeCode, model: "anthropic/claude-sonnet-4", settings: good))
        #expect(created.status == 201)
        let agent = try created.decode(Agent.self)
        #expect(agent.settings == good)
        let (registration, worker) = try await tenant.registerWorker()
        _ = try await tenant.submit(agent: agent.id)
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        #expect(task.agent.settings == good)
    }

    @Test func oversizedBodiesAreRefused() async throws {
        let server = try await TestServer.start { $0.maxBodyBytes = 4096 }
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let huge = String(repeating: "a", count: 10_000)
        let reply = try await tenant.admin.post("/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: .string(huge)))
        #expect(reply.status == 413)
        #expect(reply.problem?.detail.contains("4096") == true)
        // Nothing was written.
        let list = try await tenant.admin.get("/api/v1/executions").decode(ExecutionList.self)
        #expect(list.items.isEmpty)
    }

    @Test func badIdsAndUnknownIds() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let notUUID = try await tenant.admin.get("/api/v1/executions/not-a-uuid")
        #expect(notUUID.status == 400)
        #expect(notUUID.problem?.detail.contains("not a valid UUID") == true)
        let unknown = UUID()
        let missing = try await tenant.admin.get("/api/v1/agents/\(unknown.uuidString.lowercased())")
        #expect(missing.status == 404)
        let noRoute = try await tenant.admin.get("/api/v1/nothing-here")
        #expect(noRoute.status == 404)
        let badStatus = try await tenant.admin.get("/api/v1/executions?status=sleeping")
        #expect(badStatus.status == 400)
        let badCursor = try await tenant.admin.get("/api/v1/executions?cursor=zzz")
        #expect(badCursor.status == 400)
    }

    @Test func credentialsAreCheckedAndScoped() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let anonymous = tenant.admin.with(token: nil)
        #expect(try await anonymous.get("/api/v1/agents").status == 401)
        let made = tenant.admin.with(token: "bsk_" + String(repeating: "x", count: 43))
        let madeReply = try await made.get("/api/v1/agents")
        #expect(madeReply.status == 401)
        #expect(madeReply.headers.first(name: "WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(try await tenant.admin.with(token: "garbage").get("/api/v1/agents").status == 401)
        #expect(try await tenant.admin.with(token: "a.b.c").get("/api/v1/agents").status == 401)

        // A user key cannot manage keys; a worker key can only register.
        let user = tenant.admin.with(token: try await tenant.createKey(scope: .user))
        #expect(try await user.get("/api/v1/agents").status == 200)
        #expect(try await user.get("/api/v1/api-keys").status == 403)
        let worker = tenant.admin.with(token: try await tenant.createKey(scope: .worker, queue: tenant.queueId))
        #expect(try await worker.get("/api/v1/agents").status == 403)

        // Listing keys never shows a secret; revoking one takes effect at once.
        let keys = try await tenant.admin.get("/api/v1/api-keys")
        let listedObjects = try #require(
            (try JSONSerialization.jsonObject(with: keys.body) as? [String: Any])?["items"] as? [[String: Any]])
        #expect(listedObjects.count >= 3)
        #expect(listedObjects.allSatisfy { $0["key"] == nil && $0["key_hash"] == nil })
        let created = try await tenant.admin.post("/api/v1/api-keys", CreateAPIKeyRequest(name: "temp", scope: .user))
            .decode(CreatedAPIKey.self)
        #expect(created.key.hasPrefix("bsk_") && created.key.count >= 36)
        #expect(!keys.text.contains(created.key))
        let temp = tenant.admin.with(token: created.key)
        #expect(try await temp.get("/api/v1/agents").status == 200)
        #expect(try await tenant.admin.send(.DELETE, "/api/v1/api-keys/\(created.apiKey.id.uuidString.lowercased())").status == 204)
        #expect(try await temp.get("/api/v1/agents").status == 401)
        let listed = try await tenant.admin.get("/api/v1/api-keys").decode(ItemList<APIKey>.self)
        #expect(listed.items.first { $0.id == created.apiKey.id }?.revokedAt != nil)
    }

    @Test func expiredWorkerTokensAreRefused() async throws {
        // Long enough that the first poll is inside it even on a loaded machine.
        let server = try await TestServer.start { $0.workerTokenTTL = .seconds(3) }
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let (registration, worker) = try await tenant.registerWorker()
        #expect(try await worker.poll(worker: registration.workerId, wait: 0).isEmpty)
        try await Task.sleep(for: .milliseconds(3500))
        let reply = try await worker.post(
            "/api/v1/workers/\(registration.workerId.uuidString.lowercased())/poll", PollRequest(slots: 1, waitS: 0))
        #expect(reply.status == 401)
        #expect(reply.problem?.type.hasSuffix("token-expired") == true)
    }

    @Test func deregisteringRevokesTheTokenAndRequeuesItsTasks() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id)
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        #expect(try await worker.send(.DELETE, "/api/v1/workers/\(registration.workerId.uuidString.lowercased())").status == 204)
        #expect(try await worker.post("/api/v1/workers/\(registration.workerId.uuidString.lowercased())/poll", PollRequest(slots: 1)).status == 401)
        let (other, otherWorker) = try await tenant.registerWorker()
        let again = try #require(try await otherWorker.poll(worker: other.workerId, wait: 2).first)
        #expect(again.id == task.id)
        #expect(again.executionId == execution.id)
        #expect(again.attempt == 2)
    }

    /// PostgreSQL cannot store U+0000 (found by schemathesis): a user's request that has one is
    /// a clear 400; a worker's report (tool output may be binary) is stored with U+FFFD instead.
    @Test func aClientThatLeavesMidRequestIsNotAServerError() async throws {
        // A worker cancels an event upload when its turn ends: the server sees the body end
        // early. That is the client's doing: answered 400 and logged as such, not as a 500.
        let ring = LogRing(capacity: 500)
        var logger = Logger(label: "bosun-test") { label in
            RingLogHandler(wrapping: SilentLogHandler(), ring: ring, label: label)
        }
        logger.logLevel = .info
        let server = try await TestServer.start(logger: logger)
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let (registration, _) = try await tenant.registerWorker()
        let path = "/api/v1/workers/\(registration.workerId.uuidString.lowercased())/poll"
        let request = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(registration.token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"slots\": 1"
        let socket = try #require(Self.connect(port: server.port))
        _ = request.utf8CString.withUnsafeBufferPointer { write(socket, $0.baseAddress, $0.count - 1) }
        try await Task.sleep(for: .milliseconds(100))
        close(socket)
        let line = try await eventually("the request is logged") {
            ring.tail().first { $0.contains("http.path=\(path)") }
        }
        #expect(line.contains("http.status=400"), "\(line)")
        #expect(!ring.tail().contains { $0.contains("request failed") })
    }

    static func connect(port: Int) -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return connected == 0 ? socket : nil
    }

    @Test func aNULCharacterIsRefusedFromUsersAndCleanedFromWorkers() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        for body in [#"{"name": "a\u0000b", "runtime": "agno", "model": "m"}"#, #"{"name": "ok", "runtime": "agno", "model": "m", "settings": {"k\u0000": 1}}"#] {
            let reply = try await tenant.admin.send(.POST, "/api/v1/agents", rawBody: Data(body.utf8))
            #expect(reply.status == 400, "\(reply.text)")
            #expect(reply.text.contains("NUL"))
        }
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id)
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let events = #"{"lease_id": "\#(task.lease.id.uuidString)", "events": [{"seq": 1, "type": "ToolCallCompleted", "data": {"result": "bin\u0000ary"}}]}"#
        let stored = try await worker.send(
            .POST, "/api/v1/tasks/\(task.id.uuidString.lowercased())/events", rawBody: Data(events.utf8))
        #expect(stored.status == 200, "\(stored.text)")
        let page = try await tenant.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())/events")
            .decode(ExecutionEventPage.self)
        #expect(page.events.first { $0.type == "ToolCallCompleted" }?.data["result"] == "bin\u{FFFD}ary")
    }
}

/// Keeps its level and metadata and writes nothing: the ring around it is what the test reads.
struct SilentLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {}
}
