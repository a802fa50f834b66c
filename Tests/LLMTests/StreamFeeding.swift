import BosunProtocol
@testable import LLM

/// Feeds a whole event-stream body to a parser in chunks of the given sizes (cycled), the way
/// a network delivers it: lines, `\r\n` pairs and UTF-8 characters split anywhere.
func parseEvents(_ body: String, chunkSizes: [Int]) -> [ServerSentEvent] {
    var parser = ServerSentEventParser()
    var events: [ServerSentEvent] = []
    let bytes = Array(body.utf8)
    var offset = 0
    var turn = 0
    while offset < bytes.count {
        let size = max(chunkSizes[turn % chunkSizes.count], 1)
        let end = min(offset + size, bytes.count)
        events += parser.feed(bytes[offset..<end])
        offset = end
        turn += 1
    }
    if let last = parser.finish() { events.append(last) }
    return events
}

/// Runs a stream accumulator over a body; returns the deltas it reported and its reply.
func accumulate<Accumulator: ChatStreamAccumulator>(
    _ type: Accumulator.Type, _ body: String, chunkSizes: [Int] = [7, 1, 13, 2, 64]
) throws -> (deltas: [ChatDelta], reply: ChatReply) {
    var accumulator = Accumulator()
    var deltas: [ChatDelta] = []
    for event in parseEvents(body, chunkSizes: chunkSizes) {
        deltas += try accumulator.consume(event)
    }
    return (deltas, try accumulator.finish())
}

/// Turns JSON payloads into an OpenAI-style body of `data:` events.
func openAIStream(_ payloads: [String], done: Bool = true) -> String {
    payloads.map { "data: \($0)\n\n" }.joined() + (done ? "data: [DONE]\n\n" : "")
}

/// Turns (event name, JSON payload) pairs into an Anthropic-style body, with `\r\n` line ends.
func anthropicStream(_ events: [(String, String)]) -> String {
    events.map { "event: \($0.0)\r\ndata: \($0.1)\r\n\r\n" }.joined()
}

extension Optional where Wrapped == JSONValue {
    /// The key is missing (as opposed to present with JSON `null`).
    var isAbsent: Bool {
        if case .none = self { return true }
        return false
    }
}
