import Foundation

/// One event a worker streams while it runs a turn. `seq` counts per task attempt from 1.
/// The tool ledger's event: `{message, usage?, cost_usd?}` for every message a turn adds to its
/// conversation, stored the moment it exists, so a retried attempt can replay it.
public enum LedgerEvent {
    public static let type = "ledger"
}

public struct TaskEvent: Codable, Sendable, Equatable {
    public var seq: Int
    public var type: String
    public var data: JSONValue
    public var ts: Date?

    public init(seq: Int, type: String, data: JSONValue, ts: Date? = nil) {
        self.seq = seq
        self.type = type
        self.data = data
        self.ts = ts
    }
}

/// `POST /api/v1/tasks/{id}/events`: idempotent per `seq`, so a batch can be resent after an error.
public struct AppendEventsRequest: Codable, Sendable, Equatable {
    public var leaseId: UUID
    public var events: [TaskEvent]

    public init(leaseId: UUID, events: [TaskEvent]) {
        self.leaseId = leaseId
        self.events = events
    }

    enum CodingKeys: String, CodingKey {
        case leaseId = "lease_id"
        case events
    }
}

public struct AppendEventsResponse: Codable, Sendable, Equatable {
    public var accepted: Int
    public var duplicates: Int
    public init(accepted: Int, duplicates: Int) {
        self.accepted = accepted
        self.duplicates = duplicates
    }
}

/// An event as clients read it: numbered per execution, resumable by `seq` (SSE `Last-Event-ID`).
public struct ExecutionEvent: Codable, Sendable, Equatable {
    public var seq: Int64
    public var type: String
    public var data: JSONValue
    public var ts: Date
    public var taskId: UUID?

    public init(seq: Int64, type: String, data: JSONValue, ts: Date, taskId: UUID?) {
        self.seq = seq
        self.type = type
        self.data = data
        self.ts = ts
        self.taskId = taskId
    }

    enum CodingKeys: String, CodingKey {
        case seq, type, data, ts
        case taskId = "task_id"
    }
}

public struct ExecutionEventPage: Codable, Sendable, Equatable {
    public var events: [ExecutionEvent]
    public var nextAfter: Int64?

    public init(events: [ExecutionEvent], nextAfter: Int64?) {
        self.events = events
        self.nextAfter = nextAfter
    }

    enum CodingKeys: String, CodingKey {
        case events
        case nextAfter = "next_after"
    }
}
