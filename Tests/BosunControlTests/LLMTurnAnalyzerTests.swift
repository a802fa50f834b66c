import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import LLM
import ScriptedLLM
import Testing

/// The state analyzer settles ambiguous turns through the scripted LLM server; when it is
/// slow, failing or wrong the rules' fallback stands, and the transition says who decided.
@Suite(.serialized) struct LLMTurnAnalyzerTests {
    func script(_ json: String) throws -> ScriptedLLMScript {
        try JSONDecoder().decode(ScriptedLLMScript.self, from: Data(json.utf8))
    }

    /// Submits, claims and completes one turn ending with `output`; returns the latest transition.
    func decide(_ server: TestServer, output: String) async throws -> (StateTransition, Execution) {
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id, input: "Summarise the quarterly report")
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let reply = try await worker.post(
            "/api/v1/tasks/\(task.id.uuidString.lowercased())/complete",
            CompleteTaskRequest(leaseId: task.lease.id, result: TurnResult(finishReason: .stop, output: output)))
        #expect(reply.status == 200)
        let path = "/api/v1/executions/\(execution.id.uuidString.lowercased())"
        let transitions = try await tenant.admin.get("\(path)/transitions").decode(StateTransitionList.self).items
        return (try #require(transitions.last), try await tenant.admin.get(path).decode(Execution.self))
    }

    @Test func fastSlowFailingAndInvalidAnalyzers() async throws {
        let llm = try await ScriptedLLMServer.start(script: nil, logger: TestEnvironment.logger)
        defer { Task { await llm.stop() } }
        let server = try await TestServer.start { configuration in
            configuration.llmBaseURL = llm.url
            configuration.analyzerModel = "openai/analyzer"
            configuration.analyzerBudget = .milliseconds(800)
        }
        defer { Task { await server.stop() } }

        // Fast: a closing courtesy question, which the analyzer calls completed.
        await llm.replace(
            script: try script(
                #"{"replies": [{"text": "{\"state\": \"completed\", \"confidence\": 0.92, \"reasoning\": \"the summary is complete; the question is a courtesy\"}"}]}"#
            ))
        let (fast, fastExecution) = try await decide(server, output: "Here is the summary. Anything else?")
        #expect(fast.to == "completed")
        #expect(fast.decider == "llm:openai/analyzer")
        #expect(fast.confidence == 0.92)
        #expect(fast.turn == 1)
        #expect((fast.latencyMs ?? 0) > 0)
        #expect(fastExecution.status == .completed)
        let asked = try #require(await llm.requests().last)
        #expect(asked.body?["response_format"]?["json_schema"]?["name"] == "state_decision")
        #expect(asked.body?["messages"]?.arrayValue?.last?["content"]?.stringValue?.contains("Anything else?") == true)

        // Slow: past its budget the rules' guess stands (a question -> waiting_for_input).
        await llm.replace(
            script: try script(
                #"{"replies": [{"delay_ms": 20000, "text": "{\"state\": \"completed\", \"confidence\": 1, \"reasoning\": \"late\"}"}]}"#))
        let (slow, slowExecution) = try await decide(server, output: "Which quarter do you mean?")
        // The budget ends the analysis long before the 20 s reply. The transition records how
        // long the analyzer ran; timing the whole helper also timed the tenant's set-up, which
        // took over 9 s once on a loaded CI machine.
        let analysed = try #require(slow.latencyMs)
        #expect(analysed >= 700 && analysed < 10_000)
        #expect(slow.to == "waiting_for_input")
        #expect(slow.decider == "rules")
        #expect(slow.reason.contains("budget"))
        #expect(slowExecution.status == .waitingForInput)

        // Failing: a 500 from the gateway.
        await llm.replace(script: try script(#"{"replies": [{"fault": {"status": 500}, "times": 5}]}"#))
        let (failing, _) = try await decide(server, output: "Which quarter do you mean?")
        #expect(failing.to == "waiting_for_input")
        #expect(failing.decider == "rules")
        #expect(failing.reason.contains("failed"))

        // Wrong: an answer outside the schema is not trusted.
        await llm.replace(
            script: try script(#"{"replies": [{"text": "{\"state\": \"maybe\", \"confidence\": 2}"}]}"#))
        let (invalid, _) = try await decide(server, output: "Which quarter do you mean?")
        #expect(invalid.decider == "rules")
        #expect(invalid.reason.contains("schema"))

        // A clear turn never reaches the analyzer.
        await llm.reset()
        let (clear, _) = try await decide(server, output: "The report shows 12% growth.")
        #expect(clear.decider == "rules")
        #expect(clear.to == "completed")
        #expect(await llm.requests().isEmpty)
    }
}
