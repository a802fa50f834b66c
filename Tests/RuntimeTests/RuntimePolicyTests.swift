import BosunProtocol
import Foundation
import LLM
import Runtimes
import ScriptedLLM
import Testing

/// Policies that travel with the task, enforced by both runtimes before every tool call.
@Suite struct RuntimePolicyTests {
    static func policy(_ name: String, _ level: PolicyLevel, _ rules: JSONValue) -> PolicySnapshot {
        PolicySnapshot(id: UUID(), name: name, level: level, rules: rules)
    }

    static let policies = [
        policy("org", .organization, ["tools": ["deny": ["Bash"]]]),
        policy("agent", .agent, ["tools": ["allow": ["Read", "Write", "Bash", "Glob"]]]),
    ]

    @Test(arguments: ["agno", "claude_code"])
    func deniedToolsAreNotOfferedAndACallToOneIsRefusedAndReported(runtime name: String) async throws {
        // The model calls Bash (denied), Grep (outside the agent policy's allow list) and Read (allowed).
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "b", "name": "Bash", "arguments": {"command": "touch pwned"}},
                                  {"id": "g", "name": "Grep", "arguments": {"pattern": "seeded"}},
                                  {"id": "r", "name": "Read", "arguments": {"file_path": "seed.txt"}}]},
                  {"match": {"contains": "seeded"}, "text": "Read the seed; the rest was refused."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        try "seeded\n".write(toFile: h.workspace + "/seed.txt", atomically: true, encoding: .utf8)
        // claude_code's own permissions would stop Write first (headless `ask`); acceptEdits lets
        // the call reach the policy, which is what this test is about.
        let agent = RuntimeHarness.agent(
            runtime: name, tools: ["Read", "Write", "Bash", "Glob", "Grep"],
            settings: name == "claude_code" ? ["permissions": ["defaultMode": "acceptEdits"]] : [:])
        let runtime: any Runtime = name == "agno" ? AgnoRuntime(llm: h.access) : ClaudeCodeRuntime(llm: h.access)
        let result = try await h.run(
            runtime, RuntimeHarness.assignment(agent: agent, input: "Go.", policies: Self.policies))

        #expect(result.output == "Read the seed; the rest was refused.")
        #expect(!FileManager.default.fileExists(atPath: h.workspace + "/pwned"))
        let calls = Dictionary(uniqueKeysWithValues: result.toolCalls.map { ($0.id, $0) })
        #expect(calls["b"]?.isError == true)
        #expect(calls["b"]?.result?.stringValue?.contains(#"Denied by policy: tool 'Bash' is denied by policy 'org' (organization): tools.deny "Bash""#) == true)
        #expect(calls["g"]?.isError == true)
        #expect(calls["g"]?.result?.stringValue?.contains("not in the allowed tools") == true)
        #expect(calls["r"]?.isError == false)

        // Bash (denied) and Grep (not in the agent policy's allow list) were never offered.
        let offered = try #require(await h.requests().first?.body?["tools"]?.arrayValue)
            .compactMap { $0["function"]?["name"]?.stringValue ?? $0["name"]?.stringValue }
        #expect(Set(offered) == ["Read", "Write", "Glob"])

        // Every decision was reported with its input, for the audit log.
        // (agno runs a turn's calls concurrently, so their decisions may arrive in any order.)
        let decisions = await h.events.data("policy_decision")
        #expect(decisions.compactMap { $0["decision"]?.stringValue }.sorted() == ["allow", "deny", "deny"])
        let bash = decisions.first { $0["input"]?["tool"]?["name"] == "Bash" }
        #expect(bash?["decision"] == "deny")
        #expect(bash?["input"]?["tool"]?["arguments"]?["command"] == "touch pwned")
        #expect(bash?["policy_name"] == "org")
    }

    @Test func policiesThatCannotBeReadOrForbidTheModelFailTheTurnForGood() async throws {
        let h = try await RuntimeHarness.start(script: #"{"replies": [{"text": "should not be asked"}]}"#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno", tools: ["Read"])
        let broken = [Self.policy("broken", .organization, ["tools": ["dney": ["Bash"]]])]
        await #expect {
            try await h.run(AgnoRuntime(llm: h.access), RuntimeHarness.assignment(agent: agent, input: "hi", policies: broken))
        } throws: { error in
            guard let failure = error as? TurnFailure else { return false }
            return !failure.retryable && failure.message.contains("cannot be evaluated")
                && failure.message.contains("rules.tools.dney")
        }
        let models = [Self.policy("anthropic-only", .organization, ["models": ["allow": ["anthropic/*"]]])]
        await #expect {
            try await h.run(AgnoRuntime(llm: h.access), RuntimeHarness.assignment(agent: agent, input: "hi", policies: models))
        } throws: { error in
            guard let failure = error as? TurnFailure else { return false }
            return !failure.retryable && failure.message.contains("models.allow")
        }
        #expect(await h.requests().isEmpty)
    }

    /// Attempt 1 asks for Read and Write; Write needs approval (a policy for agno, claude_code's
    /// own `ask` for an edit in default mode). Read runs, Write waits, the turn parks. Attempt 2
    /// replays the ledger with the people's decision.
    @Test(arguments: [("agno", "approved"), ("agno", "denied"), ("claude_code", "approved"), ("claude_code", "expired")])
    func aCallThatNeedsApprovalWaitsThenRunsOrIsRefusedAsDecided(runtime name: String, decision: String) async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "r", "name": "Read", "arguments": {"file_path": "seed.txt"}},
                                  {"id": "w", "name": "Write", "arguments": {"file_path": "out.txt", "content": "approved write\n"}}]},
                  {"match": {"contains": "Do not call it again"}, "text": "Understood, no write."},
                  {"text": "Wrote it."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        try "seeded\n".write(toFile: h.workspace + "/seed.txt", atomically: true, encoding: .utf8)
        let agent = RuntimeHarness.agent(runtime: name, tools: ["Read", "Write"])
        let policies = name == "agno"
            ? [Self.policy("careful", .organization, ["tools": ["require_approval": ["Write"]]])] : []
        let runtime: any Runtime = name == "agno" ? AgnoRuntime(llm: h.access) : ClaudeCodeRuntime(llm: h.access)
        let first = RuntimeHarness.assignment(agent: agent, input: "Copy it.", policies: policies)

        await #expect {
            try await h.run(runtime, first)
        } throws: { error in
            guard let paused = error as? ApprovalRequired else { return false }
            return paused.requests.map(\.toolCallId) == ["w"] && paused.requests.first?.toolName == "Write"
                && paused.requests.first?.arguments["content"] == "approved write\n"
        }
        #expect(!FileManager.default.fileExists(atPath: h.workspace + "/out.txt"))
        // Read ran and is in the ledger; Write has no result there.
        let ledger = await h.events.data("ledger")
        #expect(ledger.contains { $0["message"]?["role"] == "tool" && $0["message"]?["tool_call_id"] == "r" })
        #expect(!ledger.contains { $0["message"]?["tool_call_id"] == "w" })

        let resolution = ApprovalResolution(
            toolCallId: "w", toolName: "Write", status: ApprovalStatus(rawValue: decision)!, reason: "not today",
            decidedBy: "user:test")
        var second = first
        second.attempt = 2
        second.ledger = ledger
        second.approvals = [resolution]
        let result = try await h.run(runtime, second)
        let write = try #require(result.toolCalls.first { $0.id == "w" })
        if decision == "approved" {
            #expect(result.output == "Wrote it.")
            #expect(try String(contentsOfFile: h.workspace + "/out.txt", encoding: .utf8) == "approved write\n")
            #expect(write.isError == false)
        } else {
            #expect(result.output == "Understood, no write.")
            #expect(!FileManager.default.fileExists(atPath: h.workspace + "/out.txt"))
            #expect(write.isError == true)
            let text = write.result?.stringValue ?? ""
            #expect(decision == "denied" ? text.contains("A person denied this call: not today") : text.contains("Nobody approved this call in time"))
        }
        // Read ran once, in attempt 1; the model was asked once per attempt.
        #expect(await h.requests().count == 2)
    }

    /// Each model call uses 60 tokens. The execution had used 20 before the turn and its quota is
    /// 130: the first two calls go ahead (20, then 80 used), the third would start at 140 and is
    /// never made. The turn ends with an error, keeping what it did and used.
    @Test(arguments: ["agno", "claude_code"])
    func aQuotaStopsATurnBeforeTheModelCallThatWouldExceedIt(runtime name: String) async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "r1", "name": "Read", "arguments": {"file_path": "seed.txt"}}],
                   "usage": {"input_tokens": 40, "output_tokens": 20}},
                  {"tool_calls": [{"id": "r2", "name": "Read", "arguments": {"file_path": "seed.txt"}}],
                   "usage": {"input_tokens": 40, "output_tokens": 20}},
                  {"text": "should not be asked", "usage": {"input_tokens": 40, "output_tokens": 20}}
                ]}
                """#)
        defer { Task { await h.stop() } }
        try "seeded\n".write(toFile: h.workspace + "/seed.txt", atomically: true, encoding: .utf8)
        let agent = RuntimeHarness.agent(runtime: name, tools: ["Read"])
        let runtime: any Runtime = name == "agno" ? AgnoRuntime(llm: h.access) : ClaudeCodeRuntime(llm: h.access)
        let result = try await h.run(
            runtime,
            RuntimeHarness.assignment(
                agent: agent, input: "Read it twice.",
                policies: [Self.policy("budget", .organization, ["quotas": ["execution_tokens": 130]])],
                usageSoFar: UsageSoFar(execution: QuotaUsage(tokens: 20, costUSD: 0))))

        #expect(await h.requests().count == 2)
        #expect(result.finishReason == .error)
        #expect(result.error?.contains("denied by policy: the execution used 140 tokens of its quota of 130") == true)
        #expect(result.toolCalls.map(\.id) == ["r1", "r2"])
        #expect(result.toolCalls.allSatisfy { $0.isError == false })
        #expect(result.usage.inputTokens + result.usage.outputTokens == 120)

        // Reported before every model call (the two Read calls have their own decisions).
        let decisions = await h.events.data("policy_decision").filter { $0["input"]?["action"] == "model.call" }
        #expect(decisions.compactMap { $0["decision"]?.stringValue } == ["allow", "allow", "deny"])
        let denial = try #require(decisions.last)
        #expect(denial["rule"] == "quotas.execution_tokens")
        #expect(denial["policy_name"] == "budget")
        #expect(denial["input"]?["action"] == "model.call")
        #expect(denial["input"]?["execution_usage"]?["tokens"] == 140)
        #expect(denial["input"]?["turn_usage"]?["tokens"] == 120)
    }

    /// The organization's usage today grows with the turn's own; and a quota with nothing to
    /// count from denies before the model is asked at all.
    @Test func organizationQuotasCountTheTurnAndMissingUsageDenies() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "r1", "name": "Read", "arguments": {"file_path": "seed.txt"}}],
                   "usage": {"input_tokens": 4, "output_tokens": 2}},
                  {"text": "should not be asked"}
                ]}
                """#)
        defer { Task { await h.stop() } }
        try "seeded\n".write(toFile: h.workspace + "/seed.txt", atomically: true, encoding: .utf8)
        let agent = RuntimeHarness.agent(runtime: "agno", tools: ["Read"])
        let daily = [Self.policy("daily", .organization, ["quotas": ["organization_daily_tokens": 1000]])]
        let result = try await h.run(
            AgnoRuntime(llm: h.access),
            RuntimeHarness.assignment(
                agent: agent, input: "Read it.", policies: daily,
                usageSoFar: UsageSoFar(execution: .zero, organizationToday: QuotaUsage(tokens: 995, costUSD: 0))))
        #expect(await h.requests().count == 1)
        #expect(result.error?.contains("the organization used 1001 tokens today of its daily quota of 1000") == true)

        // No usage on the task (or no organization usage under a daily quota): fail closed.
        for usage in [nil, UsageSoFar(execution: .zero)] {
            let refused = try await h.run(
                AgnoRuntime(llm: h.access),
                RuntimeHarness.assignment(agent: agent, input: "Read it.", policies: daily, usageSoFar: usage))
            #expect(refused.finishReason == .error)
            #expect(refused.error?.contains("policy evaluation failed") == true)
            #expect(refused.usage.inputTokens == 0)
        }
        #expect(await h.requests().count == 1)

        // Without a quota nothing is checked or reported.
        let reported = await h.events.data("policy_decision").count
        #expect(reported == 5)  // two model calls and one tool call, then the two refusals
        let free = try await h.run(
            AgnoRuntime(llm: h.access), RuntimeHarness.assignment(agent: agent, input: "Read it.", policies: []))
        #expect(free.output == "should not be asked")
        #expect(await h.events.data("policy_decision").count == reported)
    }
}
