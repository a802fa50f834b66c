import BosunProtocol
import Foundation
import ScriptedLLM
import Testing

@Suite struct ScriptedLLMScriptTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("script-\(UUID().uuidString).json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func loadError(_ text: String) throws -> String {
        let path = try write(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try ScriptedLLMScript.load(path: path)
        } catch let error as ScriptedLLMScriptError {
            #expect(error.source == path)
            #expect(error.description.hasPrefix("scripted LLM script \(path): "))
            return error.problem
        }
        Issue.record("the script loaded")
        return ""
    }

    @Test func loadsTheDocumentedFormat() throws {
        let path = try write(
            """
            {
              "replies": [
                {
                  "match": {"contains": "weather", "system_contains": "pirate", "model": "openai/gpt-4o-mini",
                            "format": "openai", "tool": "Bash"},
                  "text": "It is sunny.",
                  "tool_calls": [
                    {"id": "call_1", "name": "Bash", "arguments": {"command": "ls"}},
                    {"name": "Read", "raw_arguments": "{not json"}
                  ],
                  "usage": {"input_tokens": 12, "output_tokens": 7, "cache_read_tokens": 0, "cache_write_tokens": 0},
                  "finish_reason": "stop",
                  "delay_ms": 0,
                  "chunk_delay_ms": 0,
                  "fault": {"status": 429, "retry_after": 1, "truncate": true, "invalid_json": true},
                  "times": 1
                },
                {"text": "plain"}
              ],
              "default": {"text": "..."}
            }
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = try ScriptedLLMScript.load(path: path)
        #expect(script.replies.count == 2)
        let first = script.replies[0]
        #expect(first.match == .init(contains: "weather", systemContains: "pirate", model: "openai/gpt-4o-mini", format: .openai, tool: "Bash"))
        #expect(first.toolCalls?[0] == .init(id: "call_1", name: "Bash", arguments: ["command": "ls"]))
        #expect(first.toolCalls?[1] == .init(name: "Read", rawArguments: "{not json"))
        #expect(first.usage == .init(inputTokens: 12, outputTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0))
        #expect(first.finishReason == .stop)
        #expect(first.fault == .init(status: 429, retryAfter: 1, truncate: true, invalidJSON: true))
        #expect(first.times == 1)
        #expect(script.default?.text == "...")

        // It round-trips through its own Codable form.
        let again = try ScriptedLLMScript.decode(JSONEncoder().encode(script))
        #expect(again == script)
    }

    @Test func errorsNameTheFileAndTheProblem() throws {
        #expect(try loadError(#"{"replies": [{"text": "a"}"#).hasPrefix("not valid JSON: "))
        #expect(try loadError("").hasPrefix("not valid JSON: "))
        #expect(try loadError(#"[{"text": "a"}]"#).contains("top level must be an object"))
        #expect(try loadError(#"{"replies": [{"text": "a", "tool_call": []}]}"#).hasPrefix("replies[0].tool_call: unknown key"))
        #expect(try loadError(#"{"replis": []}"#).hasPrefix("replis: unknown key"))
        #expect(try loadError(#"{"replies": [{"times": "two"}]}"#) == "replies[0].times: expected a number")
        #expect(try loadError(#"{"replies": [{"tool_calls": [{"id": "x"}]}]}"#) == "replies[0].tool_calls[0].name: required but missing")
        #expect(try loadError(#"{"replies": [{"finish_reason": "done"}]}"#).hasPrefix("replies[0].finish_reason: "))
        #expect(try loadError(#"{"replies": [{"match": {"format": "gemini"}}]}"#).hasPrefix("replies[0].match.format: "))
        #expect(try loadError(#"{"replies": [{"times": 0}]}"#) == "replies[0].times: must be at least 1, got 0")
        #expect(
            try loadError(#"{"replies": [{}, {"fault": {"status": 200}}]}"#)
                == "replies[1].fault.status: must be an HTTP error status (400-599), got 200")
        #expect(
            try loadError(#"{"replies": [{"tool_calls": [{"name": "a", "arguments": {}, "raw_arguments": "{}"}]}]}"#)
                == "replies[0].tool_calls[0]: give arguments or raw_arguments, not both")
        #expect(try loadError(#"{"default": {"text": "x", "times": 2}}"#).hasPrefix("default.times: "))

        let missing = "/nonexistent/script.json"
        #expect(throws: ScriptedLLMScriptError.self) { try ScriptedLLMScript.load(path: missing) }
        do {
            _ = try ScriptedLLMScript.load(path: missing)
        } catch {
            #expect("\(error)".hasPrefix("scripted LLM script /nonexistent/script.json: cannot read the file"))
        }
    }
}
