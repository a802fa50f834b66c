import BosunProtocol
import Foundation
import Testing

@testable import Runtimes

@Suite struct HookRunnerTests {
    let scratch: ScratchWorkspace
    init() throws { scratch = try ScratchWorkspace() }

    private func runner(_ settings: String) throws -> HookRunner {
        let configuration = try JSONDecoder().decode(HookConfiguration.self, from: Data(settings.utf8))
        return HookRunner(configuration: configuration, sessionID: "sess-1")
    }

    private static func settings(_ event: String, matcher: String, command: String, timeout: Int? = nil) -> String {
        let hook: JSONValue = timeout.map { ["type": "command", "command": .string(command), "timeout": .number(Double($0))] }
            ?? ["type": "command", "command": .string(command)]
        let value: JSONValue = [event: [["matcher": .string(matcher), "hooks": [hook]]]]
        return String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
    }

    @Test func theHookReceivesTheJSONOnStdin() async throws {
        let capture = scratch.base + "/captured.json"
        let runner = try runner(Self.settings("PreToolUse", matcher: "Bash", command: "cat > \(capture); pwd > \(capture).cwd"))
        let verdict = await runner.preToolUse(tool: "Bash", input: ["command": "ls -la"], context: scratch.context())
        #expect(verdict == .proceed)
        let data = try Data(contentsOf: URL(fileURLWithPath: capture))
        let received = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(received == [
            "session_id": "sess-1",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": ["command": "ls -la"],
            "cwd": .string(scratch.root),
        ])
        #expect(scratch.read(capture + ".cwd") == scratch.root + "\n")
    }

    @Test func postToolUseAlsoGetsTheResponse() async throws {
        let capture = scratch.base + "/post.json"
        let runner = try runner(Self.settings("PostToolUse", matcher: "", command: "cat > \(capture)"))
        let verdict = await runner.postToolUse(
            tool: "Write", input: ["file_path": "a.txt"], response: ["output": "Wrote 1 bytes", "is_error": false],
            context: scratch.context())
        #expect(verdict == .proceed)
        let received = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: capture)))
        #expect(received["hook_event_name"] == "PostToolUse")
        #expect(received["tool_response"] == ["output": "Wrote 1 bytes", "is_error": false])
    }

    @Test func exit2BlocksWithStderrAsTheMessage() async throws {
        let runner = try runner(Self.settings(
            "PreToolUse", matcher: "Bash|Write",
            command: #"echo "ignored stdout"; echo "rm is not allowed here" >&2; exit 2"#))
        let verdict = await runner.preToolUse(tool: "Write", input: ["file_path": "x"], context: scratch.context())
        #expect(verdict == .block(message: "rm is not allowed here", warnings: []))
        #expect(verdict.isBlocked)
    }

    @Test func otherFailuresAndTimeoutsDoNotBlock() async throws {
        let failing = try runner(Self.settings("PreToolUse", matcher: "*", command: "echo broken >&2; exit 1"))
        let verdict = await failing.preToolUse(tool: "Bash", input: [:], context: scratch.context())
        #expect(!verdict.isBlocked)
        #expect(verdict.warnings == ["PreToolUse hook `echo broken >&2; exit 1` failed with exit code 1: broken"])

        let slow = try runner(Self.settings("PreToolUse", matcher: "Bash", command: "sleep 30", timeout: 1))
        let started = ContinuousClock.now
        let timedOut = await slow.preToolUse(tool: "Bash", input: [:], context: scratch.context())
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(!timedOut.isBlocked)
        #expect(timedOut.warnings == ["PreToolUse hook `sleep 30` timed out after 1 s and was killed"])
    }

    @Test func matcherIsARegexOnTheWholeToolName() async throws {
        let marker = scratch.base + "/ran"
        let runner = try runner(Self.settings("PreToolUse", matcher: "Edit|Write", command: "grep -o '\"tool_name\":\"[A-Za-z]*\"' >> \(marker)"))
        for tool in ["Write", "Bash", "WriteFile", "Edit", "MultiEdit"] {
            _ = await runner.preToolUse(tool: tool, input: [:], context: scratch.context())
        }
        #expect(scratch.read(marker) == "\"tool_name\":\"Write\"\n\"tool_name\":\"Edit\"\n")

        let mcp = try self.runner(Self.settings("PreToolUse", matcher: "mcp__github__.*", command: "exit 2"))
        #expect(await mcp.preToolUse(tool: "mcp__github__push", input: [:], context: scratch.context()).isBlocked)
        #expect(await !mcp.preToolUse(tool: "mcp__git__push", input: [:], context: scratch.context()).isBlocked)
    }

    @Test func postToolUseBlockIsFeedbackAppendedToTheResult() async throws {
        let runner = try runner(Self.settings("PostToolUse", matcher: "Edit", command: "echo 'lint: missing semicolon' >&2; exit 2"))
        let verdict = await runner.postToolUse(tool: "Edit", input: [:], response: [:], context: scratch.context())
        let message = try #require(verdict.blockMessage)
        let result = ToolOutput.success("Edited a.js").appendingHookFeedback(message)
        #expect(result == .success("Edited a.js\n\nPostToolUse hook feedback:\nlint: missing semicolon"))
    }

    @Test func jsonDenyOnStdoutBlocksAndAllowIsIgnored() async throws {
        let deny = try runner(Self.settings(
            "PreToolUse", matcher: "Bash",
            command: #"echo '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"no network"}}'"#))
        #expect(await deny.preToolUse(tool: "Bash", input: [:], context: scratch.context()) == .block(message: "no network", warnings: []))
        let allow = try runner(Self.settings(
            "PreToolUse", matcher: "Bash", command: #"echo '{"hookSpecificOutput":{"permissionDecision":"allow"}}'"#))
        #expect(await allow.preToolUse(tool: "Bash", input: [:], context: scratch.context()) == .proceed)
    }

    @Test func severalHooksRunAndBlocksWin() async throws {
        let settings = #"""
            {"PreToolUse": [
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "exit 1"},
                                               {"type": "command", "command": "echo first >&2; exit 2"}]},
                {"hooks": [{"type": "command", "command": "echo second >&2; exit 2"},
                           {"type": "prompt", "prompt": "is this ok?"}]}
            ],
             "Notification": [{"hooks": [{"type": "command", "command": "true"}]}]}
            """#
        let verdict = try await runner(settings).preToolUse(tool: "Bash", input: [:], context: scratch.context())
        #expect(verdict.blockMessage == "first\nsecond")
        #expect(verdict.warnings.count == 2)
    }

    @Test func invalidMatcherFailsDecoding() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(HookConfiguration.self, from: Data(#"{"PreToolUse": [{"matcher": "(", "hooks": []}]}"#.utf8))
        }
    }

    @Test func theInputFileIsGoneAfterwards() async throws {
        let capture = scratch.base + "/path"
        let runner = try runner(Self.settings("PreToolUse", matcher: "", command: "readlink /proc/$$/fd/0 > \(capture)"))
        _ = await runner.preToolUse(tool: "Read", input: [:], context: scratch.context())
        let path = try #require(scratch.read(capture)?.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(path.hasSuffix("/input.json"))
        #expect(!scratch.exists(path))
    }
}
