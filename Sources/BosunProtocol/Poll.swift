import Foundation

/// `POST /api/v1/workers/{id}/poll`: a long poll for up to `slots` tasks.
public struct PollRequest: Codable, Sendable, Equatable {
    public var slots: Int
    /// How long to wait for work, in seconds; the server caps it at `poll.max_wait_s`.
    public var waitS: Double?
    /// The tasks the worker is running now. A task leased to this worker that is not among them
    /// was handed out in a poll reply the worker never received, and is given back at once
    /// rather than when its lease runs out. Absent: the server checks nothing.
    public var heldTaskIds: [UUID]?

    public init(slots: Int, waitS: Double? = nil, heldTaskIds: [UUID]? = nil) {
        self.slots = slots
        self.waitS = waitS
        self.heldTaskIds = heldTaskIds
    }

    enum CodingKeys: String, CodingKey {
        case slots
        case waitS = "wait_s"
        case heldTaskIds = "held_task_ids"
    }
}

public struct PollResponse: Codable, Sendable, Equatable {
    public var tasks: [TaskAssignment]
    public init(tasks: [TaskAssignment]) { self.tasks = tasks }

    /// A poll that ends empty because the worker is draining (it asked to, or an operator
    /// drained it through the API) says so in this header, value `draining`: the worker then
    /// stops polling instead of asking again at once, and gets nothing, in a loop.
    public static let workerStatusHeader = "Bosun-Worker-Status"
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
    /// The tool ledger of earlier attempts of this same turn: the entries they recorded
    /// (`LedgerEvent`: `{message, usage?, cost_usd?}`), oldest first. A retried attempt replays
    /// these instead of calling the model and running those tools again.
    public var ledger: [JSONValue]
    /// The policies in force for this execution, most general first: the worker decides every
    /// tool call with them (no round trip per call). Required on the wire: a task that arrives
    /// without them is refused, never run unchecked.
    public var policies: [PolicySnapshot]
    /// Decided approvals for calls of this task, when it runs again after people decided.
    public var approvals: [ApprovalResolution]
    /// What had been used when the task was claimed, present when a policy sets a quota: the
    /// worker adds the turn's own use and checks the quotas before every model call, so one turn
    /// cannot run far past a quota before the control API sees it.
    public var usageSoFar: UsageSoFar?

    public init(
        id: UUID, executionId: UUID, organizationId: UUID, queueId: UUID, turn: Int, attempt: Int, maxAttempts: Int,
        lease: Lease, agent: AgentSpec, input: JSONValue, history: [TurnHistory], ledger: [JSONValue] = [],
        policies: [PolicySnapshot] = [], approvals: [ApprovalResolution] = [], usageSoFar: UsageSoFar? = nil
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
        self.ledger = ledger
        self.policies = policies
        self.approvals = approvals
        self.usageSoFar = usageSoFar
    }

    enum CodingKeys: String, CodingKey {
        case id
        case executionId = "execution_id"
        case organizationId = "organization_id"
        case queueId = "queue_id"
        case turn, attempt
        case maxAttempts = "max_attempts"
        case lease, agent, input, history, ledger, policies, approvals
        case usageSoFar = "usage_so_far"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try c.decode(UUID.self, forKey: .id)
        self.executionId = try c.decode(UUID.self, forKey: .executionId)
        self.organizationId = try c.decode(UUID.self, forKey: .organizationId)
        self.queueId = try c.decode(UUID.self, forKey: .queueId)
        self.turn = try c.decode(Int.self, forKey: .turn)
        self.attempt = try c.decode(Int.self, forKey: .attempt)
        self.maxAttempts = try c.decode(Int.self, forKey: .maxAttempts)
        self.lease = try c.decode(Lease.self, forKey: .lease)
        self.agent = try c.decode(AgentSpec.self, forKey: .agent)
        self.input = try c.decodeIfPresent(JSONValue.self, forKey: .input) ?? .null
        self.history = try c.decodeIfPresent([TurnHistory].self, forKey: .history) ?? []
        self.ledger = try c.decodeIfPresent([JSONValue].self, forKey: .ledger) ?? []
        self.policies = try c.decode([PolicySnapshot].self, forKey: .policies)
        self.approvals = try c.decodeIfPresent([ApprovalResolution].self, forKey: .approvals) ?? []
        self.usageSoFar = try c.decodeIfPresent(UsageSoFar.self, forKey: .usageSoFar)
    }
}

/// Tokens (input plus output) and dollars used, as quotas count them.
public struct QuotaUsage: Codable, Sendable, Equatable {
    public var tokens: Int
    public var costUSD: Double

    public init(tokens: Int, costUSD: Double) {
        self.tokens = tokens
        self.costUSD = costUSD
    }

    public static let zero = QuotaUsage(tokens: 0, costUSD: 0)

    public static func + (left: QuotaUsage, right: QuotaUsage) -> QuotaUsage {
        QuotaUsage(tokens: left.tokens + right.tokens, costUSD: left.costUSD + right.costUSD)
    }

    enum CodingKeys: String, CodingKey {
        case tokens
        case costUSD = "cost_usd"
    }
}

/// The usage a task's quotas start from (`TaskAssignment.usage_so_far`).
public struct UsageSoFar: Codable, Sendable, Equatable {
    /// The execution's finished turns.
    public var execution: QuotaUsage
    /// The organization's turns since midnight UTC; present when a policy sets a daily
    /// organization quota. It can only have grown since the claim (unless midnight passed, when
    /// it errs towards denying), so a quota it breaks is broken.
    public var organizationToday: QuotaUsage?

    public init(execution: QuotaUsage, organizationToday: QuotaUsage? = nil) {
        self.execution = execution
        self.organizationToday = organizationToday
    }

    enum CodingKeys: String, CodingKey {
        case execution
        case organizationToday = "organization_today"
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
    /// Runtime settings (see `Agent.settings`).
    public var settings: [String: JSONValue]

    public init(
        id: UUID, name: String, runtime: String, model: String, instructions: String, tools: [JSONValue],
        mcpServers: [String: JSONValue], sandboxProfile: String, limits: [String: JSONValue],
        settings: [String: JSONValue] = [:]
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
        self.settings = settings
    }

    enum CodingKeys: String, CodingKey {
        case id, name, runtime, model, instructions, tools
        case mcpServers = "mcp_servers"
        case sandboxProfile = "sandbox_profile"
        case limits, settings
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try c.decode(UUID.self, forKey: .id)
        self.name = try c.decode(String.self, forKey: .name)
        self.runtime = try c.decode(String.self, forKey: .runtime)
        self.model = try c.decode(String.self, forKey: .model)
        self.instructions = try c.decodeIfPresent(String.self, forKey: .instructions) ?? ""
        self.tools = try c.decodeIfPresent([JSONValue].self, forKey: .tools) ?? []
        self.mcpServers = try c.decodeIfPresent([String: JSONValue].self, forKey: .mcpServers) ?? [:]
        self.sandboxProfile = try c.decodeIfPresent(String.self, forKey: .sandboxProfile) ?? "default"
        self.limits = try c.decodeIfPresent([String: JSONValue].self, forKey: .limits) ?? [:]
        self.settings = try c.decodeIfPresent([String: JSONValue].self, forKey: .settings) ?? [:]
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
