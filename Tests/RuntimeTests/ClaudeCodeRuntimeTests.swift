import BosunProtocol
import Foundation
import LLM
import Runtimes
import ScriptedLLM
import Testing

/// The `claude_code` runtime against the scripted LLM server (Anthropic Messages, streamed).
@Suite struct ClaudeCodeRuntimeTests {
    let runtime = { (h: RuntimeHarness) in ClaudeCodeRuntime(llm: h.access) }

    func result(_ h: RuntimeHarness) async throws -> JSONValue {
        try #require(await h.events.data("result").last)
    }

    @Test func aCodingLoopWithStreamJSONEvents() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"text": "I'll create it.", "tool_calls": [{"id": "toolu_w", "name": "Write", "arguments": {"file_path": "src/app.py", "content": "print('hi')\n"}}],
                   "usage": {"input_tokens": 1000, "output_tokens": 50, "cache_read_tokens": 2000, "cache_write_tokens": 100}},
                  {"tool_calls": [{"id": "toolu_e", "name": "Edit", "arguments": {"file_path": "src/app.py", "old_string": "hi", "new_string": "hello"}}],
                   "usage": {"input_tokens": 1100, "output_tokens": 40}},
                  {"tool_calls": [{"id": "toolu_b", "name": "Bash", "arguments": {"command": "python3 src/app.py"}}]},
                  {"match": {"contains": "hello"}, "text": "Done: it prints hello.", "usage": {"input_tokens": 1200, "output_tokens": 10}}
                ]}
                """#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(
            runtime: "claude_code", settings: ["permissions": ["defaultMode": "acceptEdits", "allow": ["Bash(python3 *)"]]])
        let turn = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "Write a hello script"))

        #expect(turn.output == "Done: it prints hello.")
        #expect(turn.finishReason == .stop)
        #expect(try String(contentsOfFile: h.workspace + "/src/app.py", encoding: .utf8) == "print('hello')\n")
        #expect(turn.toolCalls.map(\.name) == ["Write", "Edit", "Bash"])
        #expect(turn.toolCalls.last?.result?.stringValue?.contains("hello") == true)

        let types = await h.events.types().filter { $0 != "stream_event" && $0 != "ledger" }
        #expect(types == ["system", "assistant", "user", "assistant", "user", "assistant", "user", "assistant", "result"])
        let initEvent = try #require(await h.events.data("system").first)
        #expect(initEvent["subtype"] == "init")
        #expect(initEvent["permissionMode"] == "acceptEdits")
        #expect(initEvent["cwd"]?.stringValue == h.workspace)
        #expect(initEvent["tools"]?.arrayValue?.contains("Bash") == true)
        let assistant = try #require(await h.events.data("assistant").first)
        #expect(assistant["message"]?["content"]?.arrayValue?.map { $0["type"]?.stringValue ?? "" } == ["text", "tool_use"])
        let user = try #require(await h.events.data("user").first)
        #expect(user["message"]?["content"]?.arrayValue?.first?["tool_use_id"] == "toolu_w")

        let result = try await result(h)
        #expect(result["subtype"] == "success")
        #expect(result["is_error"] == false)
        #expect(result["num_turns"] == 4)
        #expect(result["permission_denials"] == [])
        #expect(result["usage"]?["cache_read_input_tokens"] == 2000)
        // 3 USD/M input, 15 output, 0.3 cache read, 3.75 cache write.
        let expected = (Double(1000 + 1100 + turn.usage.inputTokens - 3300 + 1200) * 3 + Double(turn.usage.outputTokens) * 15
            + 2000 * 0.3 + 100 * 3.75) / 1_000_000
        #expect(abs((result["total_cost_usd"]?.numberValue ?? 0) - turn.costUsd) < 1e-12)
        #expect(abs(turn.costUsd - expected) < 1e-9)

        // Anthropic format: x-api-key, tool results as tool_result blocks in a user message.
        let requests = await h.requests()
        #expect(requests.allSatisfy { $0.format == .anthropic && $0.headers["x-api-key"] == "sk-test" })
        let messages = try #require(requests.last?.body?["messages"]?.arrayValue)
        let toolResult = messages.last?["content"]?.arrayValue?.first
        #expect(toolResult?["type"] == "tool_result")
        #expect(toolResult?["tool_use_id"] == "toolu_b")
    }

    @Test func permissionRulesAndModesDecideAndDenialsAreReported() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [
                    {"id": "t1", "name": "Bash", "arguments": {"command": "echo ran-ls >> log"}},
                    {"id": "t2", "name": "Bash", "arguments": {"command": "rm -rf important"}},
                    {"id": "t3", "name": "Bash", "arguments": {"command": "git status && rm -rf important"}},
                    {"id": "t4", "name": "Write", "arguments": {"file_path": "docs/x.md", "content": "x"}},
                    {"id": "t5", "name": "Write", "arguments": {"file_path": "src/ok.txt", "content": "ok"}}]},
                  {"text": "Finished."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        try FileManager.default.createDirectory(atPath: h.workspace + "/important", withIntermediateDirectories: true)
        let agent = RuntimeHarness.agent(
            runtime: "claude_code",
            settings: [
                "permissions": [
                    "defaultMode": "dontAsk", "allow": ["Bash(echo *)", "Bash(git *)", "Edit(src/**)"], "deny": ["Bash(rm *)"],
                ]
            ])
        let turn = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "tidy up"))
        #expect(turn.output == "Finished.")
        #expect(FileManager.default.fileExists(atPath: h.workspace + "/important"))
        #expect(!FileManager.default.fileExists(atPath: h.workspace + "/docs/x.md"))
        #expect(FileManager.default.fileExists(atPath: h.workspace + "/src/ok.txt"))
        #expect(try String(contentsOfFile: h.workspace + "/log", encoding: .utf8) == "ran-ls\n")
        let byId = Dictionary(uniqueKeysWithValues: turn.toolCalls.map { ($0.id, $0) })
        #expect(byId["t1"]?.isError == false)
        #expect(byId["t2"]?.result?.stringValue?.contains("denied") == true)
        #expect(byId["t3"]?.isError == true)
        #expect(byId["t4"]?.isError == true)
        #expect(byId["t5"]?.isError == false)
        let denials = try await result(h)["permission_denials"]?.arrayValue ?? []
        #expect(Set(denials.compactMap { $0["tool_use_id"]?.stringValue }) == ["t2", "t3", "t4"])
    }

    @Test func denyWinsEvenInBypassModeAndABareDenyRemovesTheTool() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "t1", "name": "Bash", "arguments": {"command": "rm -rf important"}},
                                  {"id": "t2", "name": "Write", "arguments": {"file_path": "a.txt", "content": "a"}}]},
                  {"text": "ok"}
                ]}
                """#)
        defer { Task { await h.stop() } }
        try FileManager.default.createDirectory(atPath: h.workspace + "/important", withIntermediateDirectories: true)
        let bypass = RuntimeHarness.agent(
            runtime: "claude_code",
            settings: ["permissions": ["defaultMode": "bypassPermissions", "deny": ["Bash(rm *)", "Grep"]]])
        let turn = try await h.run(runtime(h), RuntimeHarness.assignment(agent: bypass, input: "go"))
        #expect(FileManager.default.fileExists(atPath: h.workspace + "/important"))
        #expect(FileManager.default.fileExists(atPath: h.workspace + "/a.txt"))
        #expect(turn.toolCalls.first?.isError == true)
        // `Grep` was denied outright: the model is never offered it.
        let offered = await h.requests().first?.body?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(offered.contains("Bash"))
        #expect(!offered.contains("Grep"))
    }

    @Test func anAskOnAHeadlessWorkerWaitsForApprovalAndADenialReachesTheModel() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "t1", "name": "Bash", "arguments": {"command": "echo hi > f"}}]},
                  {"match": {"contains": "denied this call"}, "text": "I could not run it."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "claude_code")  // default mode: Bash asks
        let first = RuntimeHarness.assignment(agent: agent, input: "go")
        await #expect {
            try await h.run(runtime(h), first)
        } throws: { error in
            (error as? ApprovalRequired)?.requests.first?.reason.contains("Bash needs approval") == true
        }
        var second = first
        second.attempt = 2
        second.ledger = await h.events.data("ledger")
        second.approvals = [ApprovalResolution(toolCallId: "t1", toolName: "Bash", status: .denied, reason: "no shell today")]
        let turn = try await h.run(runtime(h), second)
        #expect(turn.output == "I could not run it.")
        #expect(turn.toolCalls.first?.result?.stringValue?.contains("no shell today") == true)
        #expect(!FileManager.default.fileExists(atPath: h.workspace + "/f"))
        #expect(try await result(h)["permission_denials"]?.arrayValue?.count == 1)
    }

    @Test func preToolUseHookExit2BlocksAndItsStderrReachesTheModel() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "t1", "name": "Bash", "arguments": {"command": "echo deploy > deployed"}}]},
                  {"match": {"contains": "no deploys on Fridays"}, "text": "Blocked by policy."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        let hook = #"input=$(cat); echo "$input" > hook-input.json; echo 'no deploys on Fridays' >&2; exit 2"#
        let agent = RuntimeHarness.agent(
            runtime: "claude_code",
            settings: [
                "permissions": ["defaultMode": "bypassPermissions"],
                "hooks": ["PreToolUse": [["matcher": "Bash", "hooks": [["type": "command", "command": .string(hook)]]]]],
            ])
        let turn = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "deploy"))
        #expect(turn.output == "Blocked by policy.")
        #expect(!FileManager.default.fileExists(atPath: h.workspace + "/deployed"))
        let input = try #require(JSONValue(jsonText: try String(contentsOfFile: h.workspace + "/hook-input.json", encoding: .utf8)))
        #expect(input["hook_event_name"] == "PreToolUse")
        #expect(input["tool_name"] == "Bash")
        #expect(input["tool_input"]?["command"] == "echo deploy > deployed")
    }

    @Test func workspaceEscapesAreRefused() async throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString.prefix(6))").path
        try "secret".write(toFile: outside, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [
                    {"id": "r1", "name": "Read", "arguments": {"file_path": "../../../../etc/passwd"}},
                    {"id": "r2", "name": "Read", "arguments": {"file_path": "link"}},
                    {"id": "w1", "name": "Write", "arguments": {"file_path": "link", "content": "overwritten"}},
                    {"id": "w2", "name": "Write", "arguments": {"file_path": "/tmp/escaped.txt", "content": "x"}}]},
                  {"text": "Could not."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        try FileManager.default.createSymbolicLink(atPath: h.workspace + "/link", withDestinationPath: outside)
        let agent = RuntimeHarness.agent(runtime: "claude_code", settings: ["permissions": ["defaultMode": "bypassPermissions"]])
        let turn = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "read secrets"))
        #expect(turn.toolCalls.count == 4)
        #expect(turn.toolCalls.allSatisfy { $0.isError == true })
        #expect(turn.toolCalls.allSatisfy { $0.result?.stringValue?.contains("outside the workspace") == true })
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "secret")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/escaped.txt"))
    }

    @Test func maxTurnsAndMaxBudgetEndTheTurnAsErrors() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [], "default": {"tool_calls": [{"name": "Glob", "arguments": {"pattern": "*"}}],
                                            "usage": {"input_tokens": 100000, "output_tokens": 1000}}}
                """#)
        defer { Task { await h.stop() } }
        let limited = RuntimeHarness.agent(runtime: "claude_code", limits: ["max_turns": 3])
        let turn = try await h.run(runtime(h), RuntimeHarness.assignment(agent: limited, input: "loop"))
        #expect(turn.finishReason == .error)
        #expect(turn.error?.contains("max_turns (3)") == true)
        #expect(try await result(h)["subtype"] == "error_max_turns")
        #expect(await h.requests().count == 3)

        // Each call costs 0.3 + 0.015 USD: a 0.5 USD budget stops after the second.
        await h.server.reset()
        let budgeted = RuntimeHarness.agent(runtime: "claude_code", limits: ["max_budget_usd": 0.5])
        let spent = try await h.run(runtime(h), RuntimeHarness.assignment(agent: budgeted, input: "loop"))
        #expect(spent.finishReason == .error)
        #expect(spent.error?.contains("max_budget_usd") == true)
        #expect(try await result(h)["subtype"] == "error_max_budget_usd")
        #expect(await h.requests().count == 2)
    }

    @Test func aSessionResumesFromTheControlPlaneOnAnyWorker() async throws {
        let h = try await RuntimeHarness.start(script: #"{"replies": [{"text": "Yes, main.py is there."}]}"#)
        defer { Task { await h.stop() } }
        let earlier: [JSONValue] = [
            ChatMessage(role: .assistant, toolCalls: [ChatToolCall(id: "x1", name: "Glob", arguments: ["pattern": "*.py"])]).jsonValue,
            ChatMessage.toolResult(id: "x1", name: "Glob", text: "main.py").jsonValue,
            ChatMessage(role: .assistant, text: "Found main.py.").jsonValue,
        ]
        let agent = RuntimeHarness.agent(runtime: "claude_code")
        let turn = try await h.run(
            runtime(h),
            RuntimeHarness.assignment(
                agent: agent, input: "Is it still there?", turn: 2,
                history: [TurnHistory(turn: 1, input: "Find python files", messages: earlier)]))
        #expect(turn.output == "Yes, main.py is there.")
        let messages = try #require(await h.requests().first?.body?["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["user", "assistant", "user", "assistant", "user"])
        #expect(messages[1]["content"]?.arrayValue?.first?["type"] == "tool_use")
        #expect(messages[2]["content"]?.arrayValue?.first?["type"] == "tool_result")
    }
}

extension ClaudeCodeRuntimeTests {
    @Test func mcpServersShowInInitAndADenyRuleRemovesTheirTools() async throws {
        let h = try await RuntimeHarness.start(script: #"{"replies": [{"text": "No tools needed."}]}"#)
        defer { Task { await h.stop() } }
        var agent = RuntimeHarness.agent(
            runtime: "claude_code", settings: ["permissions": ["deny": ["mcp__time"]]])
        agent.mcpServers = ["time": ["command": "mcp-server-time"]]
        _ = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "hi"))
        let initEvent = try #require(await h.events.data("system").first)
        #expect(initEvent["mcp_servers"] == [["name": "time", "status": "connected"]])
        let offered = await h.requests().first?.body?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(offered.contains("Read"))
        #expect(!offered.contains { $0.hasPrefix("mcp__time") })
    }
}

extension ClaudeCodeRuntimeTests {
    /// Bash runs under the agent's sandbox profile: seccomp and no_new_privs are on, writes
    /// outside the workspace and /tmp fail, and namespace tricks are refused.
    @Test func bashRunsInsideTheSandbox() async throws {
        let escape = "/var/tmp/bosun-escape-\(UUID().uuidString.prefix(8))"
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "b", "name": "Bash", "arguments": {"command":
                    "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; touch \#(escape) 2>&1; unshare -n true 2>&1; touch inside && echo inside-ok"}}]},
                  {"text": "Checked."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "claude_code", settings: ["permissions": ["defaultMode": "bypassPermissions"]])
        let turn = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "check"))
        let output = try #require(turn.toolCalls.first?.result?.stringValue)
        #expect(output.contains("Seccomp:\t2"), "\(output)")
        #expect(output.contains("NoNewPrivs:\t1"), "\(output)")
        #expect(output.contains("unshare failed") || output.contains("Operation not permitted"), "\(output)")
        #expect(output.contains("inside-ok"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: escape))
        #expect(h.sandbox.name == "default")
    }
}
