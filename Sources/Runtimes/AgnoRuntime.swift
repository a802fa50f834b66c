import BosunProtocol
import Foundation
import LLM
import Logging

/// The Agno-style runtime (`agno`): instructions + history + input go to the model over the
/// OpenAI chat-completions format; the tool calls it returns run concurrently, their results
/// are appended, and the loop repeats until the model answers without tools. Events follow
/// Agno's names: RunStarted, RunContent, ToolCallStarted, ToolCallCompleted, RunCompleted,
/// RunError, RunCancelled.
public struct AgnoRuntime: Runtime {
    public let name = "agno"
    public let version = "1.0.0"
    let llm: LLMAccess
    let tools: [any AgentTool]

    public static let defaultIterations = 10
    public static let defaultHistoryTurns = 10

    public init(llm: LLMAccess, tools: [any AgentTool] = ToolBox.builtIns()) {
        self.llm = llm
        self.tools = tools
    }

    public func runTurn(_ context: TurnContext) async throws -> TurnResult {
        let assignment = context.assignment
        let runId = "\(assignment.executionId.uuidString.lowercased())-\(assignment.turn)"
        let started = Date()
        let clock = ContinuousClock.now
        let events = context.events
        do {
            let options = try AgentOptions(
                agent: assignment.agent, defaultIterations: Self.defaultIterations, iterationLimitKey: "max_iterations",
                defaultHistoryTurns: Self.defaultHistoryTurns)
            let model = try LLMAccess.model(for: assignment.agent, settings: context.llm)
            let policy = try TurnPolicy.check(context, model: model)
            let gateway = try llm.gateway(for: policy.settings(context.llm), logger: context.logger)
            let builtIns = try Toolset(available: tools, names: options.toolNames, defaultAll: false)
            return try await TurnMCPTools.with(
                agent: assignment.agent, workspace: context.workspace, sandbox: context.sandbox,
                secrets: context.processes.secrets, logger: context.logger
            ) { mcp in
                let toolset = policy.offered(builtIns.adding(mcp.tools))
                var conversation = try Conversation(assignment: assignment, historyTurns: options.historyTurns)
                let ledger = TurnLedger(events: events)
                let executor = try ToolExecutor(context: context, toolset: toolset, policy: policy)
                var meter = UsageMeter(replayed: conversation)
                var toolCallsMade = conversation.turnMessages.filter { $0.role == .tool }.count

                await events.emit(
                    "RunStarted",
                    [
                        "run_id": .string(runId), "agent_id": .string(assignment.agent.id.uuidString.lowercased()),
                        "agent_name": .string(assignment.agent.name), "model": .string(model),
                        "attempt": .number(Double(assignment.attempt)),
                        "replayed_messages": .number(Double(conversation.replayedCount)),
                    ])
                for (server, status) in mcp.statuses where status != "connected" {
                    await events.emit(
                        "RunWarning",
                        ["content": .string("MCP server '\(server)' is not available (\(status)); its tools are missing")])
                }

                var finish: FinishReason = .stop
                var answer: ChatMessage? = conversation.replayedAnswer
                var schemaRetries = 0
                var quotaError: String?
                loop: while answer == nil {
                    // Calls the model asked for that have no result yet (a replayed attempt's unfinished work).
                    let pending = conversation.pendingToolCalls
                    if !pending.isEmpty {
                        for invocation in try await runTools(
                            pending, executor: executor, limit: options.toolCallLimit, made: &toolCallsMade, events: events)
                        {
                            conversation.append(invocation.resultMessage)
                        }
                        continue
                    }
                    if meter.calls >= options.maxIterations {
                        // Out of iterations with the model still working: the next turn continues.
                        finish = .toolCalls
                        break loop
                    }
                    if let denial = await policy.quotaDenial(model: model, turn: meter.quotaUsage) {
                        // Ended, not thrown: the turn is recorded with what it used, and the
                        // execution fails on its error.
                        finish = .error
                        quotaError = "denied by policy: \(denial.reason)"
                        break loop
                    }
                    try Task.checkCancellation()
                    let request = ChatRequest(
                        model: model, system: assignment.agent.instructions.isEmpty ? nil : assignment.agent.instructions,
                        messages: conversation.messages, tools: toolset.specs, maxTokens: options.maxTokens,
                        parallelToolCalls: toolset.specs.isEmpty ? nil : true,
                        // Not strict: OpenAI's strict mode refuses ordinary schemas (it wants every
                        // property required and no additional ones); the answer is validated here anyway.
                        responseSchema: options.outputSchema.map { ResponseSchema(name: "answer", schema: $0, strict: false) })
                    let response = try await gateway.complete(request, format: .openAI, stream: true) { delta in
                        if case .text(let piece) = delta {
                            await events.emit("RunContent", ["run_id": .string(runId), "content": .string(piece)])
                        }
                    }
                    meter.add(response)
                    conversation.append(response.message)
                    try await ledger.record(response.message, reply: response)
                    if !response.message.toolCalls.isEmpty { continue }
                    if response.finishReason != .stop {
                        finish = response.finishReason
                        answer = response.message
                        break loop
                    }
                    if let schema = options.outputSchema {
                        let problems = Self.schemaProblems(response.message.text ?? "", schema: schema)
                        if !problems.isEmpty {
                            // One correction round: tell the model what was wrong and ask again.
                            guard schemaRetries < 1, meter.calls < options.maxIterations else {
                                throw TurnFailure(
                                    "the answer does not match the output schema: \(problems.prefix(5).joined(separator: "; "))",
                                    retryable: false)
                            }
                            schemaRetries += 1
                            let correction = ChatMessage.user(
                                "Your answer does not match the required JSON schema: \(problems.prefix(5).joined(separator: "; ")). Answer again with only the JSON object.")
                            conversation.append(correction)
                            try await ledger.record(correction)
                            continue
                        }
                    }
                    answer = response.message
                }

                let output = answer?.text
                let metrics = meter.metrics(duration: ContinuousClock.now - clock)
                if let quotaError {
                    await events.emit(
                        "RunError", ["run_id": .string(runId), "content": .string(quotaError), "metrics": metrics])
                } else {
                    await events.emit(
                        "RunCompleted",
                        ["run_id": .string(runId), "content": output.map(JSONValue.string) ?? .null, "metrics": metrics])
                }
                return TurnResult(
                    messages: conversation.turnMessages.map(\.jsonValue), toolCalls: conversation.turnToolCalls,
                    usage: meter.usage, costUsd: meter.cost, finishReason: finish, output: output, error: quotaError,
                    model: meter.model ?? model,
                    timings: TurnTimings(
                        startedAt: started, durationMs: (ContinuousClock.now - clock).milliseconds,
                        timeToFirstTokenMs: meter.timeToFirstTokenMs))
            }
        } catch is CancellationError {
            await events.emit("RunCancelled", ["run_id": .string(runId), "reason": "the turn was cancelled"])
            throw CancellationError()
        } catch let paused as ApprovalRequired {
            await events.emit(
                "RunPaused",
                ["run_id": .string(runId), "reason": .string("\(paused)"),
                 "tools": .array(paused.requests.map { .string($0.toolName) })])
            throw paused
        } catch let error as LLMError {
            await events.emit("RunError", ["run_id": .string(runId), "content": .string("\(error)")])
            throw error.turnFailure
        } catch {
            await events.emit("RunError", ["run_id": .string(runId), "content": .string("\(error)")])
            throw error
        }
    }

