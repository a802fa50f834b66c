import Foundation

/// One tool call a worker may not run until a person approves it (a policy's
/// `tools.require_approval`, or a claude_code permission `ask`).
public struct ApprovalRequest: Codable, Sendable, Equatable {
    public var toolCallId: String
    public var toolName: String
    public var arguments: JSONValue
    /// Why approval is needed, for the person deciding.
    public var reason: String
    public var rule: String?

    public init(toolCallId: String, toolName: String, arguments: JSONValue, reason: String, rule: String? = nil) {
        self.toolCallId = toolCallId
        self.toolName = toolName
        self.arguments = arguments
        self.reason = reason
        self.rule = rule
    }

    enum CodingKeys: String, CodingKey {
        case toolCallId = "tool_call_id"
        case toolName = "tool_name"
        case arguments, reason, rule
    }
}

/// `POST /api/v1/tasks/{id}/await-approval`: the worker parks the task until people decide.
public struct AwaitApprovalRequest: Codable, Sendable, Equatable {
    public var leaseId: UUID
    public var approvals: [ApprovalRequest]

    public init(leaseId: UUID, approvals: [ApprovalRequest]) {
        self.leaseId = leaseId
        self.approvals = approvals
    }

    enum CodingKeys: String, CodingKey {
        case leaseId = "lease_id"
        case approvals
    }
}

public struct AwaitApprovalResponse: Codable, Sendable, Equatable {
    public var executionStatus: ExecutionStatus
    public var approvalIds: [UUID]

    public init(executionStatus: ExecutionStatus, approvalIds: [UUID]) {
        self.executionStatus = executionStatus
        self.approvalIds = approvalIds
    }

    enum CodingKeys: String, CodingKey {
        case executionStatus = "execution_status"
        case approvalIds = "approval_ids"
    }
}

public enum ApprovalStatus: String, Codable, Sendable, CaseIterable {
    case pending
    case approved
    case denied
    /// Nobody decided in time: it counts as a denial.
    case expired
}

/// An approval as the API shows it.
public struct Approval: Codable, Sendable, Equatable {
    public var id: UUID
    public var executionId: UUID
    public var taskId: UUID
    public var turn: Int
    public var toolCallId: String
    public var toolName: String
    public var arguments: JSONValue
    public var reason: String
    public var rule: String?
    public var status: ApprovalStatus
    /// What the person who decided said (or why it expired).
    public var decisionReason: String?
    public var requestedAt: Date
    public var expiresAt: Date
    public var decidedAt: Date?
    public var decidedBy: String?

    public init(
        id: UUID, executionId: UUID, taskId: UUID, turn: Int, toolCallId: String, toolName: String, arguments: JSONValue,
        reason: String, rule: String?, status: ApprovalStatus, decisionReason: String?, requestedAt: Date,
        expiresAt: Date, decidedAt: Date?, decidedBy: String?
    ) {
        self.id = id
        self.executionId = executionId
        self.taskId = taskId
        self.turn = turn
        self.toolCallId = toolCallId
        self.toolName = toolName
        self.arguments = arguments
        self.reason = reason
        self.rule = rule
        self.status = status
        self.decisionReason = decisionReason
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
        self.decidedAt = decidedAt
        self.decidedBy = decidedBy
    }

    enum CodingKeys: String, CodingKey {
        case id
        case executionId = "execution_id"
        case taskId = "task_id"
        case turn
        case toolCallId = "tool_call_id"
        case toolName = "tool_name"
        case arguments, reason, rule, status
        case decisionReason = "decision_reason"
        case requestedAt = "requested_at"
        case expiresAt = "expires_at"
        case decidedAt = "decided_at"
        case decidedBy = "decided_by"
    }
}

/// `POST /api/v1/executions/{id}/approvals/{approval_id}/approve` (or `/deny`).
public struct ApprovalDecisionRequest: Codable, Sendable, Equatable {
    public var reason: String?
    public init(reason: String? = nil) { self.reason = reason }
    public static let fieldNames: Set<String> = ["reason"]
}

/// A decided approval, as the task that asked for it carries it when it runs again: approved
/// runs exactly that call; denied or expired gives the model a denial instead.
public struct ApprovalResolution: Codable, Sendable, Equatable {
    public var toolCallId: String
    public var toolName: String
    public var status: ApprovalStatus
    public var reason: String?
    public var decidedBy: String?

    public init(toolCallId: String, toolName: String, status: ApprovalStatus, reason: String? = nil, decidedBy: String? = nil) {
        self.toolCallId = toolCallId
        self.toolName = toolName
        self.status = status
        self.reason = reason
        self.decidedBy = decidedBy
    }

    enum CodingKeys: String, CodingKey {
        case toolCallId = "tool_call_id"
        case toolName = "tool_name"
        case status, reason
        case decidedBy = "decided_by"
    }
}
