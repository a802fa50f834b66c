/// One server-sent event as written on the wire: an optional `event:` line, one `data:` line and
/// the blank line that ends it.
struct ServerSentEvent: Sendable, Equatable {
    var event: String?
    var data: String

    var text: String {
        var text = ""
        if let event { text += "event: \(event)\n" }
        text += "data: \(data)\n\n"
        return text
    }
}
