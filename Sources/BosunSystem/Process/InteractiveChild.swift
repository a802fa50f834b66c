import Foundation
import Glibc
import Synchronization

/// A child process that leads its own process group and talks over pipes while it runs:
/// the parent writes its stdin and receives its stdout and stderr line by line (an MCP stdio
/// server, a language server, any line protocol).
///
/// Like `ChildProcess`, all blocking work happens on dedicated threads so the Swift
/// concurrency pool is never held: one thread sits in `waitpid`, one polls stdout and stderr
/// and splits them into lines, one writes to stdin what did not fit into the pipe at once
/// (`write` tries a non-blocking write first, so a request/response protocol costs no thread
/// hand-off on the way out). Every pipe end the parent keeps is close-on-exec. Callers must ignore SIGPIPE (`ProcessGroupLauncher.ignoreSIGPIPE()`):
/// a write to a child that has gone then fails with EPIPE instead of killing the worker.
public final class InteractiveChild: Sendable {
    public static let defaultMaxLineBytes = 64 << 20

    /// What the child did, in the order the threads saw it.
    public enum Event: Sendable, Hashable {
        /// One stdout line without its trailing newline (a final line without one counts too).
        case stdoutLine(Data)
        /// One stderr line without its trailing newline.
        case stderrLine(Data)
        /// stdout reached EOF (or was abandoned after the leader exited, see `outputDrainTimeout`).
        case stdoutClosed
        /// The leader exited and was reaped.
        case exited(ExitStatus)
    }

    /// The leader's pid, which is also the process-group id.
    public let pid: pid_t
    public var processGroupID: pid_t { pid }

    /// Everything the child does, ending after both `.stdoutClosed` and `.exited` have been
    /// delivered. Single consumer; use either this or `handleEvents(_:)`.
    public var events: AsyncStream<Event> {
        delivery.withLock { delivery in
            switch delivery {
            case .unclaimed(let early, let finished):
                for event in early { continuation.yield(event) }
                if finished { continuation.finish() }
                delivery = .stream
            case .stream:
                break
            case .handler:
                preconditionFailure("InteractiveChild events are already delivered to a handler")
            }
        }
        return stream
    }

    /// Delivers every event (those so far first) to `handler` instead of `events`, which then
    /// stays empty. `handler` runs on the child's own threads, one call at a time and in order;
    /// it must not block. This saves the hop through an async stream for a protocol client
    /// that answers on the reader thread.
    public func handleEvents(_ handler: @escaping @Sendable (Event) -> Void) {
        delivery.withLock { delivery in
            guard case .unclaimed(let early, _) = delivery else {
                preconditionFailure("InteractiveChild events are already being consumed")
            }
            for event in early { handler(event) }
            delivery = .handler(handler)
        }
    }

    private struct State: Sendable {
        var status: ExitStatus?
        var waiters: [CheckedContinuation<ExitStatus, Never>] = []
        /// Data the writer thread still has to write, in order.
        var pendingWrites: [Data] = []
        /// The writer thread holds chunks it took from `pendingWrites`.
        var writerBusy = false
        var stdinClosing = false
        var stdinBroken = false
        /// The writer closed the stdin descriptor: its number may be reused now.
        var stdinClosed = false
        var finishedParts = 0
    }

    /// Where events go: kept until the first consumer claims them.
    private enum Delivery {
        case unclaimed([Event], finished: Bool)
        case stream
        case handler(@Sendable (Event) -> Void)
    }

