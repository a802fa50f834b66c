/// One event of a `text/event-stream` body.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field; nil when the event did not name itself (OpenAI never does).
    public var event: String?
    /// The `data:` lines of the event, joined with `\n`.
    public var data: String

    public init(event: String? = nil, data: String) {
        self.event = event
        self.data = data
    }
}

/// An incremental `text/event-stream` parser (WHATWG HTML, "Server-sent events").
///
/// The HTTP body arrives in chunks that can split a line, a `\r\n` pair or a multi-byte UTF-8
/// character anywhere, so the parser works on bytes and decodes a line only once it is whole.
/// Feed it every chunk as it arrives, then call `finish()` when the body ends.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    /// The previous chunk ended in `\r`: a `\n` at the start of the next one belongs to it.
    private var skipLeadingLineFeed = false
    private var eventName: String?
    private var dataLines: [String] = []

    public init() {}

    /// Consumes one chunk of the body; returns the events it completed, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if skipLeadingLineFeed {
                skipLeadingLineFeed = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                if let event = endLine() { events.append(event) }
            case UInt8(ascii: "\r"):
                skipLeadingLineFeed = true
                if let event = endLine() { events.append(event) }
            default:
                line.append(byte)
            }
        }
        return events
    }

    /// The body ended. The standard drops an event that was not closed by a blank line; this
    /// parser delivers it instead, because a proxy that omits the final blank line would
    /// otherwise lose the stream's last event (`data: [DONE]`, `message_stop`) and make a
    /// complete answer look truncated.
    public mutating func finish() -> ServerSentEvent? {
        if !line.isEmpty { _ = endLine() }
        return dispatch()
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }  // A comment (keep-alive).

        let field: String
        let value: String
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: line[..<colon], as: UTF8.self)
            var valueStart = line.index(after: colon)
            if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
            value = String(decoding: line[valueStart...], as: UTF8.self)
        } else {
            field = String(decoding: line, as: UTF8.self)
            value = ""
        }
        switch field {
        case "data": dataLines.append(value)
        case "event": eventName = value
        default: break  // `id` and `retry` matter to browsers reconnecting, not to one request.
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            eventName = nil
            dataLines.removeAll(keepingCapacity: true)
        }
        // An event with no data lines is not dispatched (the standard's rule).
        guard !dataLines.isEmpty else { return nil }
        return ServerSentEvent(event: eventName, data: dataLines.joined(separator: "\n"))
    }
}
