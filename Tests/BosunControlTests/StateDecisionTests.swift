import BosunControl
import BosunProtocol
import Testing

@Suite struct StateDecisionTests {
    let context = DecisionContext(turn: 1, maxTurns: 3, cancelRequested: false)

    func decide(_ result: TurnResult, _ context: DecisionContext? = nil) async -> NextStep {
        RuleBasedDecider.evaluate(result, context: context ?? self.context).decision.next
    }

    @Test func rules() async {
        #expect(await decide(TurnResult(finishReason: .stop, output: "Done.")) == .completed)
        #expect(await decide(TurnResult(finishReason: .toolCalls)) == .continue)
        #expect(await decide(TurnResult(toolCalls: [ToolCallRecord(id: "1", name: "t", arguments: [:])], finishReason: .stop, output: "x")) == .continue)
        #expect(await decide(TurnResult(finishReason: .length, output: "partial")) == .continue)
        #expect(await decide(TurnResult(finishReason: .stop, output: "ok", error: "boom")) == .failed)
        #expect(await decide(TurnResult(finishReason: .error)) == .failed)
        #expect(await decide(TurnResult(finishReason: .contentFilter)) == .failed)
        #expect(await decide(TurnResult(finishReason: .stop, output: "ok", requestsInput: true)) == .waitingForInput)
        #expect(await decide(TurnResult(finishReason: .stop, output: "Which city do you mean?")) == .waitingForInput)
        #expect(await decide(TurnResult(finishReason: .toolCalls), DecisionContext(turn: 3, maxTurns: 3, cancelRequested: false)) == .failed)
        #expect(await decide(TurnResult(finishReason: .stop, output: "Done."), DecisionContext(turn: 1, maxTurns: 3, cancelRequested: true)) == .cancelled)
    }

    @Test func aQuestionIsAmbiguousForTheAnalyzer() {
        let outcome = RuleBasedDecider.evaluate(TurnResult(finishReason: .stop, output: "Shall I go on?"), context: context)
        guard case .ambiguous(let decision) = outcome else {
            Issue.record("expected an ambiguous outcome, got \(outcome)")
            return
        }
        #expect(decision.next == .waitingForInput)
        #expect(decision.confidence < 1)
    }
}
