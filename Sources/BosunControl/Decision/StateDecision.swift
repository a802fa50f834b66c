import BosunProtocol
import Foundation

/// What an execution does after a turn.
public enum NextStep: String, Sendable, Equatable {
    case completed
    case waitingForInput = "waiting_for_input"
    case `continue`
    case failed
    case cancelled
}

public struct StateDecision: Sendable, Equatable {
    public var next: NextStep
    public var reason: String
    /// Who decided: `rules`, `llm:<model>` (the analyzer), `user` (an override) or `system`.
    public var decider: String
    public var confidence: Double

    public init(next: NextStep, reason: String, decider: String = "rules", confidence: Double = 1) {
        self.next = next
        self.reason = reason
        self.decider = decider
        self.confidence = confidence
    }
}

/// Facts about the execution that the rules need besides the turn itself.
public struct DecisionContext: Sendable {
    public var turn: Int
    public var maxTurns: Int
    public var cancelRequested: Bool

    public init(turn: Int, maxTurns: Int, cancelRequested: Bool) {
        self.turn = turn
        self.maxTurns = maxTurns
        self.cancelRequested = cancelRequested
    }
}

/// What the analyzer is asked about: an ambiguous turn, with the rules' answer as the fallback.
public struct AnalysisRequest: Sendable {
    public var turn: Int
    /// The user input the turn answered (`null` when the turn continued the previous one).
    public var input: JSONValue
    public var result: TurnResult
    /// The rules' best guess; the analyzer returns it (marked as a fallback) when it cannot do better.
    public var fallback: StateDecision

    public init(turn: Int, input: JSONValue, result: TurnResult, fallback: StateDecision) {
        self.turn = turn
        self.input = input
        self.result = result
        self.fallback = fallback
    }
}

/// Settles the turns the rules call ambiguous (an answer that may be a question, an empty
/// answer). It never fails: when it is slow, wrong or down it returns the fallback, saying why.
public protocol TurnAnalyzer: Sendable {
    func analyze(_ request: AnalysisRequest) async -> StateDecision
}

/// The deterministic rules: every clear case is theirs; the analyzer only sees the rest.
public enum RuleBasedDecider {
    public static let defaultMaxTurns = 25

    public enum Outcome: Sendable, Equatable {
        case decided(StateDecision)
        /// The rules' best guess when they cannot be sure; an analyzer may overrule it.
        case ambiguous(StateDecision)

        public var decision: StateDecision {
            switch self {
            case .decided(let decision), .ambiguous(let decision): decision
            }
        }

        public var isAmbiguous: Bool {
            if case .ambiguous = self { return true }
            return false
        }
    }

    public static func evaluate(_ result: TurnResult, context: DecisionContext) -> Outcome {
        if context.cancelRequested {
            return .decided(StateDecision(next: .cancelled, reason: "cancellation was requested"))
        }
        if let error = result.error, !error.isEmpty {
            return .decided(StateDecision(next: .failed, reason: "the turn reported an error: \(error)"))
        }
        switch result.finishReason {
        case .error:
            return .decided(StateDecision(next: .failed, reason: "the turn ended with an error"))
        case .cancelled:
            return .decided(StateDecision(next: .cancelled, reason: "the turn was cancelled"))
        case .contentFilter:
            return .decided(StateDecision(next: .failed, reason: "the model's output was blocked by a content filter"))
        default:
            break
        }
        if result.requestsInput {
            return .decided(StateDecision(next: .waitingForInput, reason: "the agent asked the user for input"))
        }
        let pendingTools = result.toolCalls.contains { $0.result == nil }
        let wantsAnotherTurn: String? =
            if pendingTools || result.finishReason == .toolCalls {
                "tool calls are pending"
            } else if result.finishReason == .length {
                "the answer was cut off at the token limit"
            } else if result.finishReason == .pause {
                "the provider paused the turn"
            } else {
                nil
            }
        if let wantsAnotherTurn {
            if context.turn >= context.maxTurns {
                return .decided(
                    StateDecision(next: .failed, reason: "\(wantsAnotherTurn), but the turn limit (\(context.maxTurns)) is reached"))
            }
            return .decided(StateDecision(next: .continue, reason: wantsAnotherTurn))
        }
        let answer = (result.output ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if answer.hasSuffix("?") {
            return .ambiguous(
                StateDecision(next: .waitingForInput, reason: "the answer ends with a question to the user", confidence: 0.7))
        }
        if answer.isEmpty {
            return .ambiguous(StateDecision(next: .completed, reason: "the turn ended without a text answer", confidence: 0.6))
        }
        return .decided(StateDecision(next: .completed, reason: "the agent gave its answer"))
    }
}
