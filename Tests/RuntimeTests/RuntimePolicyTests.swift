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
        policy("org", .organization, ["tools": ["deny": ["Bash"], "require_approval": ["Write"]]]),
        policy("agent", .agent, ["tools": ["allow": ["Read", "Write", "Bash", "Glob"]]]),
    ]

    @Test(arguments: ["agno", "claude_code"])
    func deniedToolsAreNotOfferedAndACallToOneIsRefusedAndReported(runtime name: String) async throws {
        // The model calls Bash (denied), Write (needs an approval nobody gave) and Read (allowed).
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "b", "name": "Bash", "arguments": {"command": "touch pwned"}},
                                  {"id": "w", "name": "Write", "arguments": {"file_path": "x.txt", "content": "x"}},
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
        #expect(!FileManager.default.fileExists(atPath: h.workspace + "/x.txt"))
        let calls = Dictionary(uniqueKeysWithValues: result.toolCalls.map { ($0.id, $0) })
        #expect(calls["b"]?.isError == true)
        #expect(calls["b"]?.result?.stringValue?.contains(#"Denied by policy: tool 'Bash' is denied by policy 'org' (organization): tools.deny "Bash""#) == true)
        #expect(calls["w"]?.isError == true)
        #expect(calls["w"]?.result?.stringValue?.contains("needs a person's approval") == true)
        #expect(calls["r"]?.isError == false)

        // Bash (denied) and Grep (not in the agent policy's allow list) were never offered.
        let offered = try #require(await h.requests().first?.body?["tools"]?.arrayValue)
            .compactMap { $0["function"]?["name"]?.stringValue ?? $0["name"]?.stringValue }
        #expect(Set(offered) == ["Read", "Write", "Glob"])

        // Every decision was reported with its input, for the audit log.
        let decisions = await h.events.data("policy_decision")
        #expect(decisions.map { $0["decision"]?.stringValue } == ["deny", "require_approval", "allow"])
        #expect(decisions.first?["input"]?["tool"]?["arguments"]?["command"] == "touch pwned")
        #expect(decisions.first?["policy_name"] == "org")
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
}
