import ArgumentParser
import BosunProtocol
import Foundation

/// `bosun executions approve|deny ID [APPROVAL_ID] [--reason R]`.
struct ExecutionsApprove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a tool call an execution waits on.",
        discussion: "Without APPROVAL_ID the execution's one pending approval is used.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The execution's id.") var execution: String
    @Argument(help: "The approval's id (optional when exactly one is pending).") var approval: String?
    @Option(help: "Why (recorded with the decision).") var reason: String?

    func run() async throws {
        try await ApprovalCommands.run(client, execution: execution, approval: approval, approve: true, reason: reason)
    }
}

struct ExecutionsDeny: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny", abstract: "Deny a tool call an execution waits on.",
        discussion: "Without APPROVAL_ID the execution's one pending approval is used.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The execution's id.") var execution: String
    @Argument(help: "The approval's id (optional when exactly one is pending).") var approval: String?
    @Option(help: "Why (recorded with the decision, and told to the agent).") var reason: String?

    func run() async throws {
        try await ApprovalCommands.run(client, execution: execution, approval: approval, approve: false, reason: reason)
    }
}

/// The approval calls, shared by the commands above and `run --follow`.
enum ApprovalCommands {
    static func run(_ client: ClientOptions, execution: String, approval: String?, approve: Bool, reason: String?)
        async throws
    {
        let executionId = try ExecutionsCommand.parseId(execution)
        let api = try client.client()
        let approvalId: String
        if let approval {
            approvalId = approval
        } else {
            let pending = try await pending(api: api, execution: executionId)
            switch pending.count {
            case 0:
                throw CLIError("execution \(APIPath.id(executionId)) has no pending approval", exit: .notFound)
            case 1:
                approvalId = pending[0].id
            default:
                let list = pending.map { "  " + describe($0) }.joined(separator: "\n")
                throw CLIError(
                    "execution \(APIPath.id(executionId)) has \(pending.count) pending approvals; name one:\n\(list)",
                    exit: .usage)
            }
        }
        let reply = try await decide(api: api, execution: executionId, approval: approvalId, approve: approve, reason: reason)
        if client.json { return client.output.printJSON(reply.body) }
        Output.write("\(approve ? "approved" : "denied") \(approvalId)\n")
    }

    static func pending(api: ControlAPI, execution: UUID) async throws -> [Approval] {
        try await api.get("/api/v1/executions/\(APIPath.id(execution))/approvals").decode(ListReply<Approval>.self).items
            .filter(\.isPending)
    }

    @discardableResult
    static func decide(api: ControlAPI, execution: UUID, approval: String, approve: Bool, reason: String?) async throws
        -> ControlAPI.Reply
    {
        try await api.post(
            "/api/v1/executions/\(APIPath.id(execution))/approvals/\(APIPath.segment(approval))/\(approve ? "approve" : "deny")",
            ApprovalDecisionRequest(reason: reason))
    }

    /// `ID  tool_name {args}` on one line.
    static func describe(_ approval: Approval) -> String {
        let args = approval.arguments.map { Format.short($0.jsonString, limit: 100) } ?? ""
        return "\(approval.id)  \(approval.toolName ?? "?") \(args)"
    }
}
