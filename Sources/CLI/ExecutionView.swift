import BosunProtocol
import Foundation

/// An execution as the CLI reads it. Not `BosunProtocol.Execution`: that one decodes `status`
/// into a closed enum, and the server is gaining statuses (`waiting_for_approval`) that a CLI
/// built earlier must still show rather than fail on. Fields beyond the id are optional for the
/// same reason.
struct ExecutionView: Decodable, Sendable {
    var id: UUID
    var agentId: UUID?
    var teamId: UUID?
    var status: String
    var input: JSONValue?
    var queueId: UUID?
    var turnCount: Int?
    var output: String?
    var error: String?
    var cancelRequested: Bool?
    var createdAt: Date?
    var updatedAt: Date?
    var completedAt: Date?
    /// Usage and cost, when the server reports them.
    var usage: JSONValue?
    var costUsd: Double?

    enum CodingKeys: String, CodingKey {
        case id
        case agentId = "agent_id"
        case teamId = "team_id"
        case status, input
        case queueId = "queue_id"
        case turnCount = "turn_count"
        case output, error
        case cancelRequested = "cancel_requested"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case completedAt = "completed_at"
        case usage
        case costUsd = "cost_usd"
    }

    var isTerminal: Bool { ExecutionStatusName.terminal.contains(status) }
}

/// Status names, as strings so unknown ones pass through.
enum ExecutionStatusName {
    static let queued = "queued"
    static let running = "running"
    static let waitingForInput = "waiting_for_input"
    static let waitingForApproval = "waiting_for_approval"
    static let completed = "completed"
    static let failed = "failed"
    static let cancelled = "cancelled"
    static let terminal: Set<String> = [completed, failed, cancelled]
}

/// A list reply: `{items, next_cursor?}`.
struct ListReply<Item: Decodable & Sendable>: Decodable, Sendable {
    var items: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }
}
