import BosunProtocol
import Foundation

/// Reads a streamed Messages reply: `message_start`, then per content block
/// `content_block_start`, `content_block_delta`s and `content_block_stop`, then
/// `message_delta` (stop reason, output tokens) and `message_stop`. `ping` may come anywhere
/// and is ignored; an `error` event ends the reply with an error.
public struct AnthropicMessagesStream: ChatStreamAccumulator, Sendable {
    private enum Block: Sendable {
        case text
        /// `input_json_delta` fragments are not JSON until the block stops; they are
        /// collected per block index and parsed then.
        case toolUse(id: String, name: String, json: String, initialInput: JSONValue)
        /// Thinking and server-tool blocks: not part of the answer.
        case other
    }

    private var blocks: [Int: Block] = [:]
    private var finishedToolCalls: [Int: ChatToolCall] = [:]
    private var text = ""
    private var rawStopReason: String?
    private var usage = Usage()
    private var stopped = false

    public init() {}

    public mutating func consume(_ event: ServerSentEvent) throws -> [ChatDelta] {
        let payload = event.data.trimmingCharacters(in: .whitespaces)
        if payload.isEmpty { return [] }
        let json = try WireJSON.decode(Data(payload.utf8), what: "a messages stream event")
        // The `type` inside the data is authoritative; the SSE event name is a fallback.
        let type = json["type"]?.stringValue ?? event.event ?? ""
        switch type {
        case "message_start":
            AnthropicMessagesWire.merge(json["message"]?["usage"], into: &usage)
        case "content_block_start":
            return startBlock(index: json["index"]?.intValue ?? 0, json["content_block"] ?? .null)
        case "content_block_delta":
            return applyDelta(index: json["index"]?.intValue ?? 0, json["delta"] ?? .null)
        case "content_block_stop":
            stopBlock(index: json["index"]?.intValue ?? 0)
        case "message_delta":
            if let reason = json["delta"]?["stop_reason"]?.stringValue { rawStopReason = reason }
            AnthropicMessagesWire.merge(json["usage"], into: &usage)
        case "message_stop":
            stopped = true
        case "error":
            let error = ProviderErrorBody(json) ?? ProviderErrorBody(message: WireJSON.prefix(of: payload))
            throw LLMError(
                .providerError, "the stream reported an error", providerMessage: error.summary,
                retryable: error.isRetryable)
        default:
            break  // `ping`, and event types newer than this client.
        }
        return []
    }

    private mutating func startBlock(index: Int, _ block: JSONValue) -> [ChatDelta] {
        switch block["type"]?.stringValue {
        case "text":
            blocks[index] = .text
            return appendText(block["text"]?.stringValue ?? "")
        case "tool_use":
            let id = block["id"]?.stringValue ?? "toolu_\(index)"
            let name = block["name"]?.stringValue ?? ""
            blocks[index] = .toolUse(id: id, name: name, json: "", initialInput: block["input"] ?? .object([:]))
            return [.toolCallStarted(id: id, name: name)]
        default:
            blocks[index] = .other
            return []
        }
    }

    private mutating func applyDelta(index: Int, _ delta: JSONValue) -> [ChatDelta] {
        switch (blocks[index], delta["type"]?.stringValue) {
        case (.text?, "text_delta"), (nil, "text_delta"):
            blocks[index] = .text
            return appendText(delta["text"]?.stringValue ?? "")
        case (.toolUse(let id, let name, let json, let initial)?, "input_json_delta"):
            let piece = delta["partial_json"]?.stringValue ?? ""
            blocks[index] = .toolUse(id: id, name: name, json: json + piece, initialInput: initial)
        default:
            break  // thinking_delta, signature_delta, citations_delta.
        }
        return []
    }

    private mutating func appendText(_ piece: String) -> [ChatDelta] {
        guard !piece.isEmpty else { return [] }
        text += piece
        return [.text(piece)]
    }

    private mutating func stopBlock(index: Int) {
        guard case .toolUse(let id, let name, let json, let initial)? = blocks[index] else { return }
        finishedToolCalls[index] = Self.toolCall(id: id, name: name, json: json, initialInput: initial)
        blocks[index] = .other
    }

    /// A tool with no parameters streams no `input_json_delta` at all; its input is then the
    /// (empty) object of `content_block_start`.
    private static func toolCall(id: String, name: String, json: String, initialInput: JSONValue) -> ChatToolCall {
        if json.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, initialInput.objectValue != nil {
            return ChatToolCall(id: id, name: name, arguments: initialInput)
        }
        return ChatToolCall(id: id, name: name, rawArguments: json)
    }

    /// A stream is complete with `message_stop` or a stop reason.
    public func finish() throws -> ChatReply {
        guard stopped || rawStopReason != nil else {
            throw LLMError(.truncatedStream, "the messages stream ended without a stop reason or message_stop")
        }
        var calls = finishedToolCalls
        // A block the stream never closed still counts when the reply itself completed.
        for (index, block) in blocks {
            if case .toolUse(let id, let name, let json, let initial) = block {
                calls[index] = Self.toolCall(id: id, name: name, json: json, initialInput: initial)
            }
        }
        let toolCalls = calls.sorted { $0.key < $1.key }.map(\.value)
        return ChatReply(
            message: ChatMessage(role: .assistant, text: text.isEmpty ? nil : text, toolCalls: toolCalls),
            finishReason: AnthropicMessagesWire.finishReason(rawStopReason, hasToolCalls: !toolCalls.isEmpty),
            rawFinishReason: rawStopReason,
            usage: usage)
    }
}