    private let state = Mutex(State())
    private let delivery = Mutex(Delivery.unclaimed([], finished: false))
    private let writeSignal = DispatchSemaphore(value: 0)
    private let stdinDescriptor: Int32
    private let stream: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    /// Starts `executable` in a new process group with stdin, stdout and stderr on pipes.
    ///
    /// `executable`, `arguments`, `environment` and `workingDirectory` mean what they mean for
    /// `ProcessGroupLauncher.spawn`, including the reset signal dispositions. A line longer than
    /// `maxLineBytes` is cut there (the rest up to the newline is dropped). Once the leader has
    /// been reaped, output still held open by stray grandchildren is read for at most
    /// `outputDrainTimeout` and then abandoned.
    public static func spawn(
        executable: String,
        arguments: [String],
        environment: [String: String],
        workingDirectory: String?,
        maxLineBytes: Int = defaultMaxLineBytes,
        outputDrainTimeout: Duration = ChildProcess.defaultOutputDrainTimeout
    ) throws -> InteractiveChild {
        try ProcessGroupLauncher.checkWorkingDirectory(workingDirectory)
        let path = try ProcessGroupLauncher.resolve(
            executable, searchPath: environment["PATH"], workingDirectory: workingDirectory)

        var opened: [Int32] = []
        defer { opened.forEach { close($0) } }
        func makePipe() throws -> (read: Int32, write: Int32) {
            let pipe = try GNULibc.makePipe()
            opened += [pipe.read, pipe.write]
            return pipe
        }
        let stdinPipe = try makePipe()
        // Only the parent's end: `write` must never block a caller, the child's end stays blocking.
        guard fcntl(stdinPipe.write, F_SETFL, fcntl(stdinPipe.write, F_GETFL) | O_NONBLOCK) == 0 else {
            throw SpawnError(.systemCall, "fcntl(O_NONBLOCK)", errno: errno)
        }
        let stdoutPipe = try makePipe()
        let stderrPipe = try makePipe()
        let leaderGone = try makePipe()

        let pid = try ProcessGroupLauncher.spawnProcess(
            path: path, arguments: [executable] + arguments, environment: environment,
            workingDirectory: workingDirectory, stdin: stdinPipe.read, stdout: stdoutPipe.write,
            stderr: stderrPipe.write)
        let kept = [stdinPipe.write, stdoutPipe.read, stderrPipe.read, leaderGone.read, leaderGone.write]
        opened.removeAll { kept.contains($0) }
        return InteractiveChild(
            pid: pid, stdin: stdinPipe.write, stdout: stdoutPipe.read, stderr: stderrPipe.read,
            leaderGone: leaderGone, maxLineBytes: max(1, maxLineBytes), outputDrainTimeout: outputDrainTimeout)
    }

    private init(
        pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32, leaderGone: (read: Int32, write: Int32),
        maxLineBytes: Int, outputDrainTimeout: Duration
    ) {
        self.pid = pid
        self.stdinDescriptor = stdin
        (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        let reaper = Thread { [self] in
            let status = Self.reap(pid)
            close(leaderGone.write)
            let waiters = state.withLock { state in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
            // Unblocks the writer, which then closes stdin.
            writeSignal.signal()
            deliver(.exited(status))
            finishPart()
        }
        reaper.name = "bosun-reap-\(pid)"
        let reader = Thread { [self] in
            Self.readLines(
                stdout: stdout, stderr: stderr, leaderGone: leaderGone.read, maxLineBytes: maxLineBytes,
                drainTimeout: outputDrainTimeout, deliver: deliver)
            close(leaderGone.read)
            finishPart()
        }
        reader.name = "bosun-lines-\(pid)"
        let writer = Thread { [self] in
            writeLoop(stdin)
        }
        writer.name = "bosun-stdin-\(pid)"
        reaper.start()
        reader.start()
        writer.start()
    }

    private func deliver(_ event: Event) {
        delivery.withLock { delivery in
            switch delivery {
            case .unclaimed(var early, let finished):
                // Replaced first so `early` is the array's only reference and appends in place.
                delivery = .stream
                early.append(event)
                delivery = .unclaimed(early, finished: finished)
            case .stream:
                continuation.yield(event)
            case .handler(let handler):
                handler(event)
            }
        }
    }

    private func finishPart() {
        let done = state.withLock { state in
            state.finishedParts += 1
            return state.finishedParts == 2
        }
        guard done else { return }
        delivery.withLock { delivery in
            switch delivery {
            case .unclaimed(let early, _): delivery = .unclaimed(early, finished: true)
            case .stream: continuation.finish()
            case .handler: break
            }
        }
    }

    /// The exit status once the leader has been reaped, without waiting.
    public var exitStatus: ExitStatus? { state.withLock { $0.status } }

    /// Writes `data` to the child's stdin without blocking: as much as the pipe takes at once is
    /// written right here, the rest is queued for the writer thread. Writes keep their order.
    /// Throws when stdin was closed or the child stopped reading (EPIPE).
    public func write(_ data: Data) throws {
        let queued = try state.withLock { state -> Bool in
            if state.stdinBroken { throw SpawnError(.systemCall, "stdin of \(pid) is broken", errno: EPIPE) }
            if state.stdinClosing || state.status != nil || state.stdinClosed {
                throw SpawnError(.systemCall, "stdin of \(pid) is closed", errno: EPIPE)
            }
            var rest = data[...]
            if state.pendingWrites.isEmpty && !state.writerBusy {
                // Under the lock, so the writer cannot close (and the number be reused) meanwhile.
                switch Self.writeNow(rest, to: stdinDescriptor) {
                case .written(let count):
                    rest = rest.dropFirst(count)
                case .broken:
                    state.stdinBroken = true
                    throw SpawnError(.systemCall, "stdin of \(pid) is broken", errno: EPIPE)
                }
            }
            if rest.isEmpty { return false }
            state.pendingWrites.append(Data(rest))
            return true
        }
        if queued { writeSignal.signal() }
    }

    private enum WriteOutcome { case written(Int), broken }

    /// One non-blocking attempt: how much went into the pipe (0 when it is full).
    private static func writeNow(_ data: Data.SubSequence, to fd: Int32) -> WriteOutcome {
        data.withUnsafeBytes { raw -> WriteOutcome in
            guard let base = raw.baseAddress, raw.count > 0 else { return .written(0) }
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, base + offset, raw.count - offset)
                if written >= 0 {
                    offset += written
                } else if errno == EINTR {
                    continue
                } else if errno == EAGAIN {
                    break
                } else {
                    return .broken
                }
            }
            return .written(offset)
        }
    }

