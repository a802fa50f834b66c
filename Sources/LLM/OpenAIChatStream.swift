import BosunProtocol
import Foundation

/// Reads a streamed chat-completions reply (`stream: true`): `data:` chunks of
/// `choices[0].delta`, a last chunk with `usage` and no choices (`stream_options.include_usage`),
/// then `data: [DONE]`.
public struct OpenAIChatStream: ChatStreamAccumulator, Sendable {
    /// A tool call being assembled. Its `id` and `name` arrive only in the first fragment for
    /// its `index`; later fragments carry pieces of the arguments text.
    private struct PartialToolCall: Sendable {
        var id: String?
        var name: String?
        var arguments = ""
        var announced = false
    }

    private var text = ""
    private var toolCalls: [Int: PartialToolCall] = [:]
    private var rawFinishReason: String?
    private var usage = Usage()
    private var done = false

    public init() {}

    public mutating func consume(_ event: ServerSentEvent) throws -> [ChatDelta] {
        let payload = event.data.trimmingCharacters(in: .whitespaces)
        if payload == "[DONE]" {
            done = true
            return []
        }
        if payload.isEmpty { return [] }
        let chunk = try WireJSON.decode(Data(payload.utf8), what: "a chat-completions stream chunk")
        if let error = ProviderErrorBody(chunk), chunk["choices"] == nil {
            throw LLMError(
                .providerError, "the stream reported an error", providerMessage: error.summary,
                retryable: error.isRetryable)
        }
        if let usage = chunk["usage"], usage.objectValue != nil {
            self.usage = OpenAIChatWire.usage(usage)
        }
        // One choice is asked for (no `n`); others would be a different answer, not more of this one.
        guard let choice = chunk["choices"]?.arrayValue?.first(where: { ($0["index"]?.intValue ?? 0) == 0 })
        else { return [] }

        var deltas: [ChatDelta] = []
        if let delta = choice["delta"] {
            if let piece = delta["content"]?.stringValue ?? delta["refusal"]?.stringValue, !piece.isEmpty {
                text += piece
                        deltas.append(.text(piece))
            }
            for fragment in delta["tool_calls"]?.arrayValue ?? [] {
                let index = fragment["index"]?.intValue ?? 0
                var call = toolCalls[index] ?? PartialToolCall()
                if let id = fragment["id"]?.stringValue, !id.isEmpty, call.id == nil { call.id = id }
                if let name = fragment["function"]?["name"]?.stringValue, !name.isEmpty, call.name == nil {
                    call.name = name
                }
                if let piece = fragment["function"]?["arguments"]?.stringValue { call.arguments += piece }
                if !call.announced, let id = call.id, let name = call.name {
                    call.announced = true
                    deltas.append(.toolCallStarted(id: id, name: name))
                }
                toolCalls[index] = call
            }
        }
        if let reason = choice["finish_reason"]?.stringValue { rawFinishReason = reason }
        return deltas
    }

    /// A stream is complete with `[DONE]` or a finish reason (some proxies drop `[DONE]`).
    public func finish() throws -> ChatReply {
        guard done || rawFinishReason != nil else {
            throw LLMError(
                .truncatedStream, "the chat-completions stream ended without a finish reason or [DONE]")
        }
        let calls = toolCalls.sorted { $0.key < $1.key }.map { index, call in
            ChatToolCall(id: call.id ?? "call_\(index)", name: call.name ?? "", rawArguments: call.arguments)
        }
        return ChatReply(
            message: ChatMessage(role: .assistant, text: text.isEmpty ? nil : text, toolCalls: calls),
            finishReason: OpenAIChatWire.finishReason(rawFinishReason, hasToolCalls: !calls.isEmpty),
            rawFinishReason: rawFinishReason,
            usage: usage)
    }
}
