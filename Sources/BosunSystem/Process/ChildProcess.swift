import Foundation
import Glibc
import Synchronization

/// What a finished child left behind.
public struct ChildOutput: Sendable, Hashable {
    public var status: ExitStatus
    public var stdout: Data
    public var stderr: Data
    /// The stream produced more than `maxCapturedBytes`; the rest was read and dropped, so the
    /// child never blocked on a full pipe.
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
}

/// A child process that leads its own process group (started by `ProcessGroupLauncher.spawn`).
///
/// Two dedicated threads per child do the blocking work, so the Swift concurrency pool is never
/// held: one sits in `waitpid` for the leader, the other drains stdout and stderr with `poll`.
/// They are separate because a background process the task left behind keeps the pipes open
/// long after the leader exits: once the leader is reaped, output is drained for at most
/// `outputDrainTimeout` and then abandoned, so `wait()` cannot hang on a stray daemon.
public final class ChildProcess: Sendable {
    public static let defaultMaxCapturedBytes = 8 << 20
    public static let defaultOutputDrainTimeout: Duration = .seconds(2)

    /// The leader's pid, which is also the process-group id.
    public let pid: pid_t
    public var processGroupID: pid_t { pid }

    private struct Captured: Sendable {
        var stdout = Data()
        var stderr = Data()
        var stdoutTruncated = false
        var stderrTruncated = false
    }

    private struct State: Sendable {
        var status: ExitStatus?
        var captured: Captured?
        var result: ChildOutput?
        var waiters: [CheckedContinuation<ChildOutput, Never>] = []
    }

    private let state = Mutex(State())

    /// Starts `executable` in a new process group; see `ProcessGroupLauncher.spawn`.
    public static func spawn(
        executable: String,
        arguments: [String],
        environment: [String: String],
        workingDirectory: String?,
        maxCapturedBytes: Int = defaultMaxCapturedBytes,
        outputDrainTimeout: Duration = defaultOutputDrainTimeout
    ) throws -> ChildProcess {
        try ProcessGroupLauncher.spawn(
            executable: executable, arguments: arguments, environment: environment,
            workingDirectory: workingDirectory, maxCapturedBytes: maxCapturedBytes,
            outputDrainTimeout: outputDrainTimeout)
    }

    /// Takes ownership of the read ends of the child's stdout and stderr pipes and of both ends
    /// of `leaderGone`, a pipe whose write end is closed when the leader has been reaped.
    init(
        pid: pid_t, stdout: Int32, stderr: Int32, leaderGone: (read: Int32, write: Int32),
        maxCapturedBytes: Int, outputDrainTimeout: Duration
    ) {
        self.pid = pid
        let reaper = Thread { [self] in
            let status = Self.reap(pid)
            close(leaderGone.write)
            complete { $0.status = status }
        }
        reaper.name = "bosun-reap-\(pid)"
        let reader = Thread { [self] in
            let captured = Self.drain(
                stdout: stdout, stderr: stderr, leaderGone: leaderGone.read,
                limit: max(0, maxCapturedBytes), drainTimeout: outputDrainTimeout)
            close(leaderGone.read)
            complete { $0.captured = captured }
        }
        reader.name = "bosun-read-\(pid)"
        reaper.start()
        reader.start()
    }

    /// The exit status once the leader has been reaped, without waiting.
    public var exitStatus: ExitStatus? { state.withLock { $0.status } }

    /// Waits for the leader to exit and its output to be collected.
    ///
    /// Not cancellable by design: to stop waiting early, stop the process
    /// (`terminateGroup(grace:)`), which makes this return.
    public func wait() async -> ExitStatus {
        await output().status
    }

    /// Waits like `wait()` and returns the captured output as well.
    public func output() async -> ChildOutput {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> ChildOutput? in
                if let result = state.result { return result }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// SIGTERM to the whole group, SIGKILL after `grace`, then waits for the leader's status.
    /// See `ProcessGroupLauncher.killGroup`.
    @discardableResult
    public func terminateGroup(grace: Duration) async -> ProcessGroupLauncher.GroupStop {
        let outcome = await ProcessGroupLauncher.killGroup(pid, grace: grace)
        _ = await wait()
        return outcome
    }

    private func complete(_ update: (inout State) -> Void) {
        let (result, waiters) = state.withLock { state -> (ChildOutput?, [CheckedContinuation<ChildOutput, Never>]) in
            update(&state)
            guard state.result == nil, let status = state.status, let captured = state.captured else {
                return (nil, [])
            }
            let result = ChildOutput(
                status: status, stdout: captured.stdout, stderr: captured.stderr,
                stdoutTruncated: captured.stdoutTruncated, stderrTruncated: captured.stderrTruncated)
            state.result = result
            defer { state.waiters = [] }
            return (result, state.waiters)
        }
        // Resumed outside the lock: a continuation may run its task inline.
        if let result {
            for waiter in waiters { waiter.resume(returning: result) }
        }
    }

    private static func reap(_ pid: pid_t) -> ExitStatus {
        var raw: Int32 = 0
        while true {
            let result = waitpid(pid, &raw, 0)
            if result == pid, let status = ExitStatus(waitStatus: raw) { return status }
            if result == -1, errno != EINTR { return .exited(-1) }
        }
    }

    /// Reads both pipes to EOF, or until `drainTimeout` after the leader was reaped.
    private static func drain(
        stdout: Int32, stderr: Int32, leaderGone: Int32, limit: Int, drainTimeout: Duration
    ) -> Captured {
        var captured = Captured()
        // Index 0 and 1 are the output pipes, 2 the leader-gone pipe; a negative fd is skipped
        // by poll, which is how finished entries drop out.
        var fds = [stdout, stderr, leaderGone].map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var deadline: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        while fds[0].fd >= 0 || fds[1].fd >= 0 {
            guard let timeout = pollTimeout(until: deadline) else { break }
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in 0..<2 where fds[index].fd >= 0 && fds[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    let chunk = buffer[0..<count]
                    if index == 0 {
                        append(chunk, to: &captured.stdout, truncated: &captured.stdoutTruncated, limit: limit)
                    } else {
                        append(chunk, to: &captured.stderr, truncated: &captured.stderrTruncated, limit: limit)
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(fds[index].fd)
                    fds[index].fd = -1
                }
            }
            if fds[2].fd >= 0 && fds[2].revents != 0 {
                deadline = ContinuousClock.now + drainTimeout
                fds[2].fd = -1
            }
        }
        for index in 0..<2 where fds[index].fd >= 0 { close(fds[index].fd) }
        return captured
    }

    private static func append(_ chunk: ArraySlice<UInt8>, to data: inout Data, truncated: inout Bool, limit: Int) {
        let room = limit - data.count
        if chunk.count <= room {
            data.append(contentsOf: chunk)
        } else {
            if room > 0 { data.append(contentsOf: chunk.prefix(room)) }
            truncated = true
        }
    }
}
