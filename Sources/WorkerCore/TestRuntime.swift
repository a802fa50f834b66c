import BosunProtocol
import Foundation
import Runtimes

/// A runtime FOR TESTS AND THE DEMO ONLY. It calls no model: it follows instructions written in
/// the turn's input, so tests can drive every path of the worker (events, child processes,
/// cancellation, failures). The worker uses it only when started with `--test-runtime`, and then
/// for every agent, whatever runtime the agent names; it registers as supporting `agno`,
/// `claude_code` and `test` so routing works until the real runtimes exist.
///
/// The input is a string of commands separated by `;`:
/// - `echo TEXT`: the answer is TEXT (the default answer echoes the whole input)
/// - `events N`: emit N `test.tick` events
/// - `sleep S`: wait S seconds (cancellable)
/// - `spawn S`: start `sh -c 'sleep S & sleep S & wait'` in its own process group, emit a
///   `test.spawned` event with the shell's pid and its children's pids, and wait for it
/// - `escape S`: start `setsid sleep S` (outside the task's process group), emit `test.escaped`
///   with its pid, and wait S seconds
/// - `env NAME`: run `env` as a task process; the answer is `NAME=value` or `NAME is unset`
/// - `fail MESSAGE`: fail, not retryable · `crash MESSAGE`: fail, retryable
/// - `ask QUESTION`: answer with a question for the user (waiting_for_input)
public struct TestRuntime: Runtime {
    public let name = "test"
    public let version = "test-runtime/1"

    public init() {}

    public func runTurn(_ context: TurnContext) async throws -> TurnResult {
        let started = Date()
        let text =
            context.assignment.input.stringValue
            ?? String(decoding: (try? WireCoding.encoder().encode(context.assignment.input)) ?? Data(), as: UTF8.self)
        await context.events.emit("run_started", ["runtime": "test", "turn": .number(Double(context.assignment.turn))])
        var answer = "echo: \(text)"
        var asks = false
        for command in text.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let parts = command.split(separator: " ", maxSplits: 1).map(String.init)
            let verb = parts.first ?? ""
            let argument = parts.count > 1 ? parts[1] : ""
            switch verb {
            case "echo":
                answer = argument
            case "events":
                for index in 0..<(Int(argument) ?? 1) {
                    await context.events.emit("test.tick", ["index": .number(Double(index))])
                }
            case "sleep":
                try await Task.sleep(for: .milliseconds(Int64((Double(argument) ?? 1) * 1000)))
            case "spawn":
                let seconds = Double(argument) ?? 60
                let pidFile = URL(fileURLWithPath: context.workspace).appendingPathComponent("spawned.pids").path
                let child = try context.processes.spawn(
                    "/bin/sh",
                    ["-c", "sleep \(seconds) & echo $! >> \(pidFile); sleep \(seconds) & echo $! >> \(pidFile); wait"],
                    workingDirectory: context.workspace)
                // The shell writes its children's pids; tests use them to prove no orphan survives.
                var children: [String] = []
                for _ in 0..<100 where children.count < 2 {
                    try await Task.sleep(for: .milliseconds(50))
                    children = ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "")
                        .split(separator: "\n").map(String.init)
                }
                await context.events.emit(
                    "test.spawned",
                    ["pid": .number(Double(child.pid)), "children": .array(children.compactMap { Double($0) }.map { .number($0) })])
                let status = await child.wait()
                try Task.checkCancellation()
                answer = "spawned processes exited: \(status)"
            case "escape":
                // A process that leaves the task's process group (setsid): only a per-task
                // cgroup can stop it. Tests use it to prove cgroup.kill reaches it.
                let seconds = Double(argument) ?? 60
                let pidFile = URL(fileURLWithPath: context.workspace).appendingPathComponent("escaped.pids").path
                let child = try context.processes.spawn(
                    "/bin/sh", ["-c", "setsid sleep \(seconds) </dev/null >/dev/null 2>&1 & echo $! >> \(pidFile); wait"],
                    workingDirectory: context.workspace)
                var escaped: [String] = []
                for _ in 0..<100 where escaped.isEmpty {
                    try await Task.sleep(for: .milliseconds(50))
                    escaped = ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                }
                await context.events.emit(
                    "test.escaped", ["pid": .number(Double(child.pid)), "children": .array(escaped.compactMap { Double($0) }.map { .number($0) })])
                _ = await child.wait()
                try await Task.sleep(for: .seconds(seconds))
            case "env":
                // Answers with what a task process sees for one variable (secrets must not leak).
                let child = try context.processes.spawn("/usr/bin/env", [], workingDirectory: context.workspace)
                let output = await child.output()
                let lines = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n")
                answer = lines.first { $0.hasPrefix(argument + "=") }.map(String.init) ?? "\(argument) is unset"
            case "fail":
                throw TurnFailure(argument.isEmpty ? "test failure" : argument, retryable: false)
            case "crash":
                throw TurnFailure(argument.isEmpty ? "test crash" : argument, retryable: true)
            case "ask":
                answer = argument.isEmpty ? "What should I do next?" : argument
                asks = true
            default:
                continue
            }
        }
        await context.events.emit("message", ["role": "assistant", "content": .string(answer)])
        await context.events.emit("run_completed", ["runtime": "test"])
        return TurnResult(
            messages: [["role": "assistant", "content": .string(answer)]], usage: Usage(inputTokens: text.count, outputTokens: answer.count),
            finishReason: .stop, output: answer, requestsInput: asks, model: "test",
            timings: TurnTimings(startedAt: started, durationMs: Date().timeIntervalSince(started) * 1000))
    }
}
