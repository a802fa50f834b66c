import BosunSystem

/// The one place that starts tool processes: the Bash tool's commands and hook commands.
///
/// UNSANDBOXED until the sandbox issue lands: the sandbox issue replaces this launcher with one
/// that execs through `bosun-sandbox` and a profile; nothing else starts tool processes.
///
/// Every command runs as `/bin/bash -c command` through the task's `TaskProcesses`, so it leads
/// its own process group (a timeout or cancellation stops all of it), joins the task's cgroup
/// when there is one, gets the scrubbed environment (no `BOSUN_*`, no systemd sockets), and is
/// stopped with the task. Its stdin is /dev/null.
public struct ToolProcessLauncher: Sendable {
    public static let shell = "/bin/bash"

    public init() {}

    /// Starts `/bin/bash -c command` in `workingDirectory`; `environment` is added to the task's
    /// base environment.
    public func spawn(
        _ command: String, environment: [String: String], workingDirectory: String, processes: TaskProcesses
    ) throws -> ChildProcess {
        try processes.spawn(Self.shell, ["-c", command], environment: environment, workingDirectory: workingDirectory)
    }
}
