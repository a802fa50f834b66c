import BosunProtocol
import Foundation
import LLM
import Policy

/// The tools one agent may use this turn, by name.
public struct Toolset: Sendable {
    public let tools: [String: any AgentTool]
    public let specs: [ToolSpec]

    /// - Parameter defaultAll: with no names given, offer every available tool (claude_code) or none (agno).
    public init(available: [any AgentTool], names: [String], defaultAll: Bool) throws {
        var byName: [String: any AgentTool] = [:]
        for tool in available { byName[tool.spec.name] = tool }
        let chosen: [any AgentTool]
        if names.isEmpty {
            chosen = defaultAll ? available : []
        } else {
            chosen = try names.map { name in
                guard let tool = byName[name] else {
                    throw TurnFailure(
                        "the agent names the tool '\(name)', which this worker does not have (built-in tools: \(available.map(\.spec.name).sorted().joined(separator: ", ")))",
                        retryable: false)
                }
                return tool
            }
        }
        var tools: [String: any AgentTool] = [:]
        for tool in chosen { tools[tool.spec.name] = tool }
        self.tools = tools
        self.specs = chosen.map(\.spec)
    }

    /// These tools too (an agent's MCP tools), after the built-ins.
    public func adding(_ extra: [any AgentTool]) -> Toolset {
        var tools = self.tools
        for tool in extra { tools[tool.spec.name] = tool }
        return Toolset(tools: tools, specs: specs + extra.map(\.spec))
    }

    /// Without these tools. `mcp__server` removes every tool of that MCP server (Claude Code).
    public func removing(_ names: Set<String>) -> Toolset {
        func removed(_ tool: String) -> Bool {
            names.contains(tool) || names.contains { $0.hasPrefix("mcp__") && tool.hasPrefix($0 + "__") }
        }
        return Toolset(tools: tools.filter { !removed($0.key) }, specs: specs.filter { !removed($0.name) })
    }

    init(tools: [String: any AgentTool], specs: [ToolSpec]) {
        self.tools = tools
        self.specs = specs
    }
}

/// One tool call and what came of it.
public struct ToolInvocation: Sendable {
    public var call: ChatToolCall
    public var output: ToolOutput
    public var durationMs: Double
    /// Set when the call did not run because it waits for a person's approval: it has no
    /// result yet, so it goes neither into the conversation nor into the ledger.
    public var awaitingApproval: ApprovalRequest?
    /// False when a policy or a person refused the call: the tool never ran.
    public var ran: Bool

    public init(
        call: ChatToolCall, output: ToolOutput, durationMs: Double, awaitingApproval: ApprovalRequest? = nil,
        ran: Bool = true
    ) {
        self.call = call
        self.output = output
        self.durationMs = durationMs
        self.awaitingApproval = awaitingApproval
        self.ran = ran && awaitingApproval == nil
    }

    public var resultMessage: ChatMessage {
        .toolResult(id: call.id, name: call.name, text: output.text, isError: output.isError)
    }

    /// Agno's tool record in ToolCallStarted/ToolCallCompleted events.
    var eventData: JSONValue {
        [
            "tool_call_id": .string(call.id), "tool_name": .string(call.name), "tool_args": call.arguments,
            "result": .string(String(output.text.prefix(4000))), "tool_call_error": .bool(output.isError),
            "metrics": ["duration_ms": .number(durationMs)],
        ]
    }
}

/// Runs tool calls: a call whose arguments were not JSON, or that names a tool the agent does
/// not have, gets an error result for the model instead of running.
public struct ToolExecutor: Sendable {
    let toolset: Toolset
    let toolContext: ToolContext
    let policy: TurnPolicy

    public init(
        context: TurnContext, toolset: Toolset, policy: TurnPolicy, searchExclusions: SearchExclusions = .none
    ) throws {
        let launcher = ToolProcessLauncher(sandbox: context.sandbox)
        self.toolset = toolset
        self.policy = policy
        let workspace: Workspace
        do {
            workspace = try Workspace(root: context.workspace)
        } catch {
            throw TurnFailure("the workspace \(context.workspace) cannot be used: \(error)", retryable: true)
        }
        self.toolContext = ToolContext(
            workspace: workspace, processes: context.processes, launcher: launcher, searchExclusions: searchExclusions)
    }

    public func tool(named name: String) -> (any AgentTool)? { toolset.tools[name] }

