import BosunProtocol
import Foundation
import LLM
import Runtimes
import Testing

@Suite struct ConversationTests {
    func assignment(history: [TurnHistory] = [], input: JSONValue = "now?", ledger: [JSONValue] = []) -> TaskAssignment {
        RuntimeHarness.assignment(
            agent: RuntimeHarness.agent(runtime: "agno"), input: input, turn: history.count + 1,
            attempt: ledger.isEmpty ? 1 : 2, history: history, ledger: ledger)
    }

    @Test func historyIsCutToTheLastTurnsWithoutOrphanedToolResults() throws {
        let turn1 = TurnHistory(
            turn: 1, input: "first",
            messages: [
                ChatMessage(role: .assistant, toolCalls: [ChatToolCall(id: "a", name: "Bash", arguments: [:])]).jsonValue,
                ChatMessage.toolResult(id: "a", name: "Bash", text: "ok").jsonValue,
            ])
        // Turn 2 has no input (it continued turn 1) and starts with the result of turn 1's call.
        let turn2 = TurnHistory(
            turn: 2, input: .null,
            messages: [
                ChatMessage.toolResult(id: "a", name: "Bash", text: "late").jsonValue,
                ChatMessage(role: .assistant, text: "done").jsonValue,
            ])
        let all = try Conversation(assignment: assignment(history: [turn1, turn2]))
        #expect(all.messages.count == 6)
        let cut = try Conversation(assignment: assignment(history: [turn1, turn2]), historyTurns: 1)
        #expect(cut.messages.map(\.role) == [.assistant, .user])
        #expect(cut.turnStart == 2)
        #expect(cut.turnMessages.isEmpty)
    }

    @Test func structuredInputAndUnreadableMessages() throws {
        let structured = try Conversation(assignment: assignment(input: ["text": "from a form", "priority": 2]))
        #expect(structured.messages.last?.text == "from a form")
        let json = try Conversation(assignment: assignment(input: ["priority": 2]))
        #expect(json.messages.last?.text == #"{"priority":2}"#)
        #expect(throws: TurnFailure.self) {
            try Conversation(assignment: assignment(ledger: [["message": ["role": "wizard"]]]))
        }
    }

    @Test func pendingCallsAndReplayedAnswers() throws {
        let ledger: [JSONValue] = [
            [
                "message": ChatMessage(
                    role: .assistant,
                    toolCalls: [ChatToolCall(id: "1", name: "Read", arguments: [:]), ChatToolCall(id: "2", name: "Read", arguments: [:])]
                ).jsonValue,
                "usage": ["input_tokens": 10, "output_tokens": 2, "cache_read_tokens": 5], "cost_usd": 0.25,
            ],
            ["message": ChatMessage.toolResult(id: "2", name: "Read", text: "two").jsonValue],
        ]
        let replay = try Conversation(assignment: assignment(ledger: ledger))
        #expect(replay.replayedCount == 2)
        #expect(replay.replayedModelCalls == 1)
        #expect(replay.replayedUsage == Usage(inputTokens: 10, outputTokens: 2, cacheReadTokens: 5))
        #expect(replay.replayedCostUsd == 0.25)
        #expect(replay.pendingToolCalls.map(\.id) == ["1"])
        #expect(replay.replayedAnswer == nil)
        #expect(replay.turnToolCalls.map { $0.result != nil } == [false, true])
        let answered = try Conversation(
            assignment: assignment(ledger: ledger + [["message": ChatMessage(role: .assistant, text: "fine").jsonValue]]))
        #expect(answered.replayedAnswer?.text == "fine")
        #expect(answered.pendingToolCalls.isEmpty)
    }
}
