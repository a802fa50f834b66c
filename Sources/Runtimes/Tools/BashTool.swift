import BosunProtocol
import BosunSystem
import Foundation
import LLM

/// Claude Code's `Bash`: `/bin/bash -c command` in the workspace, through the context's
/// `ToolProcessLauncher`, as the leader of its own process group. On timeout the whole group
/// gets SIGTERM, then SIGKILL after the task's kill grace; when the calling Swift task is
/// cancelled it gets SIGKILL at once. The result is stdout, then stderr, cut at the output cap,
/// then the exit code; a non-zero exit, a signal or a timeout make it an error result.
public struct BashTool: BuiltInTool {
    public init() {}

    public var isReadOnly: Bool { false }

    public var spec: ToolSpec {
        ToolSpec(
            name: "Bash",
            description: """
                Runs a bash command in the workspace directory and returns its output (stdout, then \
                stderr) and exit code. Default timeout 120000 ms (2 minutes), at most 600000 ms; on timeout \
                the command and everything it started is killed. Output longer than 30000 characters is \
                cut. Use the Read, Write, Edit, Glob and Grep tools for files instead of cat, sed, find and \
                grep. Background processes do not outlive the task.
                """,
            inputSchema: [
                "type": "object",
                "properties": [
                    "command": ["type": "string", "description": "The command to execute"],
                    "timeout": [
                        "type": "number", "minimum": 1, "maximum": 600_000,
                        "description": "Optional timeout in milliseconds (max 600000)",
                    ],
                    "description": [
                        "type": "string",
                        "description": "Clear, concise description of what this command does in 5-10 words",
                    ],
                ],
                "required": ["command"],
                "additionalProperties": false,
            ])
    }

    func perform(_ arguments: ToolArguments, in context: ToolContext) async throws -> ToolOutput {
        let command = try arguments.string("command")
        guard !command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ToolArgumentError("command is empty")
        }
        var timeout = context.bashDefaultTimeout
        if let milliseconds = try arguments.optionalInt("timeout") {
            guard milliseconds > 0 else { throw ToolArgumentError("timeout must be a positive number of milliseconds") }
            timeout = min(.milliseconds(milliseconds), context.bashMaxTimeout)
        }
        try Task.checkCancellation()

        let child: ChildProcess
        do {
            child = try context.launcher.spawn(
                command, environment: context.environment, workingDirectory: context.workspace.realRoot,
                processes: context.processes)
        } catch {
            throw ToolFailure("Could not start the command: \(error)")
        }
        let result = await child.output(within: timeout, killGrace: context.processes.killGrace)
        return Self.render(result, timeout: timeout, cap: context.outputCap)
    }

    static func render(_ result: BoundedOutput, timeout: Duration, cap: Int) -> ToolOutput {
        let output = result.output
        var text = String(decoding: output.stdout, as: UTF8.self)
        let stderr = String(decoding: output.stderr, as: UTF8.self)
        if !stderr.isEmpty {
            if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
            text += stderr
        }
        text = text.capped(at: cap, unknownRemainder: output.stdoutTruncated || output.stderrTruncated)
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }

        switch result.ending {
        case .timedOut:
            return .error(text + "Command timed out after \(describe(timeout)) and was killed, with every process it started.")
        case .cancelled:
            return .error(text + "Command was cancelled and killed, with every process it started.")
        case .exited:
            switch output.status {
            case .exited(let code):
                return ToolOutput(text: text + "exit code \(code)", isError: code != 0)
            case .signalled:
                return .error(text + "Command was \(output.status)")
            }
        }
    }

    static func describe(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(milliseconds) ms"
    }
}