    /// Runs a call after the policies allow it. `approvalReason` is set when the runtime's own
    /// permission rules ask (claude_code `ask`): the call then needs a person's approval like a
    /// policy's `require_approval`, and one approval answers both.
    public func run(_ call: ChatToolCall, approvalReason: String? = nil) async -> ToolInvocation {
        let started = ContinuousClock.now
        let output: ToolOutput
        var decision = await policy.decide(call)
        if let approvalReason, decision.outcome == .allow {
            // The agent's own rules ask (claude_code `ask`): the same approval flow as a policy's.
            decision = PolicyDecision(outcome: .requireApproval, rule: "permissions.ask", reason: approvalReason)
        }
        if decision.outcome == .requireApproval {
            switch policy.resolution(for: call)?.status {
            case .approved:
                decision = PolicyDecision(outcome: .allow, rule: "approved", reason: "approved by a person")
            case .denied, .expired:
                let resolution = policy.resolution(for: call)
                let who = resolution?.status == .expired ? "Nobody approved this call in time" : "A person denied this call"
                let why = resolution?.reason.map { ": \($0)" } ?? ""
                return ToolInvocation(
                    call: call, output: ToolOutput(text: "\(who)\(why). Do not call it again; do without it.", isError: true),
                    durationMs: 0, ran: false)
            case .pending, nil:
                return ToolInvocation(
                    call: call, output: ToolOutput(text: "waiting for approval", isError: true), durationMs: 0,
                    awaitingApproval: ApprovalRequest(
                        toolCallId: call.id, toolName: call.name, arguments: call.arguments, reason: decision.reason,
                        rule: decision.rule))
            }
        }
        if decision.outcome != .allow {
            return ToolInvocation(
                call: call,
                output: ToolOutput(text: "Denied by policy: \(decision.reason). Do not call this tool again in this way.", isError: true),
                durationMs: (ContinuousClock.now - started).milliseconds, ran: false)
        } else if let problem = call.argumentsError {
            output = ToolOutput(text: "The arguments were not valid JSON: \(problem). Call the tool again with a JSON object.", isError: true)
        } else if let tool = toolset.tools[call.name] {
            output = await tool.run(call.arguments, in: toolContext)
        } else {
            output = ToolOutput(
                text: "No such tool: \(call.name). Available tools: \(toolset.specs.map(\.name).joined(separator: ", ")).",
                isError: true)
        }
        return ToolInvocation(call: call, output: output, durationMs: (ContinuousClock.now - started).milliseconds)
    }

    public var context: ToolContext { toolContext }
}

/// Sums what a turn's model calls cost, starting from what replayed replies already cost.
struct UsageMeter {
    var usage: Usage
    var cost: Double
    var calls: Int
    var apiMs = 0.0
    var timeToFirstTokenMs: Double?
    var model: String?

    init(replayed conversation: Conversation? = nil) {
        usage = conversation?.replayedUsage ?? Usage()
        cost = conversation?.replayedCostUsd ?? 0
        calls = conversation?.replayedModelCalls ?? 0
    }

    mutating func add(_ response: ChatResponse) {
        usage.inputTokens += response.usage.inputTokens
        usage.outputTokens += response.usage.outputTokens
        usage.cacheReadTokens += response.usage.cacheReadTokens
        usage.cacheWriteTokens += response.usage.cacheWriteTokens
        cost += response.costUsd
        calls += 1
        apiMs += response.durationMs
        if timeToFirstTokenMs == nil { timeToFirstTokenMs = response.timeToFirstTokenMs }
        model = response.model
    }

    /// What quotas count: input plus output tokens, and dollars.
    var quotaUsage: QuotaUsage { QuotaUsage(tokens: usage.inputTokens + usage.outputTokens, costUSD: cost) }

    /// Agno's run metrics.
    func metrics(duration: Duration) -> JSONValue {
        [
            "input_tokens": .number(Double(usage.inputTokens)), "output_tokens": .number(Double(usage.outputTokens)),
            "cache_read_tokens": .number(Double(usage.cacheReadTokens)),
            "cache_write_tokens": .number(Double(usage.cacheWriteTokens)),
            "total_tokens": .number(Double(usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens)),
            "cost_usd": .number(cost), "model_calls": .number(Double(calls)),
            "time_to_first_token_ms": timeToFirstTokenMs.map(JSONValue.number) ?? .null,
            "duration_ms": .number(duration.milliseconds),
        ]
    }
}
