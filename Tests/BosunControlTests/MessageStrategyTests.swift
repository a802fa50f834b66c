import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

/// A message that arrives while a turn runs follows the execution's strategy.
@Suite struct MessageStrategyTests {
    struct Running {
        let tenant: Tenant
        let execution: Execution
        let task: TaskAssignment
        let worker: APIClient
        let workerId: UUID
        var path: String { "/api/v1/executions/\(execution.id.uuidString.lowercased())" }
        var taskPath: String { "/api/v1/tasks/\(task.id.uuidString.lowercased())" }
    }

    func running(_ strategy: MessageStrategy?) async throws -> Running {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let reply = try await tenant.admin.post(
            "/api/v1/executions", CreateExecutionRequest(agentId: agent.id, input: "Plan a trip", messageStrategy: strategy))
        #expect(reply.status == 201, "\(reply.text)")
        let execution = try reply.decode(Execution.self)
        #expect(execution.messageStrategy == (strategy ?? .enqueue))
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        return Running(tenant: tenant, execution: execution, task: task, worker: worker, workerId: registration.workerId)
    }

    @Test func enqueuedMessagesBecomeTheNextTurnsInput() async throws {
        let run = try await running(nil)
        for text in ["Make it Lisbon.", "And cheap."] {
            let reply = try await run.tenant.admin.post("\(run.path)/messages", ExecutionMessageRequest(content: .string(text)))
            #expect(reply.status == 200, "\(reply.text)")
            #expect(try reply.decode(Execution.self).status == .running)
        }
        #expect(try await run.tenant.admin.get(run.path).decode(Execution.self).pendingMessages == 2)
        // The turn ends with an answer; the queued messages make the execution go on with them.
        let done = TurnResult(finishReason: .stop, output: "Here is a plan for Paris.")
        let decided = try await run.worker.post("\(run.taskPath)/complete", CompleteTaskRequest(leaseId: run.task.lease.id, result: done))
            .decode(CompleteTaskResponse.self)
        #expect(decided.decision == "continue")
        let next = try #require(try await run.worker.poll(worker: run.workerId, wait: 2).first)
        #expect(next.turn == 2)
        #expect(next.input == "Make it Lisbon.\n\nAnd cheap.")
        #expect(try await run.tenant.admin.get(run.path).decode(Execution.self).pendingMessages == 0)
    }

    @Test func rejectRefusesAMessageWhileATurnRuns() async throws {
        let run = try await running(.reject)
        let reply = try await run.tenant.admin.post("\(run.path)/messages", ExecutionMessageRequest(content: "hello?"))
        #expect(reply.status == 409)
        #expect(reply.text.contains("'reject'"))
    }

    @Test func interruptStopsTheTurnKeepsItsToolResultsAndStartsItAgainWithTheMessage() async throws {
        let run = try await running(.interrupt)
        // The running attempt recorded a model reply with two calls and one result.
        let ledger: [JSONValue] = [
            ["message": ["role": "assistant", "tool_calls": [["id": "c1", "name": "Bash", "arguments": [:]], ["id": "c2", "name": "Read", "arguments": [:]]]]],
            ["message": ["role": "tool", "tool_call_id": "c1", "name": "Bash", "content": "18 degrees"]],
        ]
        let events = AppendEventsRequest(
            leaseId: run.task.lease.id, events: ledger.enumerated().map { TaskEvent(seq: $0.offset + 1, type: "ledger", data: $0.element) })
        #expect(try await run.worker.post("\(run.taskPath)/events", events).status == 200)

        let reply = try await run.tenant.admin.post("\(run.path)/messages", ExecutionMessageRequest(content: "Stop, go to Porto instead."))
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try reply.decode(Execution.self).status == .queued)
        // The interrupted attempt's lease is gone: its worker learns at the next renewal.
        let renew = try await run.worker.post("\(run.taskPath)/renew", RenewLeaseRequest(leaseId: run.task.lease.id))
        #expect(renew.status == 409)

        let again = try #require(try await run.worker.poll(worker: run.workerId, wait: 2).first)
        #expect(again.id == run.task.id)
        #expect(again.turn == 1)
        #expect(again.attempt == 2)
        #expect(again.maxAttempts == run.task.maxAttempts + 1)
        let messages = again.ledger.compactMap { $0["message"] }
        #expect(messages.count == 4)
        #expect(messages[1]["content"] == "18 degrees")  // the finished call's result is kept
        #expect(messages[2]["tool_call_id"] == "c2")  // the unfinished call is closed as interrupted
        #expect(messages[2]["text"]?.stringValue?.contains("Interrupted") == true)
        #expect(messages[2]["is_error"] == true)
        #expect(messages[3]["role"] == "user")
        #expect(messages[3]["text"] == "Stop, go to Porto instead.")
        let transitions = try await run.tenant.admin.get("\(run.path)/transitions").decode(StateTransitionList.self)
        #expect(transitions.items.contains { $0.to == "queued" && $0.reason.contains("interrupted") && $0.decider == "user" })
    }

    @Test func aFinishedExecutionTakesNoMessagesAndBadStrategiesAreRefused() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let bad = try await tenant.admin.send(
            .POST, "/api/v1/executions",
            rawBody: Data(#"{"agent_id": "\#(agent.id.uuidString)", "input": "hi", "message_strategy": "shout"}"#.utf8))
        #expect(bad.status == 400)
        let execution = try await tenant.submit(agent: agent.id)
        _ = try await tenant.admin.send(.POST, "/api/v1/executions/\(execution.id.uuidString.lowercased())/cancel", rawBody: nil)
        let late = try await tenant.admin.post(
            "/api/v1/executions/\(execution.id.uuidString.lowercased())/messages", ExecutionMessageRequest(content: "hi"))
        #expect(late.status == 409)
    }
}
