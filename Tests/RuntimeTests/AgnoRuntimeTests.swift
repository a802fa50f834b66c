import BosunProtocol
import Foundation
import LLM
import MCP
import Runtimes
import ScriptedLLM
import Testing

/// The `agno` runtime against the scripted LLM server (OpenAI chat-completions format, streamed).
@Suite struct AgnoRuntimeTests {
    let runtime = { (h: RuntimeHarness) in AgnoRuntime(llm: h.access) }

    @Test func aMultiStepToolLoopRunsToolsAndFeedsResultsBack() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "call_w", "name": "Write", "arguments": {"file_path": "notes.txt", "content": "forty-two\n"}}],
                   "usage": {"input_tokens": 100, "output_tokens": 20}},
                  {"match": {"contains": "notes.txt"}, "tool_calls": [{"id": "call_r", "name": "Read", "arguments": {"file_path": "notes.txt"}}],
                   "usage": {"input_tokens": 150, "output_tokens": 10}},
                  {"match": {"contains": "forty-two"}, "text": "The note says forty-two.", "usage": {"input_tokens": 200, "output_tokens": 8}}
                ]}
                """#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno", tools: ["Write", "Read"])
        let result = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "What does the note say?"))

        #expect(result.finishReason == .stop)
        #expect(result.output == "The note says forty-two.")
        #expect(result.toolCalls.map(\.name) == ["Write", "Read"])
        #expect(result.toolCalls.allSatisfy { $0.result != nil && $0.isError == false })
        #expect(result.toolCalls.last?.result?.stringValue?.contains("forty-two") == true)
        #expect(try String(contentsOfFile: h.workspace + "/notes.txt", encoding: .utf8) == "forty-two\n")
        // assistant, tool, assistant, tool, assistant
        #expect(result.messages.count == 5)
        #expect(result.usage == Usage(inputTokens: 450, outputTokens: 38))
        #expect(abs(result.costUsd - (450 * 0.15 + 38 * 0.6) / 1_000_000) < 1e-12)
        #expect(result.timings?.timeToFirstTokenMs != nil)

        let requests = await h.requests()
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.format == .openai && $0.stream && $0.headers["authorization"] == "Bearer sk-test" })
        // The tool result went back to the model as a `tool` message with its call id.
        let last = try #require(requests.last?.body?["messages"]?.arrayValue)
        #expect(last.first?["role"] == "system")
        #expect(last.contains { $0["role"] == "tool" && $0["tool_call_id"] == "call_r" })

        let types = await h.events.types()
        #expect(types.first == "RunStarted")
        #expect(types.last == "RunCompleted")
        #expect(types.filter { $0 == "ToolCallStarted" }.count == 2)
        #expect(types.filter { $0 == "ToolCallCompleted" }.count == 2)
        #expect(types.contains("RunContent"))
        let content = await h.events.data("RunContent").compactMap { $0["content"]?.stringValue }.joined()
        #expect(content == "The note says forty-two.")
        // Each model reply and each tool result went to the ledger; the turn waited for all of
        // them to be stored except the answer, which rides with the completion.
        #expect(await h.events.data(LedgerEvent.type).count == 5)
        #expect(await h.events.recorded == 4)
        #expect(await h.events.data(LedgerEvent.type).last?["message"]?["text"] == "The note says forty-two.")
        let metrics = try #require(await h.events.data("RunCompleted").first?["metrics"])
        #expect(metrics["input_tokens"] == 450)
        #expect(metrics["model_calls"] == 3)
    }

    @Test func parallelToolCallsRunConcurrently() async throws {
        // Each command waits for the other's file: they only finish if both run at once.
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [
                    {"id": "a", "name": "Bash", "arguments": {"command": "touch a; for i in $(seq 100); do [ -f b ] && exit 0; sleep 0.05; done; exit 1", "timeout": 10000}},
                    {"id": "b", "name": "Bash", "arguments": {"command": "touch b; for i in $(seq 100); do [ -f a ] && exit 0; sleep 0.05; done; exit 1", "timeout": 10000}}]},
                  {"text": "Both ran."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno", tools: ["Bash"])
        let result = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "Run both"))
        #expect(result.output == "Both ran.")
        #expect(result.toolCalls.map(\.id) == ["a", "b"])
        #expect(result.toolCalls.allSatisfy { $0.isError == false })
    }

    @Test func callsPastTheToolCallLimitGetAnErrorAndTheLoopGoesOn() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [
                    {"id": "one", "name": "Bash", "arguments": {"command": "echo one >> calls"}},
                    {"id": "two", "name": "Bash", "arguments": {"command": "echo two >> calls"}}]},
                  {"text": "Done with one call."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno", tools: ["Bash"], limits: ["tool_call_limit": 1])
        let result = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "go"))
        #expect(result.output == "Done with one call.")
        #expect(try String(contentsOfFile: h.workspace + "/calls", encoding: .utf8) == "one\n")
        let refused = try #require(result.toolCalls.first { $0.id == "two" })
        #expect(refused.isError == true)
        #expect(refused.result?.stringValue?.contains("Tool call limit reached (1") == true)
    }

    @Test func theIterationLimitEndsTheTurnWithToolsPending() async throws {
        let h = try await RuntimeHarness.start(
            script: #"{"replies": [], "default": {"tool_calls": [{"name": "Bash", "arguments": {"command": "true"}}]}}"#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno", tools: ["Bash"], limits: ["max_iterations": 2])
        let result = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "loop"))
        #expect(result.finishReason == .toolCalls)
        #expect(await h.requests().count == 2)
    }

    @Test func structuredOutputIsValidatedAndCorrectedOnce() async throws {
        let schema: JSONValue = [
            "type": "object", "properties": ["city": ["type": "string"], "days": ["type": "integer", "minimum": 1]],
            "required": ["city", "days"], "additionalProperties": false,
        ]
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"text": "{\"city\": \"Lisbon\"}"},
                  {"match": {"contains": "does not match"}, "text": "```json\n{\"city\": \"Lisbon\", \"days\": 3}\n```"}
                ]}
                """#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno", settings: ["output_schema": schema])
        let result = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "Plan a trip"))
        #expect(result.output?.contains("\"days\": 3") == true)
        let requests = await h.requests()
        #expect(requests.first?.body?["response_format"]?["type"] == "json_schema")
        #expect(requests.last?.body?["messages"]?.arrayValue?.last?["content"]?.stringValue?.contains("missing required property 'days'") == true)

        // Wrong twice: the turn fails for good, with the schema problem in the error.
        await h.server.replace(
            script: try JSONDecoder().decode(ScriptedLLMScript.self, from: Data(#"{"default": {"text": "not json at all"}}"#.utf8)))
        do {
            _ = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "Plan a trip"))
            Issue.record("an answer that breaks the schema was accepted")
        } catch let failure as TurnFailure {
            #expect(!failure.retryable)
            #expect(failure.message.contains("does not match the output schema"))
        }
    }

    @Test func gatewayFaultsAreRetriedThenFallBackThenFailClearly() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"fault": {"status": 429, "retry_after": 0}},
                  {"fault": {"status": 500}},
                  {"text": "Recovered."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno")
        let recovered = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "hi"))
        #expect(recovered.output == "Recovered.")
        #expect(await h.requests().map(\.status) == [429, 500, 200])

        // The primary model keeps failing: the fallback model answers.
        await h.server.reset()
        await h.server.replace(
            script: try JSONDecoder().decode(
                ScriptedLLMScript.self,
                from: Data(#"""
                    {"replies": [{"match": {"model": "openai/gpt-4o-mini"}, "fault": {"status": 503}, "times": 10},
                                 {"match": {"model": "openai/backup"}, "text": "From the backup."}]}
                    """#.utf8)))
        let fallback = try await h.run(
            runtime(h), RuntimeHarness.assignment(agent: agent, input: "hi"),
            llm: LLMSettings(baseUrl: h.server.url, defaultModel: nil, fallbacks: ["openai/backup"]))
        #expect(fallback.output == "From the backup.")
        #expect(fallback.model == "openai/backup")

        // Garbage and truncated streams are clear, retryable failures (the gateway retried them first).
        for fault in [#"{"invalid_json": true}"#, #"{"truncate": true}"#] {
            await h.server.replace(
                script: try JSONDecoder().decode(
                    ScriptedLLMScript.self, from: Data(#"{"replies": [{"text": "a long answer in pieces", "fault": \#(fault), "times": 10}]}"#.utf8)))
            do {
                _ = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "hi"))
                Issue.record("\(fault) was accepted")
            } catch let failure as TurnFailure {
                #expect(failure.retryable, "\(fault)")
                #expect(failure.message.contains("LLM"), "\(failure.message)")
            }
        }
        #expect(await h.events.types().contains("RunError"))

        // A 400 is the request's fault: not retried, not retryable.
        await h.server.reset()
        await h.server.replace(
            script: try JSONDecoder().decode(ScriptedLLMScript.self, from: Data(#"{"replies": [{"fault": {"status": 400}}]}"#.utf8)))
        do {
            _ = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "hi"))
            Issue.record("a 400 was accepted")
        } catch let failure as TurnFailure {
            #expect(!failure.retryable)
        }
        #expect(await h.requests().count == 1)
    }

    @Test func toolArgumentsThatAreNotJSONBecomeAnErrorResult() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"tool_calls": [{"id": "bad", "name": "Bash", "raw_arguments": "{\"command\": \"echo hi"}]},
                  {"match": {"contains": "not valid JSON"}, "text": "Sorry, retrying is not needed."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno", tools: ["Bash"])
        let result = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "hi"))
        #expect(result.output == "Sorry, retrying is not needed.")
        #expect(result.toolCalls.first?.isError == true)
    }

    @Test func cancellationMidStreamStopsAtOnce() async throws {
        let h = try await RuntimeHarness.start(
            script: #"{"replies": [{"text": "one two three four five six seven eight nine ten", "chunk_delay_ms": 2000}]}"#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno")
        let runtime = runtime(h)
        let turn = Task { try await h.run(runtime, RuntimeHarness.assignment(agent: agent, input: "count")) }
        // Wait for the first streamed piece, then cancel.
        let deadline = ContinuousClock.now + .seconds(10)
        while await !h.events.types().contains("RunContent"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let cancelledAt = ContinuousClock.now
        turn.cancel()
        let outcome = await turn.result
        #expect(ContinuousClock.now - cancelledAt < .seconds(1))
        #expect(throws: CancellationError.self) { try outcome.get() }
        #expect(await h.events.types().last == "RunCancelled")
    }

    @Test func historyFromEarlierTurnsReachesTheModel() async throws {
        let h = try await RuntimeHarness.start(script: #"{"replies": [{"text": "Still Lisbon."}]}"#)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno")
        let history = [
            TurnHistory(turn: 1, input: "Where to?", messages: [ChatMessage(role: .assistant, text: "Lisbon.").jsonValue])
        ]
        let result = try await h.run(
            runtime(h), RuntimeHarness.assignment(agent: agent, input: "Sure?", turn: 2, history: history))
        #expect(result.output == "Still Lisbon.")
        let messages = try #require(await h.requests().first?.body?["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue ?? "" } == ["system", "user", "assistant", "user"])
        #expect(messages[2]["content"] == "Lisbon.")
        // Only this turn's messages go into the result.
        #expect(result.messages.count == 1)
    }

    @Test func aRetriedAttemptReplaysTheLedgerInsteadOfRunningToolsAgain() async throws {
        // Attempt 1 recorded: the model asked for two calls; the first finished, the second never did.
        let h = try await RuntimeHarness.start(
            script: #"{"replies": [{"match": {"contains": "second"}, "text": "Both done."}]}"#)
        defer { Task { await h.stop() } }
        let ledger: [JSONValue] = [
            [
                "message": ChatMessage(
                    role: .assistant,
                    toolCalls: [
                        ChatToolCall(id: "c1", name: "Bash", arguments: ["command": "echo first >> effects"]),
                        ChatToolCall(id: "c2", name: "Bash", arguments: ["command": "echo second >> effects; echo second"]),
                    ]
                ).jsonValue,
                "usage": ["input_tokens": 1000, "output_tokens": 100], "cost_usd": 0.5,
            ],
            ["message": ChatMessage.toolResult(id: "c1", name: "Bash", text: "exit code 0").jsonValue],
        ]
        let agent = RuntimeHarness.agent(runtime: "agno", tools: ["Bash"])
        let result = try await h.run(
            runtime(h), RuntimeHarness.assignment(agent: agent, input: "do both", attempt: 2, ledger: ledger))
        #expect(result.output == "Both done.")
        // Only the unfinished call ran; the model was asked once, after it.
        #expect(try String(contentsOfFile: h.workspace + "/effects", encoding: .utf8) == "second\n")
        #expect(await h.requests().count == 1)
        #expect(result.toolCalls.map(\.id) == ["c1", "c2"])
        // The replayed messages are not recorded again: only the new result (awaited) and the
        // answer (queued).
        #expect(await h.events.data(LedgerEvent.type).count == 2)
        #expect(await h.events.recorded == 1)
        // What the replayed reply cost is part of the turn (and of its limits).
        #expect(result.usage.inputTokens > 1000)
        #expect(result.costUsd > 0.5)
    }

    @Test func aReplayedFinalAnswerIsNotAskedForAgain() async throws {
        let h = try await RuntimeHarness.start(script: nil)
        defer { Task { await h.stop() } }
        let agent = RuntimeHarness.agent(runtime: "agno")
        let ledger: [JSONValue] = [["message": ChatMessage(role: .assistant, text: "Already answered.").jsonValue]]
        let result = try await h.run(
            runtime(h), RuntimeHarness.assignment(agent: agent, input: "q", attempt: 2, ledger: ledger))
        #expect(result.output == "Already answered.")
        #expect(await h.requests().isEmpty)
    }

    @Test func badAgentConfigurationFailsForGood() async throws {
        let h = try await RuntimeHarness.start(script: nil)
        defer { Task { await h.stop() } }
        for (agent, message) in [
            (RuntimeHarness.agent(runtime: "agno", tools: ["Teleport"]), "does not have"),
            (RuntimeHarness.agent(runtime: "agno", limits: ["tool_call_limit": 0]), "tool_call_limit"),
        ] {
            do {
                _ = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "hi"))
                Issue.record("accepted \(agent)")
            } catch let failure as TurnFailure {
                #expect(!failure.retryable)
                #expect(failure.message.contains(message), "\(failure.message)")
            }
        }
        do {
            _ = try await h.run(
                runtime(h), RuntimeHarness.assignment(agent: RuntimeHarness.agent(runtime: "agno"), input: "hi"),
                llm: LLMSettings(baseUrl: nil, defaultModel: nil, fallbacks: []))
            Issue.record("ran without a gateway")
        } catch let failure as TurnFailure {
            #expect(failure.message.contains("BOSUN_LLM_BASE_URL"))
        }
    }
}

extension AgnoRuntimeTests {
    @Test func mcpToolsFromARealServerAreOfferedAndCalled() async throws {
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"match": {"tool": "mcp__time__get_current_time"},
                   "tool_calls": [{"id": "t", "name": "mcp__time__get_current_time", "arguments": {"timezone": "Europe/Lisbon"}}]},
                  {"match": {"contains": "Europe/Lisbon"}, "text": "Got the time in Lisbon."}
                ]}
                """#)
        defer { Task { await h.stop() } }
        var agent = RuntimeHarness.agent(runtime: "agno")
        agent.mcpServers = [
            "time": ["command": "mcp-server-time"],
            "broken": ["command": "/nonexistent/mcp-server"],
        ]
        let result = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "What time is it in Lisbon?"))
        #expect(result.output == "Got the time in Lisbon.")
        let call = try #require(result.toolCalls.first)
        #expect(call.name == "mcp__time__get_current_time")
        #expect(call.isError == false)
        #expect(call.result?.stringValue?.contains("Europe/Lisbon") == true)
        // The broken server does not fail the turn; the events say what is missing.
        let warnings = await h.events.data("RunWarning").compactMap { $0["content"]?.stringValue }
        #expect(warnings.contains { $0.contains("'broken'") })
    }

    @Test func mcpServersGetTheirSecretsFromTheWorkersSecretDirectory() async throws {
        let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: secrets) }
        try "ghp-s3cret\n".write(toFile: secrets + "/GITHUB_TOKEN", atomically: true, encoding: .utf8)
        let h = try await RuntimeHarness.start(
            script: #"""
                {"replies": [
                  {"match": {"tool": "mcp__gh__env"},
                   "tool_calls": [{"id": "t", "name": "mcp__gh__env", "arguments": {"name": "TOKEN"}}]},
                  {"match": {"contains": "ghp-"}, "text": "The server has its token."}
                ]}
                """#, secrets: SecretDirectory(path: secrets))
        defer { Task { await h.stop() } }
        let server = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("MCPTests/Servers/raw_server.py").path
        var agent = RuntimeHarness.agent(runtime: "agno")
        agent.mcpServers = [
            "gh": ["command": "python3", "args": [.string(server), "legacy", "/dev/null"],
                   "env": ["TOKEN": "{{secret.GITHUB_TOKEN}}"]],
            "needs_missing": ["command": "python3", "args": [.string(server), "legacy", "/dev/null"],
                              "env": ["TOKEN": "{{secret.NOT_THERE}}"]],
        ]
        let result = try await h.run(runtime(h), RuntimeHarness.assignment(agent: agent, input: "Check the token."))
        #expect(result.output == "The server has its token.")
        #expect(result.toolCalls.first?.result?.stringValue == "ghp-s3cret")
        // The server that names a secret the worker lacks is left out, and the events say which.
        let warnings = await h.events.data("RunWarning").compactMap { $0["content"]?.stringValue }
        #expect(warnings.contains { $0.contains("needs_missing") && $0.contains("NOT_THERE") })
        #expect(ProcessInfo.processInfo.environment["TOKEN"] == nil)
    }
}
