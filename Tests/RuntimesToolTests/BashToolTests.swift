import BosunProtocol
import Foundation
import Glibc
import Testing

@testable import Runtimes

@Suite struct BashToolTests {
    let scratch: ScratchWorkspace
    init() throws { scratch = try ScratchWorkspace() }

    @Test func runsInTheWorkspaceAndReportsOutputAndExitCode() async {
        let output = await BashTool()(["command": "pwd; echo out; echo err >&2", "description": "test"], in: scratch.context())
        #expect(output == .success("\(scratch.root)\nout\nerr\nexit code 0"))
    }

    @Test func nonZeroExitIsAnError() async {
        let output = await BashTool()(["command": "echo partial; exit 3"], in: scratch.context())
        #expect(output == .error("partial\nexit code 3"))
        let quiet = await BashTool()(["command": "false"], in: scratch.context())
        #expect(quiet == .error("exit code 1"))
        let signal = await BashTool()(["command": "kill -9 $$"], in: scratch.context())
        #expect(signal == .error("Command was killed by SIGKILL"))
    }

    @Test func outputIsCappedWithANote() async {
        let output = await BashTool()(["command": "head -c 5000 /dev/zero | tr '\\0' a"], in: scratch.context(outputCap: 1000))
        #expect(output.text == String(repeating: "a", count: 1000) + "\n[output truncated: 4000 chars omitted]\nexit code 0")
        #expect(!output.isError)
    }

    @Test func workerSecretsDoNotReachTheCommand() async {
        let processes = TaskProcesses(
            baseEnvironment: ToolFixtures.environment.merging(["BOSUN_API_KEY": "bsk_secret"]) { $1 }, killGrace: .seconds(1))
        let output = await BashTool()(["command": "echo ${BOSUN_API_KEY:-unset}"], in: scratch.context(processes: processes))
        #expect(output == .success("unset\nexit code 0"))
    }

    @Test func timeoutKillsTheWholeProcessGroup() async throws {
        let started = ContinuousClock.now
        // The background sleep keeps running after the shell would have been killed alone.
        let output = await BashTool()(
            ["command": "sleep 300 & echo $!; sleep 300", "timeout": 500], in: scratch.context())
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(output.isError)
        #expect(output.text.contains("Command timed out after 500 ms and was killed"))
        let pid = try #require(pid_t(output.text.split(separator: "\n").first ?? ""))
        #expect(await ToolFixtures.eventually { !ToolFixtures.isRunning(pid) }, "background child \(pid) survived")
    }

    @Test func defaultAndMaximumTimeoutsApply() async {
        var context = scratch.context(bashDefaultTimeout: .milliseconds(300))
        let byDefault = await BashTool()(["command": "sleep 30"], in: context)
        #expect(byDefault.text.contains("timed out after 300 ms"))
        context.bashMaxTimeout = .seconds(1)
        let clamped = await BashTool()(["command": "sleep 30", "timeout": 600_000], in: context)
        #expect(clamped.text.contains("timed out after 1 s"))
        let invalid = await BashTool()(["command": "true", "timeout": -5], in: context)
        #expect(invalid.isError && invalid.text.contains("timeout must be a positive"))
    }

    @Test func cancellationKillsTheGroupPromptly() async throws {
        let marker = scratch.root + "/pid"
        let context = scratch.context(processes: TaskProcesses(baseEnvironment: ToolFixtures.environment, killGrace: .seconds(30)))
        let call = Task {
            await BashTool()(["command": .string("sleep 300 & echo $! > \(marker); sleep 300")], in: context)
        }
        #expect(await ToolFixtures.eventually { scratch.read("pid")?.hasSuffix("\n") == true })
        let pid = try #require(pid_t(scratch.read("pid")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        let cancelled = ContinuousClock.now
        call.cancel()
        let output = await call.value
        // Not the 30 s kill grace: cancellation is SIGKILL at once. (The bound leaves room for a
        // loaded 2-core machine running the whole suite in parallel: 3.75 s was seen there.)
        #expect(ContinuousClock.now - cancelled < .seconds(10))
        #expect(output == .error("Command was cancelled and killed, with every process it started."))
        #expect(await ToolFixtures.eventually { !ToolFixtures.isRunning(pid) }, "background child \(pid) survived")
    }

    @Test func alreadyCancelledCallsStartNothing() async {
        let marker = scratch.root + "/ran"
        let context = scratch.context()
        let call = Task {
            try? await Task.sleep(for: .seconds(10))
            return await BashTool()(["command": .string("touch \(marker)")], in: context)
        }
        call.cancel()
        let output = await call.value
        #expect(output == .error("Bash was cancelled"))
        #expect(!scratch.exists(marker))
    }

    @Test func aStoppingTaskStartsNoNewCommands() async {
        let processes = TaskProcesses(baseEnvironment: ToolFixtures.environment, killGrace: .seconds(1))
        await processes.terminateAll()
        let output = await BashTool()(["command": "echo hi"], in: scratch.context(processes: processes))
        #expect(output.isError)
        #expect(output.text.hasPrefix("Could not start the command: the task is stopping"))
        let empty = await BashTool()(["command": "  "], in: scratch.context())
        #expect(empty == .error("Invalid arguments for Bash: command is empty"))
    }
}
