import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

/// `POST /api/v1/executions/{id}/transitions/override`: a user overrules the state decision.
@Suite struct TransitionOverrideTests {
    /// Runs one turn that ends with `output` and returns the execution's path.
    func decidedExecution(_ tenant: Tenant, output: String) async throws -> (path: String, worker: APIClient, id: UUID) {
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id, input: "Summarise the report")
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let reply = try await worker.post(
            "/api/v1/tasks/\(task.id.uuidString.lowercased())/complete",
            CompleteTaskRequest(leaseId: task.lease.id, result: TurnResult(finishReason: .stop, output: output)))
        #expect(reply.status == 200)
        return ("/api/v1/executions/\(execution.id.uuidString.lowercased())", worker, registration.workerId)
    }

    @Test func aUserOverridesADecisionAndItIsRecorded() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let (path, _, _) = try await decidedExecution(tenant, output: "Shall I also cover the appendix?")
        #expect(try await tenant.admin.get(path).decode(Execution.self).status == .waitingForInput)

        let overridden = try await tenant.admin.post(
            "\(path)/transitions/override", TransitionOverrideRequest(to: "completed", reason: "that was rhetorical", turn: 1))
        #expect(overridden.status == 200)
        #expect(try overridden.decode(Execution.self).status == .completed)

        let transitions = try await tenant.admin.get("\(path)/transitions").decode(StateTransitionList.self).items
        let last = try #require(transitions.last)
        #expect(last.from == "waiting_for_input")
        #expect(last.to == "completed")
        #expect(last.decider == "user")
        #expect(last.turn == 1)
        #expect(last.reason.contains("that was rhetorical"))
    }

    @Test func continueQueuesTheNextTurn() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let (path, worker, workerId) = try await decidedExecution(tenant, output: "Here is the summary.")
        #expect(try await tenant.admin.get(path).decode(Execution.self).status == .completed)

        let overridden = try await tenant.admin.post("\(path)/transitions/override", TransitionOverrideRequest(to: "continue"))
        #expect(overridden.status == 200)
        #expect(try overridden.decode(Execution.self).status == .queued)
        let next = try #require(try await worker.poll(worker: workerId, wait: 2).first)
        #expect(next.turn == 2)
        #expect(next.history.map(\.turn) == [1])
    }

    @Test func staleUndecidedAndInvalidOverridesAreRefused() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let (path, _, _) = try await decidedExecution(tenant, output: "Done.")

        let stale = try await tenant.admin.post("\(path)/transitions/override", TransitionOverrideRequest(to: "failed", turn: 7))
        #expect(stale.status == 409)
        #expect(stale.text.contains("latest turn is 1"))

        let unknownTarget = try await tenant.admin.post("\(path)/transitions/override", TransitionOverrideRequest(to: "running"))
        #expect(unknownTarget.status == 400)
        #expect(unknownTarget.text.contains("'to' must be one of"))

        let unknownField = try await tenant.admin.send(
            .POST, "\(path)/transitions/override", rawBody: Data(#"{"to": "completed", "force": true}"#.utf8))
        #expect(unknownField.status == 400)

        // A queued execution has no decision to overrule.
        let agent = try await tenant.createAgent()
        let queued = try await tenant.submit(agent: agent.id)
        let early = try await tenant.admin.post(
            "/api/v1/executions/\(queued.id.uuidString.lowercased())/transitions/override",
            TransitionOverrideRequest(to: "completed"))
        #expect(early.status == 409)

        let missing = try await tenant.admin.post(
            "/api/v1/executions/\(UUID().uuidString.lowercased())/transitions/override", TransitionOverrideRequest(to: "completed"))
        #expect(missing.status == 404)
        // Nothing changed for the decided execution.
        #expect(try await tenant.admin.get(path).decode(Execution.self).status == .completed)
    }
}
