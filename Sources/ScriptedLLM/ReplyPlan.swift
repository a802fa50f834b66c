import BosunProtocol
import Foundation

/// One scripted reply resolved against the request that gets it: ids, argument strings, token
/// counts and finish reason fixed, ready to be rendered in either wire format.
struct ReplyPlan: Sendable {
    struct ToolCall: Sendable {
        var id: String
        var name: String
        /// The OpenAI `arguments` string and Anthropic streaming `partial_json`.
        var argumentsText: String
        /// The Anthropic `input`: the arguments object, or raw arguments that are not JSON as a string.
        var input: JSONValue
    }

    struct Usage: Sendable {
        var input: Int
        var output: Int
        var cacheRead: Int
        var cacheWrite: Int

        /// OpenAI counts cached input inside `prompt_tokens`.
        var promptTokens: Int { input + cacheRead + cacheWrite }
    }

    var format: ScriptedLLMFormat
    var id: String
    var model: String
    var created: Int
    var text: String
    var toolCalls: [ToolCall]
    var finishReason: ScriptedLLMScript.FinishReason
    var usage: Usage
    var stream: Bool
    var includeUsage: Bool
    var delay: Duration?
    var chunkDelay: Duration?
    var fault: ScriptedLLMScript.Fault?

    init(
        reply: ScriptedLLMScript.Reply, request: IncomingRequest, messageNumber: Int, firstToolCallNumber: Int,
        created: Int = Int(Date().timeIntervalSince1970)
    ) {
        format = request.format
        model = request.model ?? "scripted"
        self.created = created
        switch request.format {
        case .openai: id = "chatcmpl-scripted\(messageNumber)"
        case .anthropic: id = "msg_scripted\(messageNumber)"
        }
        text = reply.text ?? ""
        toolCalls = (reply.toolCalls ?? []).enumerated().map { offset, call in
            let number = firstToolCallNumber + offset
            let generatedID = request.format == .openai ? "call_\(number)" : "toolu_\(number)"
            let argumentsText: String
            let input: JSONValue
            if let raw = call.rawArguments {
                argumentsText = raw
                input = (try? JSONDecoder().decode(JSONValue.self, from: Data(raw.utf8))) ?? .string(raw)
            } else {
                let arguments = call.arguments ?? .object([:])
                argumentsText = Self.encode(arguments)
                input = arguments
            }
            return ToolCall(id: call.id ?? generatedID, name: call.name, argumentsText: argumentsText, input: input)
        }
        finishReason = reply.finishReason ?? (toolCalls.isEmpty ? .stop : .toolCalls)
        let replyCharacters = text.count + toolCalls.reduce(0) { $0 + $1.name.count + $1.argumentsText.count }
        usage = Usage(
            input: reply.usage?.inputTokens ?? max(1, request.size / 4),
            output: reply.usage?.outputTokens ?? max(1, replyCharacters / 4),
            cacheRead: reply.usage?.cacheReadTokens ?? 0,
            cacheWrite: reply.usage?.cacheWriteTokens ?? 0)
        stream = request.stream
        includeUsage = request.includeUsage
        delay = reply.delayMs.map { .milliseconds($0) }
        chunkDelay = reply.chunkDelayMs.map { .milliseconds($0) }
        fault = reply.fault
    }

    /// The text in streaming pieces of three words each (with their whitespace, so the pieces
    /// concatenate to the text).
    var textPieces: [String] {
        var pieces: [String] = []
        var current = ""
        var words = 0
        var inWord = false
        for character in text {
            if character.isWhitespace {
                inWord = false
            } else if !inWord {
                inWord = true
                if words == 3 {
                    pieces.append(current)
                    current = ""
                    words = 0
                }
                words += 1
            }
            current.append(character)
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// Arguments in streaming pieces of up to 12 characters.
    static func argumentPieces(_ text: String) -> [String] {
        var pieces: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            pieces.append(String(rest.prefix(12)))
            rest = rest.dropFirst(12)
        }
        return pieces
    }

    /// The byte writer (the bytes JSONEncoder with sorted keys writes, without its cost: every
    /// stream chunk goes through here).
    static func encode(_ value: JSONValue) -> String {
        value.jsonText(sortedKeys: true)
    }
}
