import BosunProtocol
import Foundation
import LLM
import Logging

/// The Claude-Code-style runtime (`claude_code`): an Anthropic Messages tool loop with the
/// built-in coding tools confined to the execution's workspace, Claude Code's permission modes
/// and rules, PreToolUse/PostToolUse command hooks, `max_turns` and `max_budget_usd`. Its
/// session is the execution's turns in the control plane, so any worker can resume it. Events
/// use Claude Code's stream-json shapes: system/init, assistant, user (tool results), result.
public struct ClaudeCodeRuntime: Runtime {
    public let name = "claude_code"
    public let version = "1.0.0"
    let llm: LLMAccess
    let tools: [any AgentTool]

    /// Claude Code's own default has no limit; a headless worker needs one.
    public static let defaultMaxTurns = 50

    public init(llm: LLMAccess, tools: [any AgentTool] = ToolBox.builtIns()) {
        self.llm = llm
        self.tools = tools
    }

    public func runTurn(_ context: TurnContext) async throws -> TurnResult {
        let assignment = context.assignment
        let sessionId = assignment.executionId.uuidString.lowercased()
        let started = Date()
        let clock = ContinuousClock.now
        let events = context.events
        var meter = UsageMeter()
        var denials: [JSONValue] = []

        func finish(subtype: String, isError: Bool, result: String?) async {
            await events.emit(
                "result",
                [
                    "type": "result", "subtype": .string(subtype), "is_error": .bool(isError),
                    "duration_ms": .number((ContinuousClock.now - clock).milliseconds),
                    "duration_api_ms": .number(meter.apiMs), "num_turns": .number(Double(meter.calls)),
                    "result": result.map(JSONValue.string) ?? .null, "session_id": .string(sessionId),
                    "total_cost_usd": .number(meter.cost),
                    "usage": [
                        "input_tokens": .number(Double(meter.usage.inputTokens)),
                        "output_tokens": .number(Double(meter.usage.outputTokens)),
                        "cache_read_input_tokens": .number(Double(meter.usage.cacheReadTokens)),
                        "cache_creation_input_tokens": .number(Double(meter.usage.cacheWriteTokens)),
                    ],
                    "permission_denials": .array(denials),
                ])
        }

        do {
            let options = try AgentOptions(
                agent: assignment.agent, defaultIterations: Self.defaultMaxTurns, iterationLimitKey: "max_turns",
                defaultHistoryTurns: nil)
            let settings = try ClaudeCodeSettings(assignment.agent.settings)
            let model = try LLMAccess.model(for: assignment.agent, settings: context.llm)
            let policy = try TurnPolicy.check(context, model: model)
            let gateway = try llm.gateway(for: policy.settings(context.llm), logger: context.logger)
            // A deny rule that names a whole tool removes it: the model is never offered it.
            let builtIns = try Toolset(available: tools, names: options.toolNames, defaultAll: true)
            return try await TurnMCPTools.with(
                agent: assignment.agent, workspace: context.workspace, sandbox: context.sandbox,
                secrets: context.processes.secrets, logger: context.logger
            ) { mcp in
                let toolset = policy.offered(builtIns.adding(mcp.tools).removing(settings.removedTools))
                // Glob and Grep skip what deny and ask rules keep from Read.
                let executor = try ToolExecutor(
                    context: context, toolset: toolset, policy: policy,
                    searchExclusions: settings.policy.searchExclusions)
                let hooks = HookRunner(configuration: settings.hooks, sessionID: sessionId)
                var conversation = try Conversation(assignment: assignment, historyTurns: nil)
                let ledger = TurnLedger(events: events)
                // Replayed replies count against max_turns and max_budget_usd like new ones.
                meter = UsageMeter(replayed: conversation)

                await events.emit(
                    "system",
                    [
                        "type": "system", "subtype": "init", "session_id": .string(sessionId),
                        "tools": .array(toolset.specs.map { .string($0.name) }),
                        "mcp_servers": .array(mcp.statuses.map { ["name": .string($0.name), "status": .string($0.status)] }),
                        "model": .string(model), "permissionMode": .string(settings.policy.mode.rawValue),
                        "cwd": .string(context.workspace), "attempt": .number(Double(assignment.attempt)),
                        "replayed_messages": .number(Double(conversation.replayedCount)),
                    ])

                let system = Self.systemPrompt(instructions: assignment.agent.instructions, workspace: context.workspace)
                var answer: ChatMessage? = conversation.replayedAnswer
                var finishReason: FinishReason = .stop
                while answer == nil {
                    let pending = conversation.pendingToolCalls
                    if !pending.isEmpty {
                        // One at a time, in order: a later call may depend on an earlier one's effect.
                        for call in pending {
                            try Task.checkCancellation()
                            let (invocation, denial) = await authorizeAndRun(
                                call, executor: executor, policy: settings.policy, hooks: hooks, context: context)
                            // Later calls may depend on this one: stop here until people decide.
                            if let waiting = invocation.awaitingApproval { throw ApprovalRequired([waiting]) }
                            if let denial { denials.append(denial) }
                            conversation.append(invocation.resultMessage)
                            try await ledger.record(invocation.resultMessage)
                            await events.emit("user", Self.userEvent(invocation, sessionId: sessionId))
                        }
                        continue
                    }
                    if meter.calls >= options.maxIterations {
                        await finish(subtype: "error_max_turns", isError: true, result: nil)
                        return Self.result(
                            conversation, meter: meter, finish: .error, output: nil,
                            error: "reached max_turns (\(options.maxIterations)) before the agent finished", model: model,
                            started: started, clock: clock)
                    }
                    if let budget = options.maxBudgetUsd, meter.cost >= budget {
                        await finish(subtype: "error_max_budget_usd", isError: true, result: nil)
                        return Self.result(
                            conversation, meter: meter, finish: .error, output: nil,
                            error: String(format: "reached max_budget_usd (%.4f USD spent of %.4f)", meter.cost, budget),
                            model: model, started: started, clock: clock)
                    }
                    if let denial = await policy.quotaDenial(model: model, turn: meter.quotaUsage) {
                        // Ended, not thrown: the turn is recorded with what it used.
                        let error = "denied by policy: \(denial.reason)"
                        await finish(subtype: "error_during_execution", isError: true, result: error)
                        return Self.result(
                            conversation, meter: meter, finish: .error, output: nil, error: error, model: model,
                            started: started, clock: clock)
                    }
                    try Task.checkCancellation()
                    let request = ChatRequest(
                        model: model, system: system, messages: conversation.messages, tools: toolset.specs,
                        maxTokens: options.maxTokens)
                    let response = try await gateway.complete(request, format: .anthropic, stream: true) { delta in
                        if case .text(let piece) = delta {
                            await events.emit(
                                "stream_event",
                                [
                                    "type": "stream_event", "session_id": .string(sessionId),
                                    "event": ["type": "content_block_delta", "delta": ["type": "text_delta", "text": .string(piece)]],
                                ])
                        }
                    }
                    meter.add(response)
                    conversation.append(response.message)
                    try await ledger.record(response.message, reply: response)
                    await events.emit("assistant", Self.assistantEvent(response, sessionId: sessionId))
                    if response.message.toolCalls.isEmpty {
                        answer = response.message
                        finishReason = response.finishReason
                    }
                }
                let output = answer?.text ?? ""
                await finish(subtype: "success", isError: false, result: output)
                return Self.result(
                    conversation, meter: meter, finish: finishReason, output: output, error: nil, model: model,
                    started: started, clock: clock)
            }
        } catch is CancellationError {
            await finish(subtype: "error_during_execution", isError: true, result: "cancelled")
            throw CancellationError()
        } catch let paused as ApprovalRequired {
            // Not finished: the session goes on once people decide (no `result` message yet).
            throw paused
        } catch let error as LLMError {
            await finish(subtype: "error_during_execution", isError: true, result: "\(error)")
            throw error.turnFailure
        } catch {
            await finish(subtype: "error_during_execution", isError: true, result: "\(error)")
            throw error
        }
    }

