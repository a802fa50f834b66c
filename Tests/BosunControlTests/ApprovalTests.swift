import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

/// Approvals on the control API, with the worker's side played by hand: a task parks, people
/// decide, the task comes back with their decisions and its ledger.
@Suite struct ApprovalTests {
    struct Parked {
        let tenant: Tenant
        let execution: Execution
        let task: TaskAssignment
        let worker: APIClient
        let workerId: UUID
        var path: String { "/api/v1/executions/\(execution.id.uuidString.lowercased())" }
    }

    func park(on server: TestServer, calls: [String] = ["w"]) async throws -> Parked {
        let tenant = try await Tenant.create(on: server)
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id, input: "copy it")
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        // What the runtime recorded before it stopped: the model's calls.
        let ledger: JSONValue = ["message": ["role": "assistant", "tool_calls": .array(calls.map { ["id": .string($0)] })]]
        let events = AppendEventsRequest(leaseId: task.lease.id, events: [TaskEvent(seq: 1, type: "ledger", data: ledger)])
        #expect(try await worker.post("/api/v1/tasks/\(task.id.uuidString.lowercased())/events", events).status == 200)
        let request = AwaitApprovalRequest(
            leaseId: task.lease.id,
            approvals: calls.map {
                ApprovalRequest(
                    toolCallId: $0, toolName: "Write", arguments: ["file_path": "out.txt"],
                    reason: "tool 'Write' needs a person's approval", rule: #"tools.require_approval "Write""#)
            })
        let reply = try await worker.post("/api/v1/tasks/\(task.id.uuidString.lowercased())/await-approval", request)
        #expect(reply.status == 200, "\(reply.text)")
        let parked = try reply.decode(AwaitApprovalResponse.self)
        #expect(parked.executionStatus == .waitingForApproval)
        #expect(parked.approvalIds.count == calls.count)
        return Parked(tenant: tenant, execution: execution, task: task, worker: worker, workerId: registration.workerId)
    }

    @Test func approvingTheLastPendingCallQueuesTheTaskAgainWithTheDecisionsAndItsLedger() async throws {
        let server = try await TestServer.shared()
        let parked = try await park(on: server, calls: ["w1", "w2"])
        let shown = try await parked.tenant.admin.get(parked.path).decode(Execution.self)
        #expect(shown.status == .waitingForApproval)
        // Parked, the task is not handed out.
        #expect(try await parked.worker.poll(worker: parked.workerId, wait: 0).isEmpty)

        let approvals = try await parked.tenant.admin.get("\(parked.path)/approvals").decode(ItemList<Approval>.self).items
        #expect(approvals.map(\.toolCallId) == ["w1", "w2"])
        #expect(approvals.allSatisfy { $0.status == .pending && $0.toolName == "Write" && $0.arguments["file_path"] == "out.txt" })
        let first = try #require(approvals.first)
        let approved = try await parked.tenant.admin.send(
            .POST, "\(parked.path)/approvals/\(first.id.uuidString.lowercased())/approve", rawBody: nil)
        #expect(approved.status == 200, "\(approved.text)")
        #expect(try approved.decode(Approval.self).status == .approved)
        // One still pending: still waiting.
        #expect(try await parked.tenant.admin.get(parked.path).decode(Execution.self).status == .waitingForApproval)
        #expect(try await parked.worker.poll(worker: parked.workerId, wait: 0).isEmpty)
        let again = try await parked.tenant.admin.post(
            "\(parked.path)/approvals/\(first.id.uuidString.lowercased())/deny", ApprovalDecisionRequest(reason: "changed my mind"))
        #expect(again.status == 409)

        let second = try #require(approvals.last)
        let denied = try await parked.tenant.admin.post(
            "\(parked.path)/approvals/\(second.id.uuidString.lowercased())/deny", ApprovalDecisionRequest(reason: "not that file"))
        #expect(try denied.decode(Approval.self).status == .denied)
        #expect(try await parked.tenant.admin.get(parked.path).decode(Execution.self).status == .queued)

        // The same task comes back as the next attempt, with the decisions and the ledger.
        let resumed = try #require(try await parked.worker.poll(worker: parked.workerId, wait: 2).first)
        #expect(resumed.id == parked.task.id)
        #expect(resumed.turn == parked.task.turn)
        #expect(resumed.attempt == 2)
        #expect(resumed.maxAttempts == parked.task.maxAttempts + 1)  // parking did not use up a retry
        #expect(resumed.approvals.map(\.status) == [.approved, .denied])
        #expect(resumed.approvals.last?.reason == "not that file")
        #expect(resumed.ledger.count == 1)

        let transitions = try await parked.tenant.admin.get("\(parked.path)/transitions").decode(StateTransitionList.self)
        #expect(transitions.items.map(\.to).contains("waiting_for_approval"))
        let types = try await parked.tenant.admin.get("\(parked.path)/events").decode(ExecutionEventPage.self).events.map(\.type)
        #expect(types.filter { $0 == "approval_requested" }.count == 2)
        #expect(types.filter { $0 == "approval_decided" }.count == 2)
    }

