import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

@Suite struct ApprovalCommandTests {
    /// A task parked with approvals for `calls`, the worker's side played by hand.
    func park(_ tenant: Tenant, calls: [String]) async throws -> Execution {
        let agent = try await tenant.createAgent()
        let (registration, worker) = try await tenant.registerWorker()
        let execution = try await tenant.submit(agent: agent.id, input: "deploy")
        let task = try #require(try await worker.poll(worker: registration.workerId, wait: 2).first)
        let reply = try await worker.post(
            "/api/v1/tasks/\(task.id.uuidString.lowercased())/await-approval",
            AwaitApprovalRequest(
                leaseId: task.lease.id,
                approvals: calls.map {
                    ApprovalRequest(toolCallId: $0, toolName: "Bash", arguments: ["command": .string("deploy \($0)")], reason: "needs a person")
                }))
        #expect(reply.status == 200, "\(reply.text)")
        return execution
    }

    @Test func approveAndDenyPickTheOnePendingCallOrAskWhichOne() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let cli = CLI(tenant: tenant)
        let two = try await park(tenant, calls: ["a", "b"])
        let id = two.id.uuidString.lowercased()

        let shown = try await cli.run("executions", "show", id)
        #expect(shown.stdout.contains("waiting_for_approval"), "\(shown)")
        let ambiguous = try await cli.run("executions", "approve", id)
        #expect(ambiguous.exitCode == 2, "\(ambiguous)")
        #expect(ambiguous.stderr.contains("2 pending approvals") && ambiguous.stderr.contains("deploy a"))

        let approvals = try await tenant.admin.get("/api/v1/executions/\(id)/approvals").decode(ItemList<Approval>.self).items
        let first = try #require(approvals.first { $0.toolCallId == "a" })
        let approved = try await cli.run("executions", "approve", id, first.id.uuidString.lowercased(), "--reason", "looks fine")
        #expect(approved.exitCode == 0, "\(approved)")
        // Now one is left: no id needed.
        let denied = try await cli.run("executions", "deny", id, "--reason", "not b")
        #expect(denied.exitCode == 0, "\(denied)")
        let after = try await tenant.admin.get("/api/v1/executions/\(id)/approvals").decode(ItemList<Approval>.self).items
        #expect(Dictionary(uniqueKeysWithValues: after.map { ($0.toolCallId, $0.status) }) == ["a": .approved, "b": .denied])
        #expect(after.first { $0.toolCallId == "b" }?.decisionReason == "not b")
        #expect(try await tenant.admin.get("/api/v1/executions/\(id)").decode(Execution.self).status == .queued)
        // Nothing pending any more.
        #expect(try await cli.run("executions", "approve", id).exitCode == 3)
    }
}
