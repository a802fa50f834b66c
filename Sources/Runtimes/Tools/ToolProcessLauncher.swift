import BosunSystem
import Sandbox

/// The one place that starts tool processes: the Bash tool's commands and hook commands (MCP
/// servers start through `SandboxedMCPServerLauncher`, which uses the same prepared profile).
///
/// With a `PreparedSandbox` (the worker always has one) every command runs as
/// `bosun-sandbox --bpf-file ... -- /bin/bash -c command`: its own session and process group,
/// the profile's rlimits, network and writable paths, no_new_privs and the seccomp filter, all
/// applied before bash starts. Without one (only the tools' own unit tests) it runs bash directly.
///
/// Either way it goes through the task's `TaskProcesses`, so a timeout or cancellation stops the
/// whole group, it joins the task's cgroup when there is one, gets the scrubbed environment (no
/// `BOSUN_*`, no systemd sockets), and is stopped with the task. Its stdin is /dev/null.
public struct ToolProcessLauncher: Sendable {
    public static let shell = "/bin/bash"
    public let sandbox: PreparedSandbox?

    public init(sandbox: PreparedSandbox? = nil) {
        self.sandbox = sandbox
    }

    /// Starts `/bin/bash -c command` in `workingDirectory`; `environment` is added to the task's
    /// base environment.
    public func spawn(
        _ command: String, environment: [String: String], workingDirectory: String, processes: TaskProcesses
    ) throws -> ChildProcess {
        guard let sandbox else {
            return try processes.spawn(Self.shell, ["-c", command], environment: environment, workingDirectory: workingDirectory)
        }
        let arguments = sandbox.arguments(workspace: workingDirectory, command: [Self.shell, "-c", command])
        return try processes.spawn(
            arguments[0], Array(arguments.dropFirst()), environment: environment, workingDirectory: workingDirectory)
    }
}
