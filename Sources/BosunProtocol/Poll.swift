import Foundation

/// `POST /api/v1/workers/{id}/poll`: a long poll for up to `slots` tasks.
public struct PollRequest: Codable, Sendable, Equatable {
    public var slots: Int
    /// How long to wait for work, in seconds; the server caps it at `poll.max_wait_s`.
    public var waitS: Double?

    public init(slots: Int, waitS: Double? = nil) {
        self.slots = slots
        self.waitS = waitS
    }

    enum CodingKeys: String, CodingKey {
        case slots
        case waitS = "wait_s"
    }
}

public struct PollResponse: Codable, Sendable, Equatable {
    public var tasks: [TaskAssignment]
    public init(tasks: [TaskAssignment]) { self.tasks = tasks }
}

/// One claimed task with its lease and the full context of the turn to run.
public struct TaskAssignment: Codable, Sendable, Equatable {
    public var id: UUID
    public var executionId: UUID
    public var organizationId: UUID
    public var queueId: UUID
    public var turn: Int
    public var attempt: Int
    public var maxAttempts: Int
    public var lease: Lease
    public var agent: AgentSpec
    /// The user input of this turn (`null` when the turn continues the previous one).
    public var input: JSONValue
    /// Earlier turns of the execution, oldest first.
    public var history: [TurnHistory]

    public init(
        id: UUID, executionId: UUID, organizationId: UUID, queueId: UUID, turn: Int, attempt: Int, maxAttempts: Int,
        lease: Lease, agent: AgentSpec, input: JSONValue, history: [TurnHistory]
    ) {
        self.id = id
        self.executionId = executionId
        self.organizationId = organizationId
        self.queueId = queueId
        self.turn = turn
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.lease = lease
        self.agent = agent
        self.input = input
        self.history = history
    }

    enum CodingKeys: String, CodingKey {
        case id
        case executionId = "execution_id"
        case organizationId = "organization_id"
        case queueId = "queue_id"
        case turn, attempt
        case maxAttempts = "max_attempts"
        case lease, agent, input, history
    }
}

public struct Lease: Codable, Sendable, Equatable {
    public var id: UUID
    public var expiresAt: Date
    public var durationS: Double
    public var renewIntervalS: Double

    public init(id: UUID, expiresAt: Date, durationS: Double, renewIntervalS: Double) {
        self.id = id
        self.expiresAt = expiresAt
        self.durationS = durationS
        self.renewIntervalS = renewIntervalS
    }

    enum CodingKeys: String, CodingKey {
        case id
        case expiresAt = "expires_at"
        case durationS = "duration_s"
        case renewIntervalS = "renew_interval_s"
    }
}

/// What a worker needs to know about the agent to run its turn.
public struct AgentSpec: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var runtime: String
    public var model: String
    public var instructions: String
    public var tools: [JSONValue]
    public var mcpServers: [String: JSONValue]
    public var sandboxProfile: String
    public var limits: [String: JSONValue]

    public init(
        id: UUID, name: String, runtime: String, model: String, instructions: String, tools: [JSONValue],
        mcpServers: [String: JSONValue], sandboxProfile: String, limits: [String: JSONValue]
    ) {
        self.id = id
        self.name = name
        self.runtime = runtime
        self.model = model
        self.instructions = instructions
        self.tools = tools
        self.mcpServers = mcpServers
        self.sandboxProfile = sandboxProfile
        self.limits = limits
    }

    enum CodingKeys: String, CodingKey {
        case id, name, runtime, model, instructions, tools
        case mcpServers = "mcp_servers"
        case sandboxProfile = "sandbox_profile"
        case limits
    }
}

/// One completed turn as the next turn sees it: the input it answered and the messages it added.
public struct TurnHistory: Codable, Sendable, Equatable {
    public var turn: Int
    public var input: JSONValue
    public var messages: [JSONValue]

    public init(turn: Int, input: JSONValue, messages: [JSONValue]) {
        self.turn = turn
        self.input = input
        self.messages = messages
    }
}