    /// Closes the child's stdin after everything queued has been written: the polite "please
    /// exit" for line-protocol servers.
    public func closeStdin() {
        state.withLock { $0.stdinClosing = true }
        writeSignal.signal()
    }

    /// Waits for the leader to exit. Not cancellable; stop the process to make it return.
    public func wait() async -> ExitStatus {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> ExitStatus? in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Waits up to `limit` for the leader to exit; nil if it is still running.
    public func wait(upTo limit: Duration) async -> ExitStatus? {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        var interval = Duration.milliseconds(2)
        while true {
            if let status = exitStatus { return status }
            let now = clock.now
            if now >= deadline { return nil }
            do {
                try await Task.sleep(for: min(interval, deadline - now))
            } catch {
                return exitStatus
            }
            interval = min(interval * 2, .milliseconds(50))
        }
    }

    /// SIGTERM to the whole group, SIGKILL after `grace`, then waits for the leader's status.
    @discardableResult
    public func terminateGroup(grace: Duration) async -> ProcessGroupLauncher.GroupStop {
        closeStdin()
        let outcome = await ProcessGroupLauncher.killGroup(pid, grace: grace)
        _ = await wait()
        return outcome
    }

    private func writeLoop(_ fd: Int32) {
        defer {
            state.withLock { state in
                state.stdinClosed = true
                state.writerBusy = false
                close(fd)
            }
        }
        while true {
            writeSignal.wait()
            let (chunks, closing, exited) = state.withLock { state in
                defer { state.pendingWrites = [] }
                state.writerBusy = !state.pendingWrites.isEmpty
                return (state.pendingWrites, state.stdinClosing, state.status != nil)
            }
            for chunk in chunks where !writeAll(chunk, to: fd) {
                state.withLock {
                    $0.stdinBroken = true
                    $0.pendingWrites = []
                }
                return
            }
            let more = state.withLock { state -> Bool in
                state.writerBusy = false
                return !state.pendingWrites.isEmpty
            }
            if closing || exited {
                if !more || exited { return }
            }
        }
    }

    /// Writes all of `data` to the non-blocking `fd`, waiting in poll while the pipe is full.
    private func writeAll(_ data: Data, to fd: Int32) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            guard let base = raw.baseAddress else { return true }
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN {
                        var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&ready, 1, -1)
                        continue
                    }
                    return false
                }
                offset += written
            }
            return true
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

    /// Splits stdout and stderr into lines until stdout and stderr reach EOF, or until
    /// `drainTimeout` after the leader was reaped.
    private static func readLines(
        stdout: Int32, stderr: Int32, leaderGone: Int32, maxLineBytes: Int, drainTimeout: Duration,
        deliver: (Event) -> Void
    ) {
        var fds = [stdout, stderr, leaderGone].map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var partial = [Data(), Data()]
        var overflowing = [false, false]
        var deadline: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        func emit(_ index: Int, _ line: Data) {
            deliver(index == 0 ? .stdoutLine(line) : .stderrLine(line))
        }
        func closeStream(_ index: Int) {
            close(fds[index].fd)
            fds[index].fd = -1
            if !partial[index].isEmpty { emit(index, partial[index]) }
            partial[index] = Data()
            if index == 0 { deliver(.stdoutClosed) }
        }

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
                    var start = 0
                    while start < count {
                        let newline = buffer[start..<count].firstIndex(of: UInt8(ascii: "\n"))
                        let end = newline ?? count
                        if !overflowing[index] {
                            let room = maxLineBytes - partial[index].count
                            let piece = buffer[start..<end]
                            if piece.count <= room {
                                partial[index].append(contentsOf: piece)
                            } else {
                                partial[index].append(contentsOf: piece.prefix(room))
                                overflowing[index] = true
                            }
                        }
                        if newline != nil {
                            emit(index, partial[index])
                            partial[index] = Data()
                            overflowing[index] = false
                            start = end + 1
                        } else {
                            start = end
                        }
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    closeStream(index)
                }
            }
            if fds[2].fd >= 0 && fds[2].revents != 0 {
                deadline = ContinuousClock.now + drainTimeout
                fds[2].fd = -1
            }
        }
        for index in 0..<2 where fds[index].fd >= 0 { closeStream(index) }
    }
}