    @Test func expiredApprovalsCountAsDeniedAndCancelEndsAWaitingExecution() async throws {
        let server = try await TestServer.start {
            $0.approvalTTL = .milliseconds(300)
            $0.sweepInterval = .milliseconds(100)
        }
        defer { Task { await server.stop() } }
        let parked = try await park(on: server)
        let resumed = try #require(try await parked.worker.poll(worker: parked.workerId, wait: 10).first)
        #expect(resumed.approvals.first?.status == .expired)
        #expect(resumed.approvals.first?.reason?.contains("nobody decided") == true)
        let approvals = try await parked.tenant.admin.get("\(parked.path)/approvals").decode(ItemList<Approval>.self).items
        let late = try await parked.tenant.admin.send(
            .POST, "\(parked.path)/approvals/\(approvals[0].id.uuidString.lowercased())/approve", rawBody: nil)
        #expect(late.status == 409)

        let other = try await park(on: try await TestServer.shared())
        let cancelled = try await other.tenant.admin.send(.POST, "\(other.path)/cancel", rawBody: nil)
        #expect(try cancelled.decode(Execution.self).status == .cancelled)
        let after = try await other.tenant.admin.get("\(other.path)/approvals").decode(ItemList<Approval>.self).items
        #expect(after.allSatisfy { $0.status == .denied && $0.decisionReason == "the execution was cancelled" })
        #expect(try await other.worker.poll(worker: other.workerId, wait: 0).isEmpty)
    }

    @Test func approvalsAreTenantScopedAndBadInputIsRefused() async throws {
        let server = try await TestServer.shared()
        let parked = try await park(on: server)
        let stranger = try await Tenant.create(on: server)
        #expect(try await stranger.admin.get("\(parked.path)/approvals").status == 404)
        let approvals = try await parked.tenant.admin.get("\(parked.path)/approvals").decode(ItemList<Approval>.self).items
        let id = approvals[0].id.uuidString.lowercased()
        #expect(try await stranger.admin.send(.POST, "\(parked.path)/approvals/\(id)/approve", rawBody: nil).status == 404)
        #expect(try await parked.tenant.admin.send(.POST, "\(parked.path)/approvals/\(UUID().uuidString)/approve", rawBody: nil).status == 404)
        let bad = try await parked.tenant.admin.send(
            .POST, "\(parked.path)/approvals/\(id)/approve", rawBody: Data(#"{"reason": 5}"#.utf8))
        #expect(bad.status == 400)
        let extra = try await parked.tenant.admin.send(
            .POST, "\(parked.path)/approvals/\(id)/approve", rawBody: Data(#"{"because": "x"}"#.utf8))
        #expect(extra.status == 400)
        // A parked task's lease is gone: the worker cannot park or complete it again.
        let stale = try await parked.worker.post(
            "/api/v1/tasks/\(parked.task.id.uuidString.lowercased())/await-approval",
            AwaitApprovalRequest(
                leaseId: parked.task.lease.id,
                approvals: [ApprovalRequest(toolCallId: "x", toolName: "Write", arguments: [:], reason: "r")]))
        #expect(stale.status == 409)
    }
}
