/// One server-sent event with the fields Bosun's event stream uses.
struct StreamedEvent: Sendable, Equatable {
    var id: String?
    var event: String?
    var data: String
}

/// The text/event-stream format, fed bytes as they arrive: `id:`, `event:` and `data:` fields,
/// a blank line ends an event, lines starting with `:` are comments (the keep-alives).
/// The LLM module has a parser too, but it drops `id`, which resuming needs.
struct EventStreamParser: Sendable {
    private var line: [UInt8] = []
    private var id: String?
    private var event: String?
    private var data: [String] = []
    private var lastByteWasCR = false

    mutating func feed(_ bytes: some Sequence<UInt8>) -> [StreamedEvent] {
        var events: [StreamedEvent] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n") where lastByteWasCR:
                // The \n of a \r\n pair: the line already ended at \r.
                lastByteWasCR = false
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                lastByteWasCR = byte == UInt8(ascii: "\r")
                if let event = endLine() { events.append(event) }
            default:
                lastByteWasCR = false
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() -> StreamedEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            field = text[...]
            value = ""
        }
        switch field {
        case "id": id = String(value)
        case "event": event = String(value)
        case "data": data.append(String(value))
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> StreamedEvent? {
        defer {
            event = nil
            data.removeAll()
        }
        guard !data.isEmpty else { return nil }
        // The id persists across events (it is the stream's "last event id").
        return StreamedEvent(id: id, event: event, data: data.joined(separator: "\n"))
    }
}
