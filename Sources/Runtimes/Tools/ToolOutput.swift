/// What a tool call gives back to the model: text, and whether it is an error result
/// (Anthropic `tool_result.is_error`; for OpenAI the text alone carries the failure).
public struct ToolOutput: Sendable, Equatable {
    public var text: String
    public var isError: Bool

    public init(text: String, isError: Bool = false) {
        self.text = text
        self.isError = isError
    }

    public static func success(_ text: String) -> ToolOutput { ToolOutput(text: text, isError: false) }
    public static func error(_ text: String) -> ToolOutput { ToolOutput(text: text, isError: true) }

    /// The result with a PostToolUse hook's feedback (a hook that exited 2) appended: the call
    /// already happened, so the model gets the feedback next to what the tool did.
    public func appendingHookFeedback(_ feedback: String) -> ToolOutput {
        let trimmed = feedback.trimmingTrailingNewlines
        guard !trimmed.isEmpty else { return self }
        let separator = text.isEmpty ? "" : "\n\n"
        return ToolOutput(text: text + separator + "PostToolUse hook feedback:\n" + trimmed, isError: isError)
    }
}
