import BosunProtocol
import Foundation

/// One provider wire format: how a `ChatRequest` is sent and how the reply is read. The
/// gateway's retry, streaming and timeout logic is written once against this.
protocol ChatWire {
    associatedtype Stream: ChatStreamAccumulator & Sendable

    /// Appended to the gateway's base URL (which ends before `/v1`).
    static var path: String { get }
    static func headers(apiKey: String?) -> [(name: String, value: String)]
    static func body(for request: ChatRequest, stream: Bool) -> JSONValue
    /// Reads a non-streaming 2xx body; throws `LLMError` (`.malformedResponse`, `.providerError`).
    static func decodeReply(_ data: Data) throws -> ChatReply
}

/// Reads a streamed reply event by event. Feed every SSE event to `consume`, which returns
/// the deltas to show the caller at once; call `finish` when the body ended.
protocol ChatStreamAccumulator {
    init()
    /// Throws `LLMError` for a provider `error` event or an event that is not valid JSON.
    mutating func consume(_ event: ServerSentEvent) throws -> [ChatDelta]
    /// Throws `LLMError.truncatedStream` when the stream ended before its end marker.
    func finish() throws -> ChatReply
}
