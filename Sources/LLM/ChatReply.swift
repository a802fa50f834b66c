import BosunProtocol

/// What a provider answered, read off the wire: the part of a `ChatResponse` that comes from
/// the reply itself. The gateway adds the model used, cost, timings and attempts.
public struct ChatReply: Sendable, Equatable {
    public var message: ChatMessage
    public var finishReason: FinishReason
    /// The provider's stop reason as sent.
    public var rawFinishReason: String?
    public var usage: Usage

    public init(message: ChatMessage, finishReason: FinishReason, rawFinishReason: String?, usage: Usage) {
        self.message = message
        self.finishReason = finishReason
        self.rawFinishReason = rawFinishReason
        self.usage = usage
    }

    /// The deltas a streaming caller would have seen for this reply; used when a gateway
    /// answers a streaming request with a plain JSON body, so `onDelta` still sees the output.
    var deltas: [ChatDelta] {
        var deltas: [ChatDelta] = []
        if let text = message.text, !text.isEmpty { deltas.append(.text(text)) }
        for call in message.toolCalls { deltas.append(.toolCallStarted(id: call.id, name: call.name)) }
        return deltas
    }
}
