import Foundation

public enum ExecutionStatus: String, Codable, Sendable, CaseIterable {
    case queued
    case running
    case waitingForInput = "waiting_for_input"
    /// A tool call waits for a person's approval (`GET .../approvals`).
    case waitingForApproval = "waiting_for_approval"
    case completed
    case failed
    case cancelled

    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .cancelled: true
        case .queued, .running, .waitingForInput, .waitingForApproval: false
        }
    }
}

public enum RoutingStrategy: String, Codable, Sendable, CaseIterable {
    case auto = "AUTO"
    case specificQueue = "SPECIFIC_QUEUE"
    case environment = "ENVIRONMENT"
}

public struct Routing: Codable, Sendable, Equatable {
    public var strategy: RoutingStrategy
    public var queueId: UUID?
    public var environmentId: UUID?

    public init(strategy: RoutingStrategy, queueId: UUID? = nil, environmentId: UUID? = nil) {
        self.strategy = strategy
        self.queueId = queueId
        self.environmentId = environmentId
    }

    public static let auto = Routing(strategy: .auto)

    enum CodingKeys: String, CodingKey {
        case strategy
        case queueId = "queue_id"
        case environmentId = "environment_id"
    }
}

/// `POST /api/v1/executions`.
public struct CreateExecutionRequest: Codable, Sendable, Equatable {
    public var agentId: UUID?
    public var teamId: UUID?
    public var input: JSONValue
    public var routing: Routing?
    public var idempotencyKey: String?
    /// What a message sent while a turn runs does; `enqueue` when left out.
    public var messageStrategy: MessageStrategy?

    public init(
        agentId: UUID? = nil, teamId: UUID? = nil, input: JSONValue, routing: Routing? = nil,
        idempotencyKey: String? = nil, messageStrategy: MessageStrategy? = nil
    ) {
        self.agentId = agentId
        self.teamId = teamId
        self.input = input
        self.routing = routing
        self.idempotencyKey = idempotencyKey
        self.messageStrategy = messageStrategy
    }

    /// The top-level field names a request may carry; anything else is rejected.
    public static var fieldNames: Set<String> { Set(CodingKeys.allCases.map(\.stringValue)) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case agentId = "agent_id"
        case teamId = "team_id"
        case input, routing
        case idempotencyKey = "idempotency_key"
        case messageStrategy = "message_strategy"
    }
}

/// What a message to an execution that is busy (queued, running, waiting for approval) does.
public enum MessageStrategy: String, Codable, Sendable, CaseIterable {
    /// It becomes the next turn's input (several are joined), once the current turn ends.
    case enqueue
    /// A running turn is stopped at once; what it recorded (tool results) is kept and the turn
    /// starts again with the message added after it.
    case interrupt
    /// 409: the sender must wait until the execution asks.
    case reject
}

public struct Execution: Codable, Sendable, Equatable {
    public var id: UUID
    public var organizationId: UUID
    public var agentId: UUID?
    public var teamId: UUID?
    public var status: ExecutionStatus
    public var input: JSONValue
    public var routing: Routing
    public var queueId: UUID
    public var turnCount: Int
    public var output: String?
    public var error: String?
    public var cancelRequested: Bool
    public var idempotencyKey: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var completedAt: Date?
    public var messageStrategy: MessageStrategy
    /// Messages that arrived while a turn ran (strategy `enqueue`), waiting for the next turn.
    public var pendingMessages: Int

    public init(
        id: UUID, organizationId: UUID, agentId: UUID?, teamId: UUID?, status: ExecutionStatus, input: JSONValue,
        routing: Routing, queueId: UUID, turnCount: Int, output: String?, error: String?, cancelRequested: Bool,
        idempotencyKey: String?, createdAt: Date, updatedAt: Date, completedAt: Date?,
        messageStrategy: MessageStrategy = .enqueue, pendingMessages: Int = 0
    ) {
        self.id = id
        self.organizationId = organizationId
        self.agentId = agentId
        self.teamId = teamId
        self.status = status
        self.input = input
        self.routing = routing
        self.queueId = queueId
        self.turnCount = turnCount
        self.output = output
        self.error = error
        self.cancelRequested = cancelRequested
        self.idempotencyKey = idempotencyKey
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.completedAt = completedAt
        self.messageStrategy = messageStrategy
        self.pendingMessages = pendingMessages
    }

    enum CodingKeys: String, CodingKey {
        case id
        case organizationId = "organization_id"
        case agentId = "agent_id"
        case teamId = "team_id"
        case messageStrategy = "message_strategy"
        case pendingMessages = "pending_messages"
        case status, input, routing
        case queueId = "queue_id"
        case turnCount = "turn_count"
        case output, error
        case cancelRequested = "cancel_requested"
        case idempotencyKey = "idempotency_key"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case completedAt = "completed_at"
    }
}

public struct ExecutionList: Codable, Sendable, Equatable {
    public var items: [Execution]
    public var nextCursor: String?

    public init(items: [Execution], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }
}

/// `POST /api/v1/executions/{id}/messages`: a user's reply to a waiting execution.
public struct ExecutionMessageRequest: Codable, Sendable, Equatable {
    public var content: JSONValue
    public init(content: JSONValue) { self.content = content }
}

/// `POST /api/v1/executions/{id}/transitions/override`: a user overrules the state decision.
///
/// `to` is a decision: `completed`, `waiting_for_input`, `continue` (queue another turn) or
/// `failed`. `turn`, when given, must be the execution's latest turn, so an override written
/// against an older view of the execution is refused (409) instead of overruling a newer decision.
public struct TransitionOverrideRequest: Codable, Sendable, Equatable {
    public var to: String
    public var reason: String?
    public var turn: Int?

    public init(to: String, reason: String? = nil, turn: Int? = nil) {
        self.to = to
        self.reason = reason
        self.turn = turn
    }

    public static let fieldNames: Set<String> = ["to", "reason", "turn"]
    public static let targets: [String] = ["completed", "waiting_for_input", "continue", "failed"]
}

/// One recorded state change of an execution.
public struct StateTransition: Codable, Sendable, Equatable {
    public var id: UUID
    public var executionId: UUID
    public var turn: Int?
    public var from: String
    public var to: String
    public var reason: String
    public var decider: String
    public var confidence: Double?
    public var latencyMs: Double?
    public var createdAt: Date

    public init(
        id: UUID, executionId: UUID, turn: Int?, from: String, to: String, reason: String, decider: String,
        confidence: Double?, latencyMs: Double?, createdAt: Date
    ) {
        self.id = id
        self.executionId = executionId
        self.turn = turn
        self.from = from
        self.to = to
        self.reason = reason
        self.decider = decider
        self.confidence = confidence
        self.latencyMs = latencyMs
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case executionId = "execution_id"
        case turn, from, to, reason, decider, confidence
        case latencyMs = "latency_ms"
        case createdAt = "created_at"
    }
}

public struct StateTransitionList: Codable, Sendable, Equatable {
    public var items: [StateTransition]
    public init(items: [StateTransition]) { self.items = items }
}
