import BosunSystem
import Foundation
import MCP

/// The processes one task started. Every child gets its own process group, so stopping the task
/// stops their descendants too; the worker calls `terminateAll` on cancel, lease loss and
/// shutdown, and nothing a task started outlives it.
public final class TaskProcesses: Sendable {
    private let state = LockedState()
    let baseEnvironment: [String: String]
    let killGrace: Duration
    /// The task's own leaf cgroup when systemd delegated one to the worker: it also catches
    /// processes that left their process group (setsid, daemonising tools).
    public let cgroup: TaskCgroup?
    /// Values for `{{secret.NAME}}` in MCP server configs, read when a server starts. nil: none.
    public let secrets: SecretDirectory?

    public init(
        baseEnvironment: [String: String] = ProcessInfo.processInfo.environment, killGrace: Duration = .seconds(5),
        cgroup: TaskCgroup? = nil, secrets: SecretDirectory? = nil
    ) {
        // The worker's own secrets and systemd sockets never reach task processes.
        self.baseEnvironment = ChildEnvironment.scrubbed(baseEnvironment)
        self.killGrace = killGrace
        self.cgroup = cgroup
        self.secrets = secrets
    }

    /// Starts a command for this task. Fails once the task is being stopped, so a runtime racing
    /// with cancellation cannot leave a process behind.
    public func spawn(
        _ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
        workingDirectory: String? = nil
    ) throws -> ChildProcess {
        try state.withLock { state in
            guard !state.stopping else { throw TurnFailure("the task is stopping; no new processes", retryable: false) }
            let environment = baseEnvironment.merging(ChildEnvironment.scrubbed(extra)) { _, new in new }
            var executable = executable
            var arguments = arguments
            if let cgroup {
                // Joins the task's cgroup before it runs anything: moving it after the spawn
                // races with the children it forks at once. (The sandbox helper of the MCP and
                // sandbox issue will do this join itself, before execve.)
                arguments = ["-c", #"echo $$ > "$0/cgroup.procs" && exec "$@""#, cgroup.path, executable] + arguments
                executable = "/bin/sh"
            }
            let child = try ChildProcess.spawn(
                executable: executable, arguments: arguments, environment: environment,
                workingDirectory: workingDirectory)
            state.children.append(child)
            return child
        }
    }

    /// SIGTERM to every child's process group, SIGKILL after the grace period.
    public func terminateAll() async {
        let children = state.withLock { state -> [ChildProcess] in
            state.stopping = true
            return state.children
        }
        await withTaskGroup(of: Void.self) { group in
            for child in children {
                group.addTask { _ = await child.terminateGroup(grace: self.killGrace) }
            }
        }
        if let cgroup, cgroup.isPopulated {
            try? cgroup.kill()
            _ = await cgroup.waitUntilEmpty(timeout: .seconds(2))
        }
    }

    /// Stops everything and removes the task's cgroup.
    public func finish() async {
        await terminateAll()
        try? cgroup?.remove()
    }

    final class LockedState: @unchecked Sendable {
        struct Value {
            var children: [ChildProcess] = []
            var stopping = false
        }
        private let lock = NSLock()
        private var value = Value()

        func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
            lock.lock()
            defer { lock.unlock() }
            return try body(&value)
        }
    }
}
