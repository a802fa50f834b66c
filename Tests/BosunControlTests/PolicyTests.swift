import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import PostgresNIO
import Testing

/// Policies on the control API: stored and checked strictly, applied by level, deciding before
/// an execution is accepted and after each turn, travelling with every task, audited.
@Suite struct PolicyTests {
    func createPolicy(_ tenant: Tenant, _ body: JSONValue) async throws -> BosunProtocol.Policy {
        let reply = try await tenant.admin.post("/api/v1/policies", body)
        guard reply.status == 201 else { throw TestFailure("create policy: \(reply.status) \(reply.text)") }
        return try reply.decode()
    }

    func auditRows(_ server: TestServer, _ tenant: Tenant, action: String) async throws -> [JSONValue] {
        try await server.server.services.database.withTenant(tenant.organizationId) { connection in
            let rows = try await connection.query(
                "SELECT details::text FROM audit_log WHERE action = \(action) ORDER BY id", logger: TestEnvironment.logger)
            var items: [JSONValue] = []
            for try await text in rows.decode(String.self) { items.append(JSONValue(jsonText: text) ?? .null) }
            return items
        }
    }

    @Test func policiesAreValidatedStoredListedChangedAndDeleted() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let org = try await createPolicy(
            tenant, ["name": "org-guardrails", "level": "organization", "rules": ["tools": ["deny": ["Bash"]]]])
        #expect(org.level == .organization)
        #expect(org.targetId == nil)
        #expect(org.enabled)
        let pinned = try await createPolicy(
            tenant,
            ["name": "agent-models", "level": "agent", "target_id": .string(agent.id.uuidString),
             "rules": ["models": ["allow": ["openai/*"]]]])
        let listed = try await tenant.admin.get("/api/v1/policies").decode(ItemList<BosunProtocol.Policy>.self)
        #expect(listed.items.map(\.name) == ["org-guardrails", "agent-models"])

        // Bad rules, levels and targets are refused with the problem named.
        let typo = try await tenant.admin.post(
            "/api/v1/policies", ["name": "typo", "level": "organization", "rules": ["tools": ["dney": ["Bash"]]]] as JSONValue)
        #expect(typo.status == 422)
        #expect(typo.text.contains("rules.tools.dney"))
        let noTarget = try await tenant.admin.post(
            "/api/v1/policies", ["name": "t", "level": "agent", "rules": [:]] as JSONValue)
        #expect(noTarget.status == 422)
        #expect(noTarget.text.contains("target_id"))
        let unknownTarget = try await tenant.admin.post(
            "/api/v1/policies",
            ["name": "t", "level": "team", "target_id": .string(UUID().uuidString), "rules": [:]] as JSONValue)
        #expect(unknownTarget.status == 404)
        let duplicate = try await tenant.admin.post(
            "/api/v1/policies", ["name": "org-guardrails", "level": "organization"] as JSONValue)
        #expect(duplicate.status == 409)
        // Users read policies; only admins change them.
        let user = tenant.admin.with(token: try await tenant.createKey(scope: .user))
        #expect(try await user.get("/api/v1/policies/\(org.id.uuidString.lowercased())").status == 200)
        #expect(try await user.post("/api/v1/policies", ["name": "mine", "level": "organization"] as JSONValue).status == 403)

        let patched = try await tenant.admin.send(
            .PATCH, "/api/v1/policies/\(pinned.id.uuidString.lowercased())",
            json: ["enabled": false, "rules": ["models": ["allow": ["anthropic/*"]]]] as JSONValue)
        #expect(patched.status == 200)
        let changed = try patched.decode(BosunProtocol.Policy.self)
        #expect(!changed.enabled)
        #expect(changed.rules["models"]?["allow"] == ["anthropic/*"])
        #expect(try await tenant.admin.send(.DELETE, "/api/v1/policies/\(org.id.uuidString.lowercased())").status == 204)
        #expect(try await tenant.admin.get("/api/v1/policies/\(org.id.uuidString.lowercased())").status == 404)
        #expect(try await auditRows(server, tenant, action: "policy.create").count == 2)

