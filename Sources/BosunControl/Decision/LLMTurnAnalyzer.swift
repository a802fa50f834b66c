import BosunProtocol
import Foundation
import LLM
import Logging

/// The LLM analyzer of the state decision: it sees only the turns the rules call ambiguous,
/// answers with strict JSON `{state, confidence, reasoning}`, and has a time budget. Slow,
/// failing, or an answer that breaks the schema: the rules' fallback stands, and the recorded
/// decision says so.
public struct LLMTurnAnalyzer: TurnAnalyzer {
    let gateway: LLMGateway
    let model: String
    let budget: Duration
    /// Below this the analyzer's answer is not trusted over the rules'.
    let minimumConfidence: Double
    let logger: Logger

    /// The decisions it may take: the same ones a user may override to.
    public static let states = TransitionOverrideRequest.targets
    public static let schema: JSONValue = [
        "type": "object",
        "properties": [
            "state": ["type": "string", "enum": .array(states.map(JSONValue.string))],
            "confidence": ["type": "number", "minimum": 0, "maximum": 1],
            "reasoning": ["type": "string", "maxLength": 2000],
        ],
        "required": ["state", "confidence", "reasoning"],
        "additionalProperties": false,
    ]

    public init(gateway: LLMGateway, model: String, budget: Duration, minimumConfidence: Double = 0.5, logger: Logger) {
        self.gateway = gateway
        self.model = model
        self.budget = budget
        self.minimumConfidence = minimumConfidence
        self.logger = logger
    }

    public func analyze(_ request: AnalysisRequest) async -> StateDecision {
        let chat = ChatRequest(
            model: model, system: Self.instructions, messages: [.user(Self.question(request))], maxTokens: 300,
            temperature: 0, responseSchema: ResponseSchema(name: "state_decision", schema: Self.schema))
        let answer: Result<ChatResponse, any Error> = await withTaskGroup(of: Result<ChatResponse, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await gateway.complete(chat, format: .openAI, stream: false)) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: budget)
                return nil
            }
            // Whichever ends first; the other is cancelled (which also stops the HTTP request).
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(AnalyzerTimeout(budget: budget))
        }
        switch answer {
        case .failure(let error):
            logger.warning("state analyzer unavailable; the rules decide", metadata: ["error": "\(error)"])
            return fallback(request, because: error is AnalyzerTimeout ? "it exceeded its \(budget) budget" : "it failed: \(error)")
        case .success(let response):
            guard let value = StructuredAnswer.parse(response.message.text ?? "") else {
                return fallback(request, because: "its answer was not JSON")
            }
            let problems = JSONSchemaValidator(schema: Self.schema).violations(of: value)
            guard problems.isEmpty, let state = value["state"]?.stringValue, let next = NextStep(rawValue: state),
                let confidence = value["confidence"]?.numberValue
            else {
                return fallback(request, because: "its answer broke the schema (\(problems.prefix(3).joined(separator: "; ")))")
            }
            guard confidence >= minimumConfidence else {
                return fallback(request, because: "its confidence \(confidence) is below \(minimumConfidence)")
            }
            let reasoning = value["reasoning"]?.stringValue ?? ""
            return StateDecision(next: next, reason: reasoning, decider: "llm:\(response.model)", confidence: confidence)
        }
    }

    func fallback(_ request: AnalysisRequest, because: String) -> StateDecision {
        var decision = request.fallback
        decision.reason += " (the analyzer was not used: \(because))"
        decision.decider = "rules"
        return decision
    }

    struct AnalyzerTimeout: Error, CustomStringConvertible {
        let budget: Duration
        var description: String { "no answer within \(budget)" }
    }

    static let instructions = """
        You decide what an AI agent execution does after one of its turns. Answer with only a JSON object \
        {"state": ..., "confidence": 0..1, "reasoning": "..."}. States: "completed" (the agent finished the \
        task and its answer stands), "waiting_for_input" (the agent asked the user a question or needs \
        information, a choice or a confirmation from them), "continue" (the agent is not finished and can go \
        on without the user), "failed" (the agent cannot complete the task). A closing courtesy such as \
        "anything else?" after a complete answer is "completed".
        """

    static func question(_ request: AnalysisRequest) -> String {
        let input: String =
            switch request.input {
            case .null: "(no new user input: the turn continued the previous one)"
            case .string(let text): text
            default: request.input.jsonString
            }
        let answer = request.result.output ?? "(no text answer)"
        return """
            Turn \(request.turn).
            User input:
            \(input.prefix(4000))

            The agent's final answer in this turn:
            \(answer.suffix(4000))

            Tool calls in this turn: \(request.result.toolCalls.count). Finish reason: \(request.result.finishReason.rawValue).
            """
    }
}


