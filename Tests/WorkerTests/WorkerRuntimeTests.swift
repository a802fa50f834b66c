import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import PostgresNIO
import ScriptedLLM
import Testing

/// The real worker binary with its real runtimes, against a real control API and the scripted
/// LLM server over HTTP: whole executions, turn after turn.
@Suite(.serialized) struct WorkerRuntimeTests {
    static func script(_ json: String) throws -> ScriptedLLMScript {
        try JSONDecoder().decode(ScriptedLLMScript.self, from: Data(json.utf8))
    }

    static func startLLM(_ json: String) async throws -> ScriptedLLMServer {
        try await ScriptedLLMServer.start(script: try script(json), requireKey: "sk-worker", logger: TestEnvironment.logger)
    }

    static func agent(_ tenant: Tenant, _ definition: AgentDefinition) async throws -> Agent {
        let reply = try await tenant.admin.post("/api/v1/agents", definition)
        guard reply.status == 201 else { throw TestFailure("create agent: \(reply.status) \(reply.text)") }
        return try reply.decode()
    }

    static func pricingFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pricing-\(UUID().uuidString.prefix(6)).json").path
        try #"{"openai/gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}, "anthropic/claude-sonnet-4": {"input_per_mtok": 3, "output_per_mtok": 15}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func llmEnvironment(_ llm: ScriptedLLMServer) throws -> [String: String] {
        ["BOSUN_LLM_BASE_URL": llm.url, "BOSUN_LLM_API_KEY": "sk-worker", "BOSUN_LLM_PRICING_FILE": try pricingFile()]
    }

    @Test func anAgnoExecutionAsksTheUserThenFinishes() async throws {
        let llm = try await Self.startLLM(
            #"""
            {"replies": [
              {"match": {"contains": "Plan"}, "tool_calls": [{"id": "c1", "name": "Bash", "arguments": {"command": "echo 18 degrees"}}],
               "usage": {"input_tokens": 300, "output_tokens": 30}},
              {"match": {"contains": "18 degrees"}, "text": "It is 18 degrees. Which day do you want to go?", "usage": {"input_tokens": 400, "output_tokens": 20}},
              {"match": {"contains": "Saturday"}, "text": "Saturday it is: pack a jacket.", "usage": {"input_tokens": 500, "output_tokens": 10}}
            ]}
            """#)
        defer { Task { await llm.stop() } }
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let tenant = h.tenant
            let agent = try await Self.agent(
                tenant, AgentDefinition(name: "planner", runtime: .agno, model: "openai/gpt-4o-mini", instructions: "Plan trips.", tools: ["Bash"]))
            let worker = try await h.worker(environment: try Self.llmEnvironment(llm), testRuntime: false)
            let execution = try await tenant.submit(agent: agent.id, input: "Plan a walk")
            let workspace = worker.workDirectory + "/executions/" + execution.id.uuidString.lowercased()

            let waiting = try await tenant.waitForStatus(execution.id, [.waitingForInput, .completed, .failed])
            #expect(waiting.status == .waitingForInput, "\(waiting)")
            #expect(waiting.output == "It is 18 degrees. Which day do you want to go?")
            // The execution goes on, so its workspace stays for the next turn.
            #expect(FileManager.default.fileExists(atPath: workspace))
            let reply = try await tenant.admin.post(
                "/api/v1/executions/\(execution.id.uuidString.lowercased())/messages", ExecutionMessageRequest(content: "Saturday"))
            #expect(reply.status == 200)
            let done = try await tenant.waitForStatus(execution.id, [.completed, .failed])
            #expect(done.status == .completed)
            #expect(done.output == "Saturday it is: pack a jacket.")
            try await eventually("the finished execution's workspace to be removed", timeout: .seconds(10)) {
                FileManager.default.fileExists(atPath: workspace) ? nil : true
            }

            let events = try await tenant.events(execution.id)
            let types = events.map(\.type)
            for type in ["RunStarted", "RunContent", "ToolCallStarted", "ToolCallCompleted", "RunCompleted", "ledger"] {
                #expect(types.contains(type), "no \(type) event")
            }
            let completedTurns = events.filter { $0.type == "turn_completed" }
            #expect(completedTurns.count == 2)
            #expect(completedTurns.first?.data["usage"]?["input_tokens"] == 700)
            #expect(abs((completedTurns.first?.data["cost_usd"]?.numberValue ?? 0) - (700 * 0.15 + 50 * 0.6) / 1_000_000) < 1e-12)
            let tool = try #require(events.first { $0.type == "ToolCallCompleted" })
            #expect(tool.data["tool"]?["result"]?.stringValue?.contains("18 degrees") == true)

            // Turn 2 saw turn 1's whole conversation (from the control plane) and the reply.
            let last = try #require(await llm.requests().last?.body?["messages"]?.arrayValue)
            #expect(last.map { $0["role"]?.stringValue ?? "" } == ["system", "user", "assistant", "tool", "assistant", "user"])
        }
    }

    @Test func aCallThatNeedsApprovalWaitsAndRunsExactlyOnceWhenApproved() async throws {
        let llm = try await Self.startLLM(
            #"""
            {"replies": [
              {"tool_calls": [{"id": "deploy", "name": "Bash", "arguments": {"command": "echo deployed >> effects; echo ok"}},
                              {"id": "check", "name": "Bash", "arguments": {"command": "echo checked >> checks; echo fine"}}]},
              {"match": {"contains": "denied this call: reviewed"}, "text": "Deployed after approval."}
            ]}
            """#)
        defer { Task { await llm.stop() } }
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let tenant = h.tenant
            let agent = try await Self.agent(
                tenant, AgentDefinition(name: "deployer", runtime: .agno, model: "openai/gpt-4o-mini", instructions: "Deploy.", tools: ["Bash"]))
            let policy = try await tenant.admin.post(
                "/api/v1/policies",
                ["name": "deploys-need-a-person", "level": "agent", "target_id": .string(agent.id.uuidString),
                 "rules": ["tools": ["require_approval": ["Bash"]]]] as JSONValue)
            #expect(policy.status == 201, "\(policy.text)")
            let worker = try await h.worker(environment: try Self.llmEnvironment(llm), testRuntime: false)
            let execution = try await tenant.submit(agent: agent.id, input: "Deploy it")
            let path = "/api/v1/executions/\(execution.id.uuidString.lowercased())"
            let workspace = worker.workDirectory + "/executions/" + execution.id.uuidString.lowercased()

            let waiting = try await tenant.waitForStatus(execution.id, [.waitingForApproval, .completed, .failed])
            #expect(waiting.status == .waitingForApproval, "\(waiting)")
            #expect(!FileManager.default.fileExists(atPath: workspace + "/effects"))
            let approvals = try await tenant.admin.get("\(path)/approvals").decode(ItemList<Approval>.self).items
            #expect(approvals.map(\.toolCallId).sorted() == ["check", "deploy"])
            #expect(approvals.first { $0.toolCallId == "deploy" }?.arguments["command"] == "echo deployed >> effects; echo ok")
            for approval in approvals {
                let decided = try await tenant.admin.post(
                    "\(path)/approvals/\(approval.id.uuidString.lowercased())/\(approval.toolCallId == "deploy" ? "approve" : "deny")",
                    ApprovalDecisionRequest(reason: "reviewed"))
                #expect(decided.status == 200, "\(decided.text)")
            }
            let done = try await tenant.waitForStatus(execution.id, [.completed, .failed, .waitingForInput])
            #expect(done.status == .completed, "\(done)")
            #expect(done.output == "Deployed after approval.")
            // The approved call ran exactly once; the denied one never did; the model was asked twice.
            let effects = try await tenant.events(execution.id)
            let results = effects.filter { $0.type == "ToolCallCompleted" }.compactMap { $0.data["tool"] }
            #expect(results.first { $0["tool_call_id"] == "deploy" }?["result"]?.stringValue?.contains("ok") == true)
            #expect(results.first { $0["tool_call_id"] == "check" }?["result"]?.stringValue?.contains("A person denied this call: reviewed") == true)
            let asked = await llm.requests()
            #expect(asked.count == 2)
            // The second request carried both results: the approved call's and the denial.
            let messages = asked.last?.body?["messages"]?.arrayValue ?? []
            #expect(messages.contains { $0["tool_call_id"] == "deploy" && $0["content"]?.stringValue?.contains("ok") == true })
            let types = effects.map(\.type)
            #expect(types.contains("approval_requested") && types.contains("approval_decided") && types.contains("RunPaused"))
        }
    }

    @Test func aMessageInterruptsARunningTurnWhichStartsAgainWithIt() async throws {
        let llm = try await Self.startLLM(
            #"""
            {"replies": [
              {"match": {"contains": "Plan"}, "tool_calls": [{"id": "slow", "name": "Bash", "arguments": {"command": "sleep 30; echo never", "timeout": 60000}}]},
              {"match": {"contains": "Porto"}, "text": "Porto then."}
            ]}
            """#)
        defer { Task { await llm.stop() } }
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let tenant = h.tenant
            let agent = try await Self.agent(
                tenant, AgentDefinition(name: "planner", runtime: .agno, model: "openai/gpt-4o-mini", instructions: "Plan.", tools: ["Bash"]))
            _ = try await h.worker(environment: try Self.llmEnvironment(llm), testRuntime: false)
            let submitted = try await tenant.admin.post(
                "/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: "Plan a trip", messageStrategy: .interrupt))
            let execution = try submitted.decode(Execution.self)
            let started = ContinuousClock.now
            try await eventually("the slow tool call to start", timeout: .seconds(30)) {
                try await tenant.events(execution.id).contains { $0.type == "ToolCallStarted" } ? true : nil
            }
            let reply = try await tenant.admin.post(
                "/api/v1/executions/\(execution.id.uuidString.lowercased())/messages",
                ExecutionMessageRequest(content: "Forget that, go to Porto."))
            #expect(reply.status == 200, "\(reply.text)")
            let done = try await tenant.waitForStatus(execution.id, [.completed, .failed, .waitingForInput])
            #expect(done.status == .completed, "\(done)")
            #expect(done.output == "Porto then.")
            // The sleeping tool was stopped, not waited for.
            #expect(ContinuousClock.now - started < .seconds(25))
            let last = try #require(await llm.requests().last?.body?["messages"]?.arrayValue)
            #expect(last.last?["role"] == "user")
            #expect(last.last?["content"]?.stringValue == "Forget that, go to Porto.")
            #expect(last.contains { $0["role"] == "tool" && $0["tool_call_id"] == "slow" && $0["content"]?.stringValue?.contains("Interrupted") == true })
        }
    }

    @Test func aClaudeCodeExecutionEditsItsWorkspace() async throws {
        let llm = try await Self.startLLM(
            #"""
            {"replies": [
              {"tool_calls": [{"id": "w", "name": "Write", "arguments": {"file_path": "hello.sh", "content": "echo hello from bosun\n"}}]},
              {"tool_calls": [{"id": "b", "name": "Bash", "arguments": {"command": "sh hello.sh"}}]},
              {"match": {"contains": "hello from bosun"}, "text": "The script prints: hello from bosun."}
            ]}
            """#)
        defer { Task { await llm.stop() } }
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let agent = try await Self.agent(
                h.tenant,
                AgentDefinition(
                    name: "coder", runtime: .claudeCode, model: "anthropic/claude-sonnet-4",
                    settings: ["permissions": ["defaultMode": "acceptEdits", "allow": ["Bash(sh *)"]]]))
            _ = try await h.worker(environment: try Self.llmEnvironment(llm), testRuntime: false)
            let execution = try await h.tenant.submit(agent: agent.id, input: "Write a hello script and run it")
            let done = try await h.tenant.waitForStatus(execution.id, [.completed, .failed, .waitingForInput])
            #expect(done.status == .completed, "\(done)")
            #expect(done.output == "The script prints: hello from bosun.")
            let events = try await h.tenant.events(execution.id)
            let result = try #require(events.last { $0.type == "result" })
            #expect(result.data["subtype"] == "success")
            #expect(result.data["num_turns"] == 3)
            #expect(events.contains { $0.type == "system" && $0.data["subtype"] == "init" })
            #expect(await llm.requests().allSatisfy { $0.format == .anthropic && $0.headers["x-api-key"] == "sk-worker" })
        }
    }

    @Test func anUnknownSandboxProfileFailsTheTaskForGood() async throws {
        let llm = try await Self.startLLM(#"{"replies": []}"#)
        defer { Task { await llm.stop() } }
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let agent = try await Self.agent(
                h.tenant, AgentDefinition(name: "odd", runtime: .agno, model: "openai/gpt-4o-mini", sandboxProfile: "no-such-profile"))
            _ = try await h.worker(environment: try Self.llmEnvironment(llm), testRuntime: false)
            let execution = try await h.tenant.submit(agent: agent.id, input: "hi")
            let done = try await h.tenant.waitForStatus(execution.id, [.completed, .failed])
            #expect(done.status == .failed)
            #expect(done.error?.contains("unknown profile \"no-such-profile\"") == true, "\(done.error ?? "")")
            #expect(await llm.requests().isEmpty)
        }
    }

    /// Which events ride with the completion. With a flush interval far longer than the turn,
    /// only awaited events (the reply with tool calls, the tool result) go on their own; the
    /// answer and the events after it are stored by the completion itself, in the transaction
    /// that writes the turn (same `xmin`), before `turn_completed`.
    @Test func aTurnsLastEventsAreStoredWithItsCompletion() async throws {
        let llm = try await Self.startLLM(
            #"""
            {"replies": [
              {"match": {"contains": "Check"}, "tool_calls": [{"id": "t1", "name": "Bash", "arguments": {"command": "echo disk ok"}}]},
              {"match": {"contains": "disk ok"}, "text": "The disk is fine."}
            ]}
            """#)
        defer { Task { await llm.stop() } }
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let agent = try await Self.agent(
                h.tenant, AgentDefinition(name: "checker", runtime: .agno, model: "openai/gpt-4o-mini", tools: ["Bash"]))
            var environment = try Self.llmEnvironment(llm)
            environment["BOSUN_WORKER_EVENT_FLUSH_INTERVAL_S"] = "30"
            _ = try await h.worker(environment: environment, testRuntime: false)
            let execution = try await h.tenant.submit(agent: agent.id, input: "Check the disk")
            let done = try await h.tenant.waitForStatus(execution.id, [.completed, .failed])
            #expect(done.status == .completed, "\(done)")
            #expect(done.output == "The disk is fine.")

            struct Stored { let seq: Int64; let type: String; let data: JSONValue; let withTurn: Bool }
            let stored = try await h.server.server.services.database.withTenant(h.tenant.organizationId) { connection in
                let rows = try await connection.query(
                    """
                    SELECT e.seq, e.type, e.data::text, e.xmin = t.xmin
                    FROM execution_events e JOIN turns t ON t.execution_id = e.execution_id AND t.turn_number = 1
                    WHERE e.execution_id = \(execution.id) ORDER BY e.seq
                    """, logger: TestEnvironment.logger)
                var stored: [Stored] = []
                for try await (seq, type, data, withTurn) in rows.decode((Int64, String, String, Bool).self) {
                    stored.append(Stored(seq: seq, type: type, data: try JSONValue(parsing: data), withTurn: withTurn))
                }
                return stored
            }
            let ledger = stored.filter { $0.type == "ledger" }
            let toolReply = try #require(ledger.first { $0.data["message"]?["tool_calls"] != nil })
            let toolResult = try #require(ledger.first { $0.data["message"]?["role"] == "tool" })
            let answer = try #require(ledger.first { $0.data["message"]?["text"] == "The disk is fine." })
            let runCompleted = try #require(stored.first { $0.type == "RunCompleted" })
            let turnCompleted = try #require(stored.first { $0.type == "turn_completed" })
            // Awaited: stored by their own events requests, before the turn went on.
            #expect(!toolReply.withTurn)
            #expect(!toolResult.withTurn)
            // Queued: carried by the completion, ahead of turn_completed.
            #expect(answer.withTurn)
            #expect(runCompleted.withTurn)
            #expect(turnCompleted.withTurn)
            #expect(answer.seq < runCompleted.seq && runCompleted.seq < turnCompleted.seq)
        }
    }

    /// A token quota of 1,000 per execution. Turn 1 uses 750 and asks the user. Turn 2 starts from
    /// those 750 (the task's `usage_so_far`), spends 300 on a tool call, and the worker refuses
    /// the model call after it: the execution fails on the policy with turn 2's use recorded.
    @Test func aQuotaStopsTheWorkerBeforeTheModelCallThatWouldExceedIt() async throws {
        let llm = try await Self.startLLM(
            #"""
            {"replies": [
              {"match": {"contains": "Plan"}, "tool_calls": [{"id": "c1", "name": "Bash", "arguments": {"command": "echo 18 degrees"}}],
               "usage": {"input_tokens": 300, "output_tokens": 30}},
              {"match": {"contains": "18 degrees"}, "text": "Which day do you want to go?", "usage": {"input_tokens": 400, "output_tokens": 20}},
              {"match": {"contains": "Saturday"}, "tool_calls": [{"id": "c2", "name": "Bash", "arguments": {"command": "echo packed >> bags; echo ok"}}],
               "usage": {"input_tokens": 280, "output_tokens": 20}},
              {"text": "This call is over the quota and must not be made."}
            ]}
            """#)
        defer { Task { await llm.stop() } }
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let tenant = h.tenant
            let agent = try await Self.agent(
                tenant, AgentDefinition(name: "planner", runtime: .agno, model: "openai/gpt-4o-mini", tools: ["Bash"]))
            let policy = try await tenant.admin.post(
                "/api/v1/policies",
                ["name": "budget", "level": "agent", "target_id": .string(agent.id.uuidString),
                 "rules": ["quotas": ["execution_tokens": 1000]]] as JSONValue)
            #expect(policy.status == 201, "\(policy.text)")
            _ = try await h.worker(environment: try Self.llmEnvironment(llm), testRuntime: false)
            let execution = try await tenant.submit(agent: agent.id, input: "Plan a walk")
            let waiting = try await tenant.waitForStatus(execution.id, [.waitingForInput, .completed, .failed])
            #expect(waiting.status == .waitingForInput, "\(waiting)")
            let workerId = try #require(try await tenant.workers().first?.id)
            let reply = try await tenant.admin.post(
                "/api/v1/executions/\(execution.id.uuidString.lowercased())/messages", ExecutionMessageRequest(content: "Saturday"))
            #expect(reply.status == 200)
            let done = try await tenant.waitForStatus(execution.id, [.completed, .failed])
            #expect(done.status == .failed, "\(done)")
            #expect(done.error?.contains("denied by policy: the execution used 1050 tokens of its quota of 1000") == true, "\(done)")
            #expect(await llm.requests().count == 3)
            // The tool call before the refusal ran, and turn 2 is recorded with what it used.
            let events = try await tenant.events(execution.id)
            let turns = events.filter { $0.type == "turn_completed" }
            #expect(turns.count == 2)
            #expect(turns.last?.data["usage"]?["input_tokens"] == 280)
            #expect(events.contains { $0.type == "ToolCallCompleted" && $0.data["tool"]?["tool_call_id"] == "c2" })

            let denials = try await h.server.server.services.database.withTenant(tenant.organizationId) { connection in
                let rows = try await connection.query(
                    "SELECT actor, details::text FROM audit_log WHERE action = 'policy.deny'", logger: TestEnvironment.logger)
                var denials: [(String, JSONValue)] = []
                for try await (actor, details) in rows.decode((String, String).self) {
                    denials.append((actor, try JSONValue(parsing: details)))
                }
                return denials
            }
            #expect(denials.count == 1)
            #expect(denials.first?.0 == "worker:\(workerId.uuidString.lowercased())")
            #expect(denials.first?.1["rule"] == "quotas.execution_tokens")
            #expect(denials.first?.1["input"]?["action"] == "model.call")
            #expect(denials.first?.1["input"]?["execution_usage"]?["tokens"] == 1050)
        }
    }

    /// The tool ledger: a worker killed between two tool calls of one turn. The retried attempt
    /// replays the first call's recorded result; its side effect happens exactly once.
    @Test func aToolsSideEffectHappensOnceWhenItsWorkerDiesMidTurn() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let marker = "ledger-wait-\(UUID().uuidString.prefix(8))"
        let llm = try await Self.startLLM(
            #"""
            {"replies": [
              {"tool_calls": [{"id": "first", "name": "Bash", "arguments": {"command": "echo charged >> \#(scratch)/effects"}}]},
              {"tool_calls": [{"id": "second", "name": "Bash", "arguments": {"command": "while [ ! -f \#(scratch)/go ]; do sleep 0.1; done; echo \#(marker) >/dev/null; echo shipped >> \#(scratch)/effects"}}]},
              {"text": "Charged once and shipped."}
            ]}
            """#)
        defer { Task { await llm.stop() } }
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let agent = try await Self.agent(
                h.tenant, AgentDefinition(name: "shop", runtime: .agno, model: "openai/gpt-4o-mini", tools: ["Bash"]))
            let environment = try Self.llmEnvironment(llm)
            let first = try await h.worker(environment: environment, testRuntime: false)
            let execution = try await h.tenant.submit(agent: agent.id, input: "Charge the card, then ship")

            // The first call's result is in the ledger and the second call is running.
            _ = try await eventually("the second tool call to start", timeout: .seconds(30)) {
                try await h.tenant.events(execution.id).first {
                    $0.type == "ToolCallStarted" && $0.data["tool"]?["tool_call_id"] == "second"
                }
            }
            let ledger = try await h.tenant.events(execution.id).filter { $0.type == "ledger" }
            #expect(ledger.contains { $0.data["message"]?["tool_call_id"] == "first" })
            first.signal(SIGKILL)
            _ = await first.waitForExit(timeout: .seconds(5))
            // Outside systemd a killed worker's tool processes live on (a known gap); stop the
            // orphan as systemd's KillMode=mixed would, so only the retry can ship.
            let pkill = Process()
            pkill.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
            pkill.arguments = ["-KILL", "-f", marker]
            try pkill.run()
            pkill.waitUntilExit()
            _ = FileManager.default.createFile(atPath: scratch + "/go", contents: nil)

            _ = try await h.worker(environment: environment, testRuntime: false)
            let done = try await h.tenant.waitForStatus(execution.id, [.completed, .failed], timeout: .seconds(60))
            #expect(done.status == .completed, "\(done)")
            #expect(done.output == "Charged once and shipped.")
            #expect(try String(contentsOfFile: scratch + "/effects", encoding: .utf8) == "charged\nshipped\n")
            // The model was asked three times in all: attempt 2 did not ask for the calls again.
            #expect(await llm.requests().count == 3)
            let attempts = try await h.tenant.events(execution.id).filter { $0.type == "RunStarted" }
            #expect(attempts.last?.data["attempt"] == 2)
            #expect(attempts.last?.data["replayed_messages"] == 3)
        }
    }
}