    /// Claude Code's order: PreToolUse hooks, then the permission rules and mode, then the tool,
    /// then PostToolUse hooks. Returns the invocation and, when it was refused, the denial record.
    func authorizeAndRun(
        _ call: ChatToolCall, executor: ToolExecutor, policy: PermissionPolicy, hooks: HookRunner, context: TurnContext
    ) async -> (ToolInvocation, JSONValue?) {
        let denial: JSONValue = [
            "tool_name": .string(call.name), "tool_use_id": .string(call.id), "tool_input": call.arguments,
        ]
        func refused(_ text: String) -> (ToolInvocation, JSONValue?) {
            (ToolInvocation(call: call, output: ToolOutput(text: text, isError: true), durationMs: 0), denial)
        }
        guard call.argumentsError == nil, let tool = executor.tool(named: call.name) else {
            // Bad arguments or an unknown tool: the executor explains it to the model.
            return (await executor.run(call), nil)
        }
        let before = await hooks.preToolUse(tool: call.name, input: call.arguments, context: executor.context)
        for warning in before.warnings {
            context.logger.warning("PreToolUse hook problem", metadata: ["warning": "\(warning)"])
        }
        if let message = before.blockMessage {
            return refused("Blocked by a PreToolUse hook: \(message)")
        }
        switch policy.evaluate(
            tool: call.name, isReadOnly: tool.isReadOnly, arguments: call.arguments, workspace: executor.context.workspace)
        {
        case .deny(let reason):
            return refused("Permission to use \(call.name) has been denied (\(reason)).")
        case .ask(let reason):
            // Headless: nobody can answer a prompt on the worker, so an ask becomes an approval
            // request that people answer through the API (or `bosun executions approve`).
            return await afterRun(
                await executor.run(call, approvalReason: "\(call.name) needs approval (\(reason))"), call: call,
                denial: denial, hooks: hooks, executor: executor, context: context)
        case .allow:
            break
        }
        return await afterRun(
            await executor.run(call), call: call, denial: denial, hooks: hooks, executor: executor, context: context)
    }

