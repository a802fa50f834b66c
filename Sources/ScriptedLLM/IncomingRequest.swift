import BosunProtocol

/// The parts of a chat request that scripts match on and replies depend on, read from either
/// wire format.
struct IncomingRequest: Sendable {
    var format: ScriptedLLMFormat
    var body: JSONValue
    /// Size of the request body in bytes, for the default token counts.
    var size: Int

    var model: String? { body["model"]?.stringValue }
    var stream: Bool { body["stream"]?.boolValue ?? false }
    /// OpenAI only: `stream_options.include_usage` asks for a final usage chunk.
    var includeUsage: Bool { body["stream_options"]?["include_usage"]?.boolValue ?? false }

    /// The text of the last message: user text, or the content of tool results.
    var lastMessageText: String {
        guard let last = body["messages"]?.arrayValue?.last else { return "" }
        return Self.text(of: last["content"])
    }

    /// The system prompt: OpenAI `system`/`developer` messages, Anthropic's top-level `system`.
    var systemText: String {
        switch format {
        case .openai:
            let messages = body["messages"]?.arrayValue ?? []
            return
                messages
                .filter { ["system", "developer"].contains($0["role"]?.stringValue ?? "") }
                .map { Self.text(of: $0["content"]) }
                .joined(separator: "\n")
        case .anthropic:
            return Self.text(of: body["system"])
        }
    }

    /// Names of the tools the request offers.
    var toolNames: [String] {
        let tools = body["tools"]?.arrayValue ?? []
        switch format {
        case .openai:
            let functions = body["functions"]?.arrayValue ?? []  // the legacy spelling
            return tools.compactMap { $0["function"]?["name"]?.stringValue } + functions.compactMap { $0["name"]?.stringValue }
        case .anthropic:
            return tools.compactMap { $0["name"]?.stringValue }
        }
    }

    func fits(_ match: ScriptedLLMScript.Match?) -> Bool {
        guard let match else { return true }
        if let format = match.format, format != self.format { return false }
        if let model = match.model, model != self.model { return false }
        if let tool = match.tool, !toolNames.contains(tool) { return false }
        if let contains = match.contains, !lastMessageText.contains(contains) { return false }
        if let systemContains = match.systemContains, !systemText.contains(systemContains) { return false }
        return true
    }

    /// Text of a message `content`: a string, OpenAI `{type: "text", text}` parts, or Anthropic
    /// blocks (`text`, and `tool_result` whose content is a string or text blocks).
    static func text(of content: JSONValue?) -> String {
        guard let content else { return "" }
        if let text = content.stringValue { return text }
        guard let parts = content.arrayValue else { return "" }
        return parts.compactMap { part -> String? in
            switch part["type"]?.stringValue {
            case "text", "input_text": return part["text"]?.stringValue
            case "tool_result": return text(of: part["content"])
            default: return nil
            }
        }.joined(separator: "\n")
    }
}
