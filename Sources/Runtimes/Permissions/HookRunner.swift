import BosunProtocol
import BosunSystem
import Foundation
import Glibc

/// Runs Claude Code command hooks around tool calls.
///
/// Each hook matching the tool runs (all of them concurrently) as `/bin/bash -c command`
/// through the context's `ToolProcessLauncher`, in the workspace, with `CLAUDE_PROJECT_DIR` set
/// and this JSON on stdin:
///
///     {"session_id", "hook_event_name", "tool_name", "tool_input", "tool_response" (post only), "cwd"}
///
/// The launcher gives children /dev/null as stdin, so the JSON is written to a file in a private
/// (0700) temporary directory and the command runs with its stdin redirected from that file
/// (`exec 0<file`, then the command); the directory is removed afterwards.
///
/// Exit 0 continues (unless stdout is a JSON object with `"decision": "block"` or
/// `hookSpecificOutput.permissionDecision: "deny"`, which block with their reason). Exit 2
/// blocks, with the hook's stderr as the message for the model. Any other exit, a signal, a
/// timeout or a failure to start is a non-blocking error: the call goes on and the verdict
/// carries a warning for the runtime to log.
public struct HookRunner: Sendable {
    public static let defaultTimeout: Duration = .seconds(60)

    public var configuration: HookConfiguration
    public var sessionID: String

    public init(configuration: HookConfiguration, sessionID: String) {
        self.configuration = configuration
        self.sessionID = sessionID
    }

    /// Before a call: a block means the call must not run.
    public func preToolUse(tool: String, input: JSONValue, context: ToolContext) async -> HookVerdict {
        await run(.preToolUse, tool: tool, input: input, response: nil, context: context)
    }

    /// After a call: a block cannot undo it; its message is appended to the result
    /// (`ToolOutput.appendingHookFeedback`).
    public func postToolUse(tool: String, input: JSONValue, response: JSONValue, context: ToolContext) async -> HookVerdict {
        await run(.postToolUse, tool: tool, input: input, response: response, context: context)
    }

    private enum Outcome: Sendable {
        case proceed
        case warning(String)
        case block(String)
    }

    private func run(
        _ event: HookEvent, tool: String, input: JSONValue, response: JSONValue?, context: ToolContext
    ) async -> HookVerdict {
        let hooks = configuration.hooks(for: event, tool: tool)
        guard !hooks.isEmpty else { return .proceed }

        var payload: [String: JSONValue] = [
            "session_id": .string(sessionID),
            "hook_event_name": .string(event.rawValue),
            "tool_name": .string(tool),
            "tool_input": input,
            "cwd": .string(context.workspace.realRoot),
        ]
        if let response { payload["tool_response"] = response }

        let inputFile: HookInputFile
        do {
            inputFile = try HookInputFile(JSONValue.object(payload))
        } catch {
            return .continue(warnings: ["\(event.rawValue) hooks for \(tool) did not run: \(error)"])
        }
        defer { inputFile.remove() }

        let outcomes = await withTaskGroup(of: (Int, Outcome).self) { group in
            for (index, hook) in hooks.enumerated() {
                group.addTask {
                    (index, await runOne(hook, event: event, tool: tool, inputPath: inputFile.path, context: context))
                }
            }
            var outcomes = [Outcome](repeating: .proceed, count: hooks.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }

        var warnings: [String] = []
        var blocks: [String] = []
        for outcome in outcomes {
            switch outcome {
            case .proceed: continue
            case .warning(let warning): warnings.append(warning)
            case .block(let message): blocks.append(message)
            }
        }
        return blocks.isEmpty ? .continue(warnings: warnings) : .block(message: blocks.joined(separator: "\n"), warnings: warnings)
    }

    private func runOne(
        _ hook: HookConfiguration.HookCommand, event: HookEvent, tool: String, inputPath: String, context: ToolContext
    ) async -> Outcome {
        let name = "\(event.rawValue) hook"
        guard hook.type == "command", let command = hook.command, !command.isEmpty else {
            return .warning("\(name) of type \"\(hook.type)\" skipped: only command hooks are supported")
        }
        let timeout = hook.timeout.flatMap { $0 > 0 ? Duration.milliseconds(Int64(($0 * 1000).rounded())) : nil }
            ?? Self.defaultTimeout
        let script = "exec 0<\(Self.shellQuoted(inputPath))\n" + command
        let environment = context.environment.merging(["CLAUDE_PROJECT_DIR": context.workspace.realRoot]) { _, new in new }

        let child: ChildProcess
        do {
            child = try context.launcher.spawn(
                script, environment: environment, workingDirectory: context.workspace.realRoot,
                processes: context.processes)
        } catch {
            return .warning("\(name) `\(command)` could not start: \(error)")
        }
        let result = await child.output(within: timeout, killGrace: context.processes.killGrace)
        let stdout = String(decoding: result.output.stdout, as: UTF8.self)
        let stderr = String(decoding: result.output.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        switch result.ending {
        case .timedOut:
            return .warning("\(name) `\(command)` timed out after \(BashTool.describe(timeout)) and was killed")
        case .cancelled:
            return .warning("\(name) `\(command)` was cancelled")
        case .exited:
            break
        }
        switch result.output.status {
        case .exited(0):
            if let reason = Self.jsonBlockReason(stdout) {
                return .block(reason.isEmpty ? "Blocked by \(name) `\(command)`" : reason)
            }
            return .proceed
        case .exited(2):
            return .block(stderr.isEmpty ? "Blocked by \(name) `\(command)` (exit code 2, no message)" : stderr)
        case .exited(let code):
            return .warning("\(name) `\(command)` failed with exit code \(code)" + (stderr.isEmpty ? "" : ": \(stderr)"))
        case .signalled:
            return .warning("\(name) `\(command)` was \(result.output.status)")
        }
    }

    /// The reason of a JSON answer that blocks (`{"decision": "block", "reason": ...}` or
    /// `{"hookSpecificOutput": {"permissionDecision": "deny", "permissionDecisionReason": ...}}`);
    /// nil when stdout is not such an answer. Answers that would widen permissions ("allow",
    /// "approve") are ignored: hooks can only make the engine stricter.
    static func jsonBlockReason(_ stdout: String) -> String? {
        let trimmed = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("{"),
              let value = try? JSONDecoder().decode(JSONValue.self, from: Data(trimmed.utf8))
        else { return nil }
        if value["decision"]?.stringValue == "block" {
            return value["reason"]?.stringValue ?? ""
        }
        if let specific = value["hookSpecificOutput"], specific["permissionDecision"]?.stringValue == "deny" {
            return specific["permissionDecisionReason"]?.stringValue ?? ""
        }
        return nil
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
