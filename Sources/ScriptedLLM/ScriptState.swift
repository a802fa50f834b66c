import BosunProtocol

/// The script being played, the uses each entry has left, and the request log.
actor ScriptState {
    static let fixedText = "Hello from the scripted LLM."
    static let exhaustedMessage = "scripted LLM: no scripted reply left for this request"

    /// What a request gets.
    enum Outcome: Sendable {
        case reply(ReplyPlan)
        case exhausted
    }

    private var script: ScriptedLLMScript?
    private var usesLeft: [Int] = []
    private var log: [ScriptedLLMRequest] = []
    private var messages = 0
    private var toolCalls = 0

    init(script: ScriptedLLMScript?) {
        self.script = script
        usesLeft = Self.uses(of: script)
    }

    func replace(script: ScriptedLLMScript?) {
        self.script = script
        restoreUses()
    }

    /// Clears the log, restores every entry's uses and restarts the generated ids.
    func reset() {
        log = []
        messages = 0
        toolCalls = 0
        restoreUses()
    }

    func requests() -> [ScriptedLLMRequest] { log }

    /// Picks the reply for a request, consumes one use of its entry and logs the request.
    /// `entry` is the request's log entry with everything but the answer filled in.
    func answer(_ request: IncomingRequest, entry: ScriptedLLMRequest) -> (Outcome, ScriptedLLMRequest) {
        var record = entry
        let chosen: ScriptedLLMScript.Reply?
        if let script {
            if let index = script.replies.indices.first(where: { usesLeft[$0] > 0 && request.fits(script.replies[$0].match) }) {
                usesLeft[index] -= 1
                chosen = script.replies[index]
                record.answer = .entry
                record.entry = index
            } else if let fallback = script.default {
                chosen = fallback
                record.answer = .default
            } else {
                chosen = nil
                record.answer = .exhausted
            }
        } else {
            chosen = ScriptedLLMScript.Reply(text: Self.fixedText)
            record.answer = .fixed
        }
        let outcome: Outcome
        if let chosen {
            messages += 1
            let plan = ReplyPlan(
                reply: chosen, request: request, messageNumber: messages, firstToolCallNumber: toolCalls + 1)
            toolCalls += plan.toolCalls.count
            record.status = chosen.fault?.status ?? 200
            outcome = .reply(plan)
        } else {
            record.status = 500
            outcome = .exhausted
        }
        return (outcome, append(record))
    }

    /// Logs a request that was turned away before the script was consulted.
    @discardableResult
    func record(_ entry: ScriptedLLMRequest) -> ScriptedLLMRequest { append(entry) }

    private func append(_ entry: ScriptedLLMRequest) -> ScriptedLLMRequest {
        var entry = entry
        entry.sequence = log.count + 1
        log.append(entry)
        return entry
    }

    private func restoreUses() {
        usesLeft = Self.uses(of: script)
    }

    private static func uses(of script: ScriptedLLMScript?) -> [Int] {
        script?.replies.map { $0.times ?? 1 } ?? []
    }
}