    /// PostToolUse hooks after a call ran.
    private func afterRun(
        _ invocation: ToolInvocation, call: ChatToolCall, denial: JSONValue, hooks: HookRunner, executor: ToolExecutor,
        context: TurnContext
    ) async -> (ToolInvocation, JSONValue?) {
        // Refused by a policy or a person, or waiting for one: nothing ran, no PostToolUse.
        if invocation.awaitingApproval != nil { return (invocation, nil) }
        if !invocation.ran { return (invocation, denial) }
        var invocation = invocation
        let after = await hooks.postToolUse(
            tool: call.name, input: call.arguments, response: .string(invocation.output.text), context: executor.context)
        for warning in after.warnings {
            context.logger.warning("PostToolUse hook problem", metadata: ["warning": "\(warning)"])
        }
        if let message = after.blockMessage {
            // The call already ran; a blocking PostToolUse hook can only tell the model.
            invocation.output = invocation.output.appendingHookFeedback(message)
        }
        return (invocation, nil)
    }

    static func systemPrompt(instructions: String, workspace: String) -> String {
        var prompt = instructions.isEmpty ? "You are a coding agent." : instructions
        prompt += "\n\nWorking directory: \(workspace). File tools only reach inside it."
        return prompt
    }

    static func result(
        _ conversation: Conversation, meter: UsageMeter, finish: FinishReason, output: String?, error: String?,
        model: String, started: Date, clock: ContinuousClock.Instant
    ) -> TurnResult {
        TurnResult(
            messages: conversation.turnMessages.map(\.jsonValue),
            toolCalls: conversation.turnToolCalls, usage: meter.usage, costUsd: meter.cost,
            finishReason: finish, output: output, error: error, model: meter.model ?? model,
            timings: TurnTimings(
                startedAt: started, durationMs: (ContinuousClock.now - clock).milliseconds,
                timeToFirstTokenMs: meter.timeToFirstTokenMs))
    }

    /// The model's reply as Claude Code prints it: an Anthropic message with content blocks.
    static func assistantEvent(_ response: ChatResponse, sessionId: String) -> JSONValue {
        var content: [JSONValue] = []
        if let text = response.message.text, !text.isEmpty { content.append(["type": "text", "text": .string(text)]) }
        for call in response.message.toolCalls {
            content.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": call.arguments])
        }
        return [
            "type": "assistant", "session_id": .string(sessionId),
            "message": [
                "role": "assistant", "model": .string(response.model), "content": .array(content),
                "stop_reason": response.rawFinishReason.map(JSONValue.string) ?? .null,
                "usage": [
                    "input_tokens": .number(Double(response.usage.inputTokens)),
                    "output_tokens": .number(Double(response.usage.outputTokens)),
                    "cache_read_input_tokens": .number(Double(response.usage.cacheReadTokens)),
                    "cache_creation_input_tokens": .number(Double(response.usage.cacheWriteTokens)),
                ],
            ],
        ]
    }

    static func userEvent(_ invocation: ToolInvocation, sessionId: String) -> JSONValue {
        [
            "type": "user", "session_id": .string(sessionId),
            "message": [
                "role": "user",
                "content": [
                    [
                        "type": "tool_result", "tool_use_id": .string(invocation.call.id),
                        "content": .string(String(invocation.output.text.prefix(4000))),
                        "is_error": .bool(invocation.output.isError),
                    ]
                ],
            ],
        ]
    }
}

/// The `claude_code` part of an agent's settings, in Claude Code's own shape.
struct ClaudeCodeSettings {
    let policy: PermissionPolicy
    let hooks: HookConfiguration

    /// Claude Code: a deny rule naming a whole tool (`Bash`) removes the tool.
    var removedTools: Set<String> { Set(policy.deny.filter { $0.specifier == nil }.map(\.toolName)) }

    init(_ settings: [String: JSONValue]) throws {
        let permissions = settings["permissions"]?.objectValue ?? [:]
        func rules(_ key: String) -> [String] { permissions[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        let modeName = permissions["defaultMode"]?.stringValue ?? PermissionMode.default.rawValue
        guard let mode = PermissionMode(rawValue: modeName) else {
            throw TurnFailure("unknown permission mode '\(modeName)'", retryable: false)
        }
        do {
            policy = try PermissionPolicy(mode: mode, allow: rules("allow"), ask: rules("ask"), deny: rules("deny"))
        } catch {
            throw TurnFailure("the agent's permission rules are invalid: \(error)", retryable: false)
        }
        do {
            hooks = try HookConfiguration(json: settings["hooks"] ?? [:])
        } catch {
            throw TurnFailure("the agent's hooks are invalid: \(error)", retryable: false)
        }
    }
}