    /// Runs a batch of calls concurrently, each result recorded in the ledger the moment it exists.
    /// Calls past the tool-call limit get an error result instead of running.
    func runTools(
        _ calls: [ChatToolCall], executor: ToolExecutor, limit: Int?, made: inout Int, events: any TurnEventSink
    ) async throws -> [ToolInvocation] {
        var allowed: [ChatToolCall] = []
        var refused: [ToolInvocation] = []
        for call in calls {
            if let limit, made >= limit {
                refused.append(
                    ToolInvocation(
                        call: call,
                        output: ToolOutput(
                            text: "Tool call limit reached (\(limit) calls in this turn); answer with what you have.",
                            isError: true), durationMs: 0))
            } else {
                made += 1
                allowed.append(call)
            }
        }
        let ledger = TurnLedger(events: events)
        let results = try await withThrowingTaskGroup(of: (Int, ToolInvocation).self) { group in
            for (index, call) in allowed.enumerated() {
                group.addTask {
                    await events.emit(
                        "ToolCallStarted",
                        ["tool": ["tool_call_id": .string(call.id), "tool_name": .string(call.name), "tool_args": call.arguments]])
                    let invocation = await executor.run(call)
                    // A call waiting for approval has no result: nothing to record yet.
                    if invocation.awaitingApproval != nil { return (index, invocation) }
                    try await ledger.record(invocation.resultMessage)
                    await events.emit("ToolCallCompleted", ["tool": invocation.eventData])
                    return (index, invocation)
                }
            }
            var collected: [(Int, ToolInvocation)] = []
            for try await item in group { collected.append(item) }
            return collected.sorted { $0.0 < $1.0 }.map(\.1)
        }
        for invocation in refused {
            try await ledger.record(invocation.resultMessage)
            await events.emit("ToolCallCompleted", ["tool": invocation.eventData])
        }
        // The others ran and are recorded; these wait for people (the task is parked).
        let waiting = results.compactMap(\.awaitingApproval)
        if !waiting.isEmpty { throw ApprovalRequired(waiting) }
        // In the order the model asked for them.
        let byId = Dictionary((results + refused).map { ($0.call.id, $0) }, uniquingKeysWith: { first, _ in first })
        return calls.compactMap { byId[$0.id] }
    }

    static func schemaProblems(_ text: String, schema: JSONValue) -> [String] {
        guard let value = StructuredAnswer.parse(text) else { return ["the answer is not JSON"] }
        return JSONSchemaValidator(schema: schema).violations(of: value)
    }
}
