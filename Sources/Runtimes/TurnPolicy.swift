import BosunProtocol
import Foundation
import LLM
import Policy

/// The policies in force for one turn, as the task brought them from the control API. Every
/// tool call is decided here before it runs, without a round trip; anything that cannot be
/// decided is denied.
public struct TurnPolicy: Sendable {
    public let evaluator: PolicyEvaluator
    let assignment: TaskAssignment
    let events: any TurnEventSink

    /// The event a decision is reported in; the control API writes it to the audit log.
    public static let decisionEvent = "policy_decision"

    /// Reads the task's policies and checks the turn may run at all (model, sandbox profile).
    /// Policies that cannot be read fail the turn for good: running without them would be
    /// running unchecked.
    public static func check(_ context: TurnContext, model: String) throws -> TurnPolicy {
        let evaluator: PolicyEvaluator
        do {
            evaluator = try PolicyEvaluator(context.assignment.policies)
        } catch {
            throw TurnFailure("the task's policies cannot be evaluated, so nothing runs: \(error.message)", retryable: false)
        }
        let decision = evaluator.execution(model: model, sandboxProfile: context.assignment.agent.sandboxProfile)
        guard decision.isAllowed else {
            throw TurnFailure("denied by policy: \(decision.reason)", retryable: false)
        }
        return TurnPolicy(evaluator: evaluator, assignment: context.assignment, events: context.events)
    }

    /// Gateway settings without the fallback models the policies do not allow: a fallback must
    /// not become a way around `models.allow`.
    public func settings(_ settings: LLMSettings) -> LLMSettings {
        var settings = settings
        settings.fallbacks = settings.fallbacks.filter {
            evaluator.execution(model: $0, sandboxProfile: assignment.agent.sandboxProfile).isAllowed
        }
        return settings
    }

    /// The toolset without the tools a rule denies outright: the model is never offered them.
    /// (Calling one anyway is still denied by `decide`.)
    public func offered(_ toolset: Toolset) -> Toolset {
        let denied = Set(toolset.specs.map(\.name).filter { !evaluator.offers(tool: $0) })
        return denied.isEmpty ? toolset : toolset.removing(denied)
    }

    /// The quotas' word before a model call: nil lets the call go ahead, a denial ends the turn.
    /// The usage counted is what the task says was used before it (the execution's finished
    /// turns, the organization's turns today) plus `turn`, this turn's own use including replayed
    /// attempts. Since usage only grows (a turn running across midnight UTC still counts from the
    /// day it was claimed, which errs towards denying), a quota this breaks is broken for the
    /// control API too.
    /// With no quota in force nothing is checked or reported; a quota with no usage to check it
    /// against denies.
    public func quotaDenial(model: String, turn: QuotaUsage) async -> PolicyDecision? {
        guard evaluator.hasQuota else { return nil }
        let before = assignment.usageSoFar
        let execution = (before?.execution ?? .zero) + turn
        let today = before?.organizationToday.map { $0 + turn }
        let decision: PolicyDecision =
            if before == nil {
                .evaluationFailed("the task does not say how much the execution has used")
            } else if evaluator.hasOrganizationQuota, today == nil {
                .evaluationFailed("the task does not say how much the organization has used today")
            } else {
                evaluator.quotas(execution: execution, organizationToday: today)
            }
        var data = decision.json.objectValue ?? [:]
        data["input"] = PolicyInput.modelCall(
            model: model, execution: assignment.executionId, turn: assignment.turn, agent: assignment.agent,
            executionUsage: execution, turnUsage: turn, organizationToday: today)
        await events.emit(Self.decisionEvent, .object(data))
        return decision.isAllowed ? nil : decision
    }

    /// What people decided about this call, when it waited for approval in an earlier attempt.
    public func resolution(for call: ChatToolCall) -> ApprovalResolution? {
        assignment.approvals.last { $0.toolCallId == call.id && $0.toolName == call.name }
    }

    /// Decides one call and reports the decision (with its input) when any policy is in force.
    public func decide(_ call: ChatToolCall) async -> PolicyDecision {
        let decision = evaluator.toolCall(call.name)
        if !evaluator.entries.isEmpty {
            var data = decision.json.objectValue ?? [:]
            data["tool"] = .string(call.name)
            data["tool_call_id"] = .string(call.id)
            data["input"] = PolicyInput.toolCall(
                tool: call.name, arguments: call.arguments, execution: assignment.executionId, turn: assignment.turn,
                agent: assignment.agent)
            await events.emit(Self.decisionEvent, .object(data))
        }
        return decision
    }
}

/// Thrown by a runtime when calls need a person's approval and none was given yet: the worker
/// parks the task (`await-approval`); the calls' earlier siblings are already in the ledger.
public struct ApprovalRequired: Error, Sendable, CustomStringConvertible {
    public let requests: [ApprovalRequest]
    public init(_ requests: [ApprovalRequest]) { self.requests = requests }
    public var description: String {
        "waiting for approval of \(requests.map(\.toolName).joined(separator: ", "))"
    }
}
