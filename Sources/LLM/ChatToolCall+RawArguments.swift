import BosunProtocol
import Foundation

extension ChatToolCall {
    /// A tool call whose arguments arrived as JSON text (OpenAI's `function.arguments`, an
    /// Anthropic stream's `input_json_delta` fragments).
    ///
    /// Models sometimes write arguments that are not a JSON object (cut off at `max_tokens`,
    /// prose, a bare string). That is the model's mistake, not a failed call: the call keeps
    /// `.object([:])` and `argumentsError` says what was wrong, so the runtime can answer it
    /// with an error tool result and the model can correct itself on the next turn.
    public init(id: String, name: String, rawArguments: String) {
        self.init(id: id, name: name, arguments: .object([:]))
        let trimmed = rawArguments.trimmingCharacters(in: .whitespacesAndNewlines)
        // No text at all means no arguments: some OpenAI-compatible backends send "" for a
        // call to a tool without parameters, and an Anthropic stream sends no fragment then.
        if trimmed.isEmpty { return }
        switch JSONValue(jsonText: trimmed) {
        case .object(let object)?:
            arguments = .object(object)
        case nil:
            argumentsError =
                "the arguments of tool call '\(name)' are not valid JSON: \(WireJSON.prefix(of: trimmed))"
        case let other?:
            argumentsError =
                "the arguments of tool call '\(name)' must be a JSON object, got \(other.kindName): "
                + WireJSON.prefix(of: trimmed)
        }
    }
}

extension JSONValue {
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
