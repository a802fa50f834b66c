import Foundation

/// `POST /api/v1/tasks/{id}/renew`.
public struct RenewLeaseRequest: Codable, Sendable, Equatable {
    public var leaseId: UUID
    public init(leaseId: UUID) { self.leaseId = leaseId }
    enum CodingKeys: String, CodingKey { case leaseId = "lease_id" }
}

public struct RenewLeaseResponse: Codable, Sendable, Equatable {
    public var leaseExpiresAt: Date
    /// Set once a user cancelled the execution: the worker stops the turn and reports it.
    public var cancelRequested: Bool

    public init(leaseExpiresAt: Date, cancelRequested: Bool) {
        self.leaseExpiresAt = leaseExpiresAt
        self.cancelRequested = cancelRequested
    }

    enum CodingKeys: String, CodingKey {
        case leaseExpiresAt = "lease_expires_at"
        case cancelRequested = "cancel_requested"
    }
}

/// `POST /api/v1/tasks/{id}/fail`.
public struct FailTaskRequest: Codable, Sendable, Equatable {
    public var leaseId: UUID
    public var error: String
    public var retryable: Bool

    public init(leaseId: UUID, error: String, retryable: Bool) {
        self.leaseId = leaseId
        self.error = error
        self.retryable = retryable
    }

    enum CodingKeys: String, CodingKey {
        case leaseId = "lease_id"
        case error, retryable
    }
}

public struct FailTaskResponse: Codable, Sendable, Equatable {
    /// `queued` when the task will be retried, `dead` once its attempts are used up, `failed` when not retryable.
    public var taskStatus: String
    public var executionStatus: ExecutionStatus

    public init(taskStatus: String, executionStatus: ExecutionStatus) {
        self.taskStatus = taskStatus
        self.executionStatus = executionStatus
    }

    enum CodingKeys: String, CodingKey {
        case taskStatus = "task_status"
        case executionStatus = "execution_status"
    }
}

/// `POST /api/v1/tasks/{id}/release`: the worker gives a task back unfinished (forced shutdown).
/// It is queued again at once; the attempt does not count against the task's limit (the limit
/// grows by one, so attempt numbers stay unique).
public struct ReleaseTaskRequest: Codable, Sendable, Equatable {
    public var leaseId: UUID
    public var reason: String

    public init(leaseId: UUID, reason: String) {
        self.leaseId = leaseId
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case leaseId = "lease_id"
        case reason
    }
}

public struct ReleaseTaskResponse: Codable, Sendable, Equatable {
    /// `queued`, or `cancelled` when the execution was cancelled meanwhile.
    public var taskStatus: String
    public var executionStatus: ExecutionStatus

    public init(taskStatus: String, executionStatus: ExecutionStatus) {
        self.taskStatus = taskStatus
        self.executionStatus = executionStatus
    }

    enum CodingKeys: String, CodingKey {
        case taskStatus = "task_status"
        case executionStatus = "execution_status"
    }
}