        // Another organization sees none of them.
        let other = try await Tenant.create(on: server)
        #expect(try await other.admin.get("/api/v1/policies").decode(ItemList<BosunProtocol.Policy>.self).items.isEmpty)
        #expect(try await other.admin.get("/api/v1/policies/\(pinned.id.uuidString.lowercased())").status == 404)
    }

    @Test func aDeniedExecutionIsRefusedWithTheRuleAndAudited() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()  // openai/gpt-4o-mini, sandbox "default"
        _ = try await createPolicy(
            tenant, ["name": "anthropic-only", "level": "organization", "rules": ["models": ["allow": ["anthropic/*"]]]])
        let reply = try await tenant.admin.post(
            "/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: "hi"))
        #expect(reply.status == 403)
        let problem = try reply.decode(Problem.self)
        #expect(problem.type.hasSuffix("/policy-denied"))
        #expect(problem.detail.contains("model 'openai/gpt-4o-mini' is not in the allowed models"))
        #expect(problem.policy?["rule"] == "models.allow")
        #expect(problem.policy?["policy_name"] == "anthropic-only")
        // Nothing was created, and the denial is in the audit log with its input.
        let executions = try await tenant.admin.get("/api/v1/executions").decode(ItemList<Execution>.self)
        #expect(executions.items.isEmpty)
        let denials = try await auditRows(server, tenant, action: "policy.deny")
        #expect(denials.count == 1)
        #expect(denials.first?["rule"] == "models.allow")
        #expect(denials.first?["input"]?["agent"]?["model"] == "openai/gpt-4o-mini")
        #expect(denials.first?["input"]?["action"] == "execution.create")

        // A more specific level cannot lift it; a sandbox minimum also applies.
        let pinned = try await createPolicy(
            tenant,
            ["name": "agent-wants-openai", "level": "agent", "target_id": .string(agent.id.uuidString),
             "rules": ["models": ["allow": ["openai/*"]]]])
        #expect(try await tenant.admin.post("/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: "hi")).status == 403)
        _ = try await tenant.admin.send(
            .PATCH, "/api/v1/policies/\(pinned.id.uuidString.lowercased())",
            json: ["rules": ["sandbox": ["minimum_profile": "strict"]]] as JSONValue)
        let list = try await tenant.admin.get("/api/v1/policies").decode(ItemList<BosunProtocol.Policy>.self)
        let org = try #require(list.items.first { $0.level == .organization })
        _ = try await tenant.admin.send(.DELETE, "/api/v1/policies/\(org.id.uuidString.lowercased())")
        let weak = try await tenant.admin.post("/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: "hi"))
        #expect(weak.status == 403)
        #expect(try weak.decode(Problem.self).policy?["rule"] == #"sandbox.minimum_profile "strict""#)

        // Allowed once nothing forbids it; the decision is in the creation's audit entry.
        _ = try await tenant.admin.send(.DELETE, "/api/v1/policies/\(pinned.id.uuidString.lowercased())")
        let execution = try await tenant.submit(agent: agent.id, input: "hi")
        let created = try await auditRows(server, tenant, action: "execution.create")
        #expect(created.last?["policy"]?["decision"] == "allow")
        #expect(created.last?["policy"]?["input"]?["queue_id"]?.stringValue == execution.queueId.uuidString.lowercased())
    }

    @Test func aRememberedAllowanceNeverOutlivesAChangeToItsContext() async throws {
        // The control API remembers allowing decisions so a submit takes one round trip; the
        // database refuses a remembered decision whose context (agent, policies, ...) changed.
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()  // openai/gpt-4o-mini
        func submitStatus() async throws -> Int {
            try await tenant.admin.post("/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: "hi")).status
        }
        #expect(try await submitStatus() == 201)
        #expect(try await submitStatus() == 201)
        // A new policy denies the next submit.
        let policy = try await createPolicy(
            tenant, ["name": "anthropic-only", "level": "organization", "rules": ["models": ["allow": ["anthropic/*"]]]])
        #expect(try await submitStatus() == 403)
        // A changed agent is decided again: allowed with the new model...
        let agentPath = "/api/v1/agents/\(agent.id.uuidString.lowercased())"
        #expect(try await tenant.admin.send(.PATCH, agentPath, json: ["model": "anthropic/claude-sonnet-4"] as JSONValue).status == 200)
        #expect(try await submitStatus() == 201)
        #expect(try await submitStatus() == 201)
        // ...and denied again with the old one, although an allowance was remembered meanwhile.
        #expect(try await tenant.admin.send(.PATCH, agentPath, json: ["model": "openai/gpt-4o-mini"] as JSONValue).status == 200)
        #expect(try await submitStatus() == 403)
        // A changed policy too: loosened, then tightened again.
        let policyPath = "/api/v1/policies/\(policy.id.uuidString.lowercased())"
        #expect(try await tenant.admin.send(.PATCH, policyPath, json: ["rules": ["models": ["allow": ["openai/*"]]]] as JSONValue).status == 200)
        #expect(try await submitStatus() == 201)
        #expect(try await tenant.admin.send(.PATCH, policyPath, json: ["enabled": false] as JSONValue).status == 200)
        #expect(try await submitStatus() == 201)
        #expect(try await tenant.admin.send(
            .PATCH, policyPath, json: ["enabled": true, "rules": ["models": ["allow": ["anthropic/*"]]]] as JSONValue).status == 200)
        #expect(try await submitStatus() == 403)
        // Every creation carries its decision in the audit log.
        let created = try await auditRows(server, tenant, action: "execution.create")
        #expect(created.count == 6)
        #expect(created.allSatisfy { $0["policy"]?["decision"] == "allow" })
    }

    @Test func tasksCarryThePoliciesOfTheirLevelsOnly() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let bystander = try await tenant.createAgent()
        let team = try await tenant.admin.post(
            "/api/v1/teams", CreateTeamRequest(name: "coders", memberAgentIds: [agent.id])).decode(Team.self)
        #expect(team.memberAgentIds == [agent.id])
        _ = try await createPolicy(tenant, ["name": "a-org", "level": "organization", "rules": ["tools": ["deny": ["Bash"]]]])
        _ = try await createPolicy(
            tenant, ["name": "b-env", "level": "environment", "target_id": .string(tenant.environmentId.uuidString),
                     "rules": ["limits": ["max_turns": 5]]])
        _ = try await createPolicy(
            tenant, ["name": "c-team", "level": "team", "target_id": .string(team.id.uuidString),
                     "rules": ["tools": ["require_approval": ["Write"]]]])
        _ = try await createPolicy(
            tenant, ["name": "d-agent", "level": "agent", "target_id": .string(agent.id.uuidString),
                     "rules": ["tools": ["allow": ["Read", "Write"]]]])
        _ = try await createPolicy(
            tenant, ["name": "e-other-agent", "level": "agent", "target_id": .string(bystander.id.uuidString),
                     "rules": ["tools": ["deny": ["*"]]]])
        _ = try await createPolicy(
            tenant, ["name": "f-disabled", "level": "organization", "enabled": false, "rules": ["tools": ["deny": ["*"]]]])
        let (registration, worker) = try await tenant.registerWorker()
        _ = try await tenant.submit(agent: agent.id, input: "hi")
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        #expect(task.policies.map(\.name) == ["a-org", "b-env", "c-team", "d-agent"])
        #expect(task.policies.map(\.level) == [.organization, .environment, .team, .agent])
    }

    @Test func turnLimitsAndQuotasStopAnExecutionAfterATurn() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        _ = try await createPolicy(
            tenant, ["name": "short", "level": "organization", "rules": ["limits": ["max_turns": 1]]])
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id, input: "Plan a trip")
        let first = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let toolTurn = TurnResult(
            messages: [["role": "assistant", "tool_calls": [["id": "c1"]]]],
            toolCalls: [ToolCallRecord(id: "c1", name: "get_time", arguments: [:])], finishReason: .toolCalls)
        let decided = try await worker.post(
            "/api/v1/tasks/\(first.id.uuidString.lowercased())/complete", CompleteTaskRequest(leaseId: first.lease.id, result: toolTurn)
        ).decode(CompleteTaskResponse.self)
        #expect(decided.executionStatus == .failed)
        let transitions = try await tenant.admin.get("/api/v1/executions/\(execution.id.uuidString.lowercased())/transitions")
            .decode(StateTransitionList.self)
        #expect(transitions.items.last?.decider == "policy")
        #expect(transitions.items.last?.reason.contains("limits.max_turns") == true)

        // A token quota: the first turn's usage exhausts it.
        let quotaTenant = try await Tenant.create(on: server)
        let quotaAgent = try await quotaTenant.createAgent()
        _ = try await createPolicy(
            quotaTenant, ["name": "tiny", "level": "organization", "rules": ["quotas": ["execution_tokens": 100]]])
        let (quotaRegistration, quotaWorker) = try await quotaTenant.registerWorker()
        _ = try await quotaTenant.submit(agent: quotaAgent.id, input: "Plan a trip")
        let task = try #require(try await quotaWorker.poll(worker: quotaRegistration.workerId, wait: 2).first)
        var expensive = toolTurn
        expensive.usage = Usage(inputTokens: 80, outputTokens: 30)
        let stopped = try await quotaWorker.post(
            "/api/v1/tasks/\(task.id.uuidString.lowercased())/complete", CompleteTaskRequest(leaseId: task.lease.id, result: expensive)
        ).decode(CompleteTaskResponse.self)
        #expect(stopped.executionStatus == .failed)
        let checks = try await auditRows(server, quotaTenant, action: "policy.deny")
        #expect(checks.first?["rule"] == "quotas.execution_tokens")
        #expect(checks.first?["input"]?["execution_usage"]?["tokens"] == 110)
        // The organization's daily quota then refuses new executions before they start.
        _ = try await createPolicy(
            quotaTenant, ["name": "daily", "level": "organization", "rules": ["quotas": ["organization_daily_tokens": 100]]])
        let refused = try await quotaTenant.admin.post(
            "/api/v1/executions", CreateExecutionRequest(agentId: quotaAgent.id, input: "again"))
        #expect(refused.status == 403)
        #expect(try refused.decode(Problem.self).policy?["rule"] == "quotas.organization_daily_tokens")
    }

    /// The worker checks quotas before every model call from the usage its task carries: the
    /// execution's finished turns and, under a daily quota, the organization's turns today. Both
    /// the claim and a task handed straight to a waiting poll carry it; without a quota, nothing.
    @Test func tasksUnderAQuotaCarryTheUsageTheyStartFrom() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        _ = try await createPolicy(
            tenant, ["name": "budget", "level": "organization",
                     "rules": ["quotas": ["execution_tokens": 1000, "organization_daily_tokens": 5000]]])
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id, input: "Plan a trip")
        #expect(execution.status == .queued)
        let first = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        #expect(first.usageSoFar == UsageSoFar(execution: .zero, organizationToday: .zero))

        var toolTurn = TurnResult(
            messages: [["role": "assistant", "tool_calls": [["id": "c1"]]]],
            toolCalls: [ToolCallRecord(id: "c1", name: "get_time", arguments: [:])], finishReason: .toolCalls)
        toolTurn.usage = Usage(inputTokens: 80, outputTokens: 30, cacheReadTokens: 500)
        toolTurn.costUsd = 0.25
        let completed = try await worker.post(
            "/api/v1/tasks/\(first.id.uuidString.lowercased())/complete", CompleteTaskRequest(leaseId: first.lease.id, result: toolTurn)
        ).decode(CompleteTaskResponse.self)
        #expect(completed.executionStatus == .queued)
        let second = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        #expect(second.turn == 2)
        let used = QuotaUsage(tokens: 110, costUSD: 0.25)
        #expect(second.usageSoFar == UsageSoFar(execution: used, organizationToday: used))

        // A poll that is already waiting gets the next execution's first task from the submit itself.
        let (handoffRegistration, handoffWorker) = try await tenant.registerWorker()
        async let waiting = handoffWorker.poll(worker: handoffRegistration.workerId, wait: 5)
        try await Task.sleep(for: .milliseconds(300))
        let handedOff = try await tenant.submit(agent: agent.id, input: "And another")
        #expect(handedOff.status == .running)
        let third = try #require(try await waiting.first)
        #expect(third.executionId == handedOff.id)
        #expect(third.usageSoFar == UsageSoFar(execution: .zero, organizationToday: used))

        // An execution quota alone: no organization usage is read.
        let executionOnly = try await Tenant.create(on: server)
        let executionOnlyAgent = try await executionOnly.createAgent()
        _ = try await createPolicy(
            executionOnly, ["name": "budget", "level": "organization", "rules": ["quotas": ["execution_cost_usd": 1]]])
        let (executionOnlyRegistration, executionOnlyWorker) = try await executionOnly.registerWorker()
        _ = try await executionOnly.submit(agent: executionOnlyAgent.id)
        let capped = try #require(try await executionOnlyWorker.poll(worker: executionOnlyRegistration.workerId, wait: 2).first)
        #expect(capped.usageSoFar == UsageSoFar(execution: .zero))

        // No quota: the task carries no usage (and nothing is summed for it).
        let free = try await Tenant.create(on: server)
        let freeAgent = try await free.createAgent()
        let (freeRegistration, freeWorker) = try await free.registerWorker()
        _ = try await free.submit(agent: freeAgent.id)
        let unlimited = try #require(try await freeWorker.poll(worker: freeRegistration.workerId, wait: 2).first)
        #expect(unlimited.usageSoFar == nil)
    }

    @Test func workerToolDecisionsReachTheAuditLog() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id, input: "hi")
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let decision: JSONValue = [
            "decision": "deny", "rule": #"tools.deny "Bash""#, "reason": "tool 'Bash' is denied", "tool": "Bash",
            "tool_call_id": "c1", "input": ["action": "tool.call", "tool": ["name": "Bash", "arguments": ["command": "ls"]]],
        ]
        let events = AppendEventsRequest(leaseId: task.lease.id, events: [TaskEvent(seq: 1, type: "policy_decision", data: decision)])
        let path = "/api/v1/tasks/\(task.id.uuidString.lowercased())/events"
        #expect(try await worker.post(path, events).status == 200)
        #expect(try await worker.post(path, events).status == 200)  // a re-sent batch is not audited twice
        let rows = try await auditRows(server, tenant, action: "policy.deny")
        #expect(rows.count == 1)
        #expect(rows.first?["tool"] == "Bash")
        #expect(rows.first?["execution_id"]?.stringValue == execution.id.uuidString.lowercased())
        #expect(rows.first?["input"]?["tool"]?["arguments"]?["command"] == "ls")
        #expect(rows.first?["turn"] == 1)
        let actors = try await server.server.services.database.withTenant(tenant.organizationId) { connection in
            var actors: [String] = []
            let rows = try await connection.query(
                "SELECT actor FROM audit_log WHERE action = 'policy.deny'", logger: TestEnvironment.logger)
            for try await actor in rows.decode(String.self) { actors.append(actor) }
            return actors
        }
        #expect(actors == ["worker:\(registration.workerId.uuidString.lowercased())"])
    }

    /// A real Rego evaluator (regopy) behind OPA's data API, started for this test.
    final class RegoServer: Sendable {
        let process: Process
        let port: Int
        let logPath: String

        init(rego: String) async throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("opa-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try rego.write(toFile: dir + "/policy.rego", atomically: true, encoding: .utf8)
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("scripts/lib/opa_regopy_server.py").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, dir + "/policy.rego", dir + "/port"]
            try process.run()
            let deadline = ContinuousClock.now + .seconds(20)
            while !FileManager.default.fileExists(atPath: dir + "/port") {
                guard ContinuousClock.now < deadline, process.isRunning else { throw TestFailure("the Rego server did not start") }
                try await Task.sleep(for: .milliseconds(50))
            }
            self.process = process
            self.port = Int(try String(contentsOfFile: dir + "/port", encoding: .utf8)) ?? 0
            self.logPath = dir + "/port.log"
        }

        var requests: [JSONValue] {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { JSONValue(jsonText: String($0)) }
        }

        /// SIGKILL and no `waitUntilExit`: that call can block for ever inside a test's task on
        /// Linux; the process is reaped by Foundation on its own thread.
        func stop() {
            kill(process.processIdentifier, SIGKILL)
        }
    }

    @Test func anExternalOPADecidesOnTheSameInputAndAnythingButAnAllowDenies() async throws {
        let opa = try await RegoServer(
            rego: """
            package bosun.execution
            import rego.v1

            default allow := false
            allow if {
                input.action == "execution.create"
                input.agent.model == "openai/gpt-4o-mini"
                count(input.policies) == 0
            }
            reason := sprintf("model %s is not approved by OPA", [input.agent.model]) if not allow
            rule := "bosun.execution.allow"
            """)
        defer { opa.stop() }
        let base = "http://127.0.0.1:\(opa.port)/v1/data"
        let server = try await TestServer.start {
            $0.opaURL = base + "/bosun/execution"
            $0.opaTimeout = .seconds(1)
        }
        defer { Task { await server.stop() } }
        let tenant = try await Tenant.create(on: server)
        let allowed = try await tenant.createAgent()
        let other = try await tenant.admin.post(
            "/api/v1/agents",
            AgentDefinition(name: "big", runtime: .agno, model: "openai/gpt-4o", instructions: "", tools: [], mcpServers: [:])
        ).decode(Agent.self)

        let execution = try await tenant.submit(agent: allowed.id, input: "hi")
        #expect(execution.status == .queued)
        let sent = try #require(opa.requests.last)
        #expect(sent["path"] == "/v1/data/bosun/execution")
        #expect(sent["input"]?["agent"]?["id"]?.stringValue == allowed.id.uuidString.lowercased())
        #expect(sent["input"]?["principal"]?.stringValue?.isEmpty == false)
        let audited = try await auditRows(server, tenant, action: "execution.create")
        #expect(audited.last?["policy"]?["evaluator"] == "opa")

        let refused = try await tenant.admin.post("/api/v1/executions", CreateExecutionRequest(agentId: other.id, input: "hi"))
        #expect(refused.status == 403)
        let problem = try refused.decode(Problem.self)
        #expect(problem.detail.contains("model openai/gpt-4o is not approved by OPA"))
        #expect(problem.policy?["rule"] == "bosun.execution.allow")
        #expect(problem.policy?["evaluator"] == "opa")

        // An undefined decision, a slow OPA and an unreachable one all deny.
        for (url, message) in [
            (base + "/bosun/nothing", "undefined"), (base + "/slow/bosun/execution", "could not be asked"),
            ("http://127.0.0.1:9/v1/data/bosun/execution", "could not be asked"),
        ] {
            let failing = try await TestServer.start {
                $0.opaURL = url
                $0.opaTimeout = .seconds(1)
            }
            let reply = try await APIClient(baseURL: failing.baseURL, token: tenant.admin.token)
                .post("/api/v1/executions", CreateExecutionRequest(agentId: allowed.id, input: "hi"))
            #expect(reply.status == 403, "\(url)")
            #expect(reply.text.contains(message), "\(url): \(reply.text)")
            #expect(try reply.decode(Problem.self).policy?["rule"] == "evaluation-failed")
            await failing.stop()
        }
    }
}
