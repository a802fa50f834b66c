import BosunProtocol
import Foundation

/// Turns an execution's events into lines a person can follow: assistant text, tool calls with
/// their arguments, shortened tool results, warnings and status changes. Knows the event shapes
/// of the agno runtime (`RunContent`, `ToolCallStarted`, ...), the claude_code runtime
/// (`assistant`/`user` messages), the test runtime (`message`) and the control API (`status`,
/// `user_message`); anything else gets one generic line.
struct EventPrinter: Sendable {
    /// Streamed text was printed without a newline; the next line must start fresh.
    private var midLine = false
    /// The current run already streamed its answer piece by piece (so `RunCompleted` repeats it).
    private var streamedAnswer = false

    static let resultLimit = 200

    /// The text to print for `event` (possibly empty).
    mutating func render(_ event: ExecutionEvent) -> String {
        let data = event.data
        if event.type == "RunContent" {
            guard let piece = data["content"]?.stringValue, !piece.isEmpty else { return "" }
            streamedAnswer = true
            midLine = !piece.hasSuffix("\n")
            return piece
        }
        guard let line = line(for: event.type, data) else { return "" }
        let prefix = midLine ? "\n" : ""
        midLine = false
        return prefix + line + "\n"
    }

    private mutating func line(for type: String, _ data: JSONValue) -> String? {
        switch type {
        case "status":
            let status = data["status"]?.stringValue ?? "?"
            var text = "── \(status)"
            if let reason = data["reason"]?.stringValue, !reason.isEmpty { text += " (\(reason))" }
            // The reason usually quotes the error already ("the turn failed: boom").
            if let error = data["error"]?.stringValue, !error.isEmpty, !text.contains(error) {
                text += "\n   error: \(error)"
            }
            return text
        case "turn_completed":
            return "── turn \(data["turn"]?.numberValue.map(Format.number) ?? "?") done: " + UsageTotal(data).summary
        case "message":
            guard data["role"]?.stringValue ?? "assistant" == "assistant" else { return nil }
            return data["content"].map(Format.json)
        case "RunStarted":
            streamedAnswer = false
            return data["model"]?.stringValue.map { "▶ run started (\($0))" } ?? "▶ run started"
        case "RunCompleted":
            defer { streamedAnswer = false }
            guard !streamedAnswer, let content = data["content"]?.stringValue, !content.isEmpty else { return nil }
            return content
        case "ToolCallStarted":
            return Self.toolCall(name: data["tool"]?["tool_name"], arguments: data["tool"]?["tool_args"])
        case "ToolCallCompleted":
            let tool = data["tool"]
            return Self.toolResult(
                name: tool?["tool_name"]?.stringValue, result: tool?["result"], isError: tool?["tool_call_error"]?.boolValue)
        case "assistant":
            return Self.blocks(data["message"]?["content"]).isEmpty ? nil : Self.blocks(data["message"]?["content"])
        case "user":
            let blocks = Self.blocks(data["message"]?["content"])
            return blocks.isEmpty ? nil : blocks
        case "RunWarning", "warning":
            return "warning: " + (data["content"] ?? data["message"]).map(Format.json).orEmpty
        case "RunError":
            return "error: " + data["content"].map(Format.json).orEmpty
        case "RunCancelled":
            return "run cancelled" + (data["reason"]?.stringValue.map { " (\($0))" } ?? "")
        case "user_message":
            return "you: " + data["content"].map(Format.json).orEmpty
        case "cancel_requested":
            return "cancel requested" + (data["by"]?.stringValue.map { " by \($0)" } ?? "")
        case "approval_requested":
            return "approval needed: "
                + Self.toolCall(name: data["tool_name"], arguments: data["arguments"]).dropFirst(2)
        case "ledger", "run_started", "run_completed":
            // The ledger repeats messages already shown; the test runtime's markers say nothing.
            return nil
        default:
            return "· \(type) \(Format.short(data.jsonString, limit: 120))"
        }
    }

    /// Claude-style content blocks: text, tool_use, tool_result.
    private static func blocks(_ content: JSONValue?) -> String {
        if let text = content?.stringValue { return text }
        var lines: [String] = []
        for block in content?.arrayValue ?? [] {
            switch block["type"]?.stringValue {
            case "text":
                if let text = block["text"]?.stringValue, !text.isEmpty { lines.append(text) }
            case "tool_use":
                lines.append(toolCall(name: block["name"], arguments: block["input"]))
            case "tool_result":
                lines.append(toolResult(name: nil, result: block["content"], isError: block["is_error"]?.boolValue))
            default:
                continue
            }
        }
        return lines.joined(separator: "\n")
    }

    static func toolCall(name: JSONValue?, arguments: JSONValue?) -> String {
        let args = arguments.map { Format.short($0.stringValue ?? $0.jsonString, limit: 300) } ?? ""
        return "→ \(name?.stringValue ?? "tool") \(args)"
    }

    static func toolResult(name: String?, result: JSONValue?, isError: Bool?) -> String {
        let text = result.map { Format.short(Format.json($0), limit: resultLimit) } ?? ""
        let label = name.map { "\($0) " } ?? ""
        return "← \(label)\(isError == true ? "error: " : "")\(text)"
    }
}
