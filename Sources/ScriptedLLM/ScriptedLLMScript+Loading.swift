import BosunProtocol
import Foundation

/// A script that cannot be used: unreadable, not JSON, the wrong shape or inconsistent values.
/// The description names the file (when there is one) and the place in the JSON.
public struct ScriptedLLMScriptError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The script's file, or nil for a script sent over HTTP.
    public var source: String?
    public var problem: String

    public init(source: String?, problem: String) {
        self.source = source
        self.problem = problem
    }

    public var description: String {
        if let source { return "scripted LLM script \(source): \(problem)" }
        return "scripted LLM script: \(problem)"
    }
}

extension ScriptedLLMScript {
    /// Reads and checks a script file.
    public static func load(path: String) throws -> ScriptedLLMScript {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ScriptedLLMScriptError(source: path, problem: "cannot read the file (\(error.localizedDescription))")
        }
        return try decode(data, source: path)
    }

    /// Parses and checks a script; `source` names it in errors.
    public static func decode(_ data: Data, source: String? = nil) throws -> ScriptedLLMScript {
        func failure(_ problem: String) -> ScriptedLLMScriptError { ScriptedLLMScriptError(source: source, problem: problem) }
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw failure("not valid JSON: \(JSONSyntax.problem(in: data))")
        }
        guard case .object = document else {
            throw failure("the top level must be an object like {\"replies\": [...]}")
        }
        if let problem = Self.unknownKey(in: document) { throw failure(problem) }
        let script: ScriptedLLMScript
        do {
            script = try JSONDecoder().decode(ScriptedLLMScript.self, from: data)
        } catch {
            throw failure(Self.describe(error))
        }
        if let problem = script.problem() { throw failure(problem) }
        return script
    }

    /// The first inconsistent value, if any.
    func problem() -> String? {
        for (index, reply) in replies.enumerated() {
            if let problem = reply.problem() { return "replies[\(index)].\(problem)" }
        }
        if let reply = self.default {
            if reply.match != nil { return "default.match: the default answers every request left over; it has no match" }
            if reply.times != nil { return "default.times: the default answers every request left over; it has no times" }
            if let problem = reply.problem() { return "default.\(problem)" }
        }
        return nil
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): required but missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(typeName(type)), found null"
        @unknown default:
            return "\(error)"
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "top level" : text
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default:
            if "\(type)".hasPrefix("Array") { "an array" } else { "an object" }
        }
    }

    /// Misspelt keys would otherwise be ignored silently (`tool_call` for `tool_calls`).
    static func unknownKey(in document: JSONValue) -> String? {
        var problems: [String] = []
        func check(_ value: JSONValue?, at path: String, known: [String]) {
            guard let object = value?.objectValue else { return }  // wrong types are reported by decoding
            for key in object.keys.sorted() where !known.contains(key) {
                let place = path.isEmpty ? key : "\(path).\(key)"
                problems.append("\(place): unknown key (expected one of \(known.joined(separator: ", ")))")
            }
        }
        func checkReply(_ value: JSONValue?, at path: String) {
            check(value, at: path, known: Reply.CodingKeys.allCases.map(\.rawValue))
            check(value?["match"], at: "\(path).match", known: Match.CodingKeys.allCases.map(\.rawValue))
            check(value?["usage"], at: "\(path).usage", known: Usage.CodingKeys.allCases.map(\.rawValue))
            check(value?["fault"], at: "\(path).fault", known: Fault.CodingKeys.allCases.map(\.rawValue))
            for (index, call) in (value?["tool_calls"]?.arrayValue ?? []).enumerated() {
                check(call, at: "\(path).tool_calls[\(index)]", known: ToolCall.CodingKeys.allCases.map(\.rawValue))
            }
        }
        check(document, at: "", known: CodingKeys.allCases.map(\.rawValue))
        for (index, reply) in (document["replies"]?.arrayValue ?? []).enumerated() {
            checkReply(reply, at: "replies[\(index)]")
        }
        checkReply(document["default"], at: "default")
        return problems.first
    }
}

extension ScriptedLLMScript.Reply {
    /// The first inconsistent value, as "key: problem".
    func problem() -> String? {
        if let times, times < 1 { return "times: must be at least 1, got \(times)" }
        if let delayMs, delayMs < 0 { return "delay_ms: must not be negative" }
        if let chunkDelayMs, chunkDelayMs < 0 { return "chunk_delay_ms: must not be negative" }
        if let usage {
            for (name, value) in [
                ("input_tokens", usage.inputTokens), ("output_tokens", usage.outputTokens),
                ("cache_read_tokens", usage.cacheReadTokens), ("cache_write_tokens", usage.cacheWriteTokens),
            ] {
                if let value, value < 0 { return "usage.\(name): must not be negative" }
            }
        }
        if let fault {
            if let status = fault.status, !(400...599).contains(status) {
                return "fault.status: must be an HTTP error status (400-599), got \(status)"
            }
            if let retryAfter = fault.retryAfter {
                if retryAfter < 0 { return "fault.retry_after: must not be negative" }
                if fault.status == nil { return "fault.retry_after: only applies with fault.status" }
            }
        }
        for (index, call) in (toolCalls ?? []).enumerated() {
            if call.name.isEmpty { return "tool_calls[\(index)].name: must not be empty" }
            if call.arguments != nil, call.rawArguments != nil {
                return "tool_calls[\(index)]: give arguments or raw_arguments, not both"
            }
            if let arguments = call.arguments, arguments.objectValue == nil {
                return "tool_calls[\(index)].arguments: must be an object (use raw_arguments for anything else)"
            }
        }
        return nil
    }
}
