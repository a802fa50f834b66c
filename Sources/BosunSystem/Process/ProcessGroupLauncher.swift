import Foundation
import Glibc

/// Starts task processes, each the leader of a new process group, and stops whole groups.
///
/// A task's command may fork freely (shells, build tools, agents running tools); a process
/// group is what lets the worker stop all of it with one signal. Grandchildren that leave the
/// group on purpose (`setsid`, daemonising) are beyond its reach: per-task cgroups
/// (`TaskCgroup`) catch those.
public enum ProcessGroupLauncher {
    /// How `killGroup` ended.
    public enum GroupStop: Sendable, Hashable {
        /// No living member when it was called.
        case alreadyGone
        /// Every member exited within the grace period after SIGTERM.
        case exitedAfterSIGTERM
        /// The grace period ran out (or the caller was cancelled) and the group got SIGKILL.
        case killed
    }

    /// The PATH searched when the child's environment has none: systemd's default for services.
    static let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Spawns `executable` as the leader of a new process group (pgid == pid).
    ///
    /// - `executable`: a path (relative ones are taken from `workingDirectory`) or a bare name
    ///   looked up on the `PATH` of `environment`, not the worker's.
    /// - `arguments`: argv[1...]; argv[0] is `executable` as given.
    /// - `environment`: exactly the child's environment. Pass it through
    ///   `ChildEnvironment.scrubbed` so the worker's credentials and systemd sockets stay home.
    /// - stdin is /dev/null; stdout and stderr are captured (see `ChildProcess.output()`).
    /// - Signal dispositions are reset to default and the signal mask emptied, because both
    ///   survive exec: without this a task would inherit the worker's ignored SIGPIPE and never
    ///   die of a closed pipe, or the blocked signals of whichever thread spawned it.
    public static func spawn(
        executable: String,
        arguments: [String],
        environment: [String: String],
        workingDirectory: String?,
        maxCapturedBytes: Int = ChildProcess.defaultMaxCapturedBytes,
        outputDrainTimeout: Duration = ChildProcess.defaultOutputDrainTimeout
    ) throws -> ChildProcess {
        try checkWorkingDirectory(workingDirectory)
        let path = try resolve(executable, searchPath: environment["PATH"], workingDirectory: workingDirectory)

        // Every descriptor made here is closed on the way out, except the read ends that a
        // successfully started ChildProcess takes over.
        var opened: [Int32] = []
        defer { opened.forEach { close($0) } }
        func makePipe() throws -> (read: Int32, write: Int32) {
            let pipe = try GNULibc.makePipe()
            opened += [pipe.read, pipe.write]
            return pipe
        }
        let stdoutPipe = try makePipe()
        let stderrPipe = try makePipe()
        // Closed by the reaper thread once the leader is reaped; the reader thread sees the
        // hang-up and starts the drain deadline, so no timer ticks for the life of the task.
        let leaderGone = try makePipe()

        let pid = try spawnProcess(
            path: path, arguments: [executable] + arguments, environment: environment,
            workingDirectory: workingDirectory, stdout: stdoutPipe.write, stderr: stderrPipe.write)
        opened.removeAll { [stdoutPipe.read, stderrPipe.read, leaderGone.read, leaderGone.write].contains($0) }
        return ChildProcess(
            pid: pid, stdout: stdoutPipe.read, stderr: stderrPipe.read, leaderGone: leaderGone,
            maxCapturedBytes: maxCapturedBytes, outputDrainTimeout: outputDrainTimeout)
    }

    /// Refuses a missing working directory, or any when this libc cannot chdir in the child.
    static func checkWorkingDirectory(_ workingDirectory: String?) throws {
        guard let workingDirectory else { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: workingDirectory, isDirectory: &isDirectory),
              isDirectory.boolValue
        else {
            throw SpawnError(.workingDirectoryNotFound, "\(workingDirectory) is not a directory")
        }
        guard GNULibc.addChdir != nil else {
            // Without addchdir_np the only options are chdir in the parent (a race with every
            // other thread) or a shell trampoline (quoting hazards); refuse instead.
            throw SpawnError(.unsupported, "posix_spawn_file_actions_addchdir_np is missing (glibc < 2.29)")
        }
    }

    /// Starts the process; `stdin` nil means /dev/null. Shared with `InteractiveChild.spawn`.
    static func spawnProcess(
        path: String, arguments: [String], environment: [String: String], workingDirectory: String?,
        stdin: Int32? = nil, stdout: Int32, stderr: Int32
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        guard posix_spawn_file_actions_init(&actions) == 0 else {
            throw SpawnError(.systemCall, "posix_spawn_file_actions_init", errno: errno)
        }
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        guard posix_spawnattr_init(&attributes) == 0 else {
            throw SpawnError(.systemCall, "posix_spawnattr_init", errno: errno)
        }
        defer { posix_spawnattr_destroy(&attributes) }

        func check(_ result: Int32, _ what: String) throws {
            if result != 0 { throw SpawnError(.systemCall, what, errno: result) }
        }
        if let stdin {
            try check(posix_spawn_file_actions_adddup2(&actions, stdin, 0), "adddup2 stdin")
        } else {
            try check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "addopen /dev/null")
        }
        try check(posix_spawn_file_actions_adddup2(&actions, stdout, 1), "adddup2 stdout")
        try check(posix_spawn_file_actions_adddup2(&actions, stderr, 2), "adddup2 stderr")
        if let workingDirectory, let addChdir = GNULibc.addChdir {
            try check(addChdir(&actions, workingDirectory), "addchdir_np \(workingDirectory)")
        }
        // Where glibc lacks closefrom (< 2.34), only O_CLOEXEC discipline keeps stray
        // descriptors out of the child; Foundation and this package open everything that way.
        if let addClosefrom = GNULibc.addClosefrom {
            try check(addClosefrom(&actions, 3), "addclosefrom_np")
        }

        var defaults = sigset_t()
        sigfillset(&defaults)
        // glibc's sigfillset leaves out its two internal signals (32 and 33, for thread
        // cancellation and setxid), and its posix_spawn then sets them to SIG_IGN in the child,
        // where exec keeps them ignored. Setting their bits directly (sigaddset refuses them)
        // makes the child start with every disposition at default, as after a shell's fork+exec.
        withUnsafeMutablePointer(to: &defaults.__val) { tuple in
            tuple.withMemoryRebound(to: UInt.self, capacity: MemoryLayout<sigset_t>.size / MemoryLayout<UInt>.size) { words in
                for signal in [32, 33] {
                    words[(signal - 1) / UInt.bitWidth] |= 1 << UInt((signal - 1) % UInt.bitWidth)
                }
            }
        }
        try check(posix_spawnattr_setsigdefault(&attributes, &defaults), "setsigdefault")
        var mask = sigset_t()
        sigemptyset(&mask)
        try check(posix_spawnattr_setsigmask(&attributes, &mask), "setsigmask")
        try check(posix_spawnattr_setpgroup(&attributes, 0), "setpgroup")
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        try check(posix_spawnattr_setflags(&attributes, Int16(flags)), "setflags")

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        // glibc's posix_spawn returns only after the exec (CLONE_VFORK), so the group already
        // exists for kill(-pid) and an exec failure comes back here as an error code.
        var result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        // ETXTBSY: a script the caller just wrote is still open for writing in a child some other
        // thread is spawning at this instant (inherited between its fork and its exec). The
        // window closes within milliseconds, so a few short retries fix it.
        var retries = 0
        while result == ETXTBSY, retries < 6 {
            retries += 1
            usleep(UInt32(1_000 << retries))
            result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        }
        guard result == 0 else {
            throw SpawnError(
                .spawnFailed,
                "could not start \(path)" + (workingDirectory.map { " in \($0)" } ?? ""), errno: result)
        }
        return pid
    }

    /// Finds the file to exec. A bare name is looked up here, on the child's PATH, because
    /// posix_spawnp would search the worker's own PATH instead.
    static func resolve(_ executable: String, searchPath: String?, workingDirectory: String?) throws -> String {
        if executable.contains("/") {
            let candidate = executable.hasPrefix("/")
                ? executable
                : (workingDirectory ?? FileManager.default.currentDirectoryPath) + "/" + executable
            guard isExecutableFile(candidate) else {
                throw SpawnError(.executableNotFound, "\(candidate) is not an executable file")
            }
            // Relative paths stay relative: the child resolves them after its chdir.
            return executable
        }
        let directories = (searchPath ?? defaultSearchPath).split(separator: ":").map(String.init)
        // Empty and relative PATH entries mean "the current directory" to a shell; a task's
        // checkout must not be able to shadow `git` or `sh` that way, so they are skipped.
        for directory in directories where directory.hasPrefix("/") {
            let candidate = directory.hasSuffix("/") ? directory + executable : directory + "/" + executable
            if isExecutableFile(candidate) { return candidate }
        }
        throw SpawnError(.executableNotFound, "\(executable) not found on PATH \(searchPath ?? defaultSearchPath)")
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }

    /// Stops every process in group `group`: SIGTERM (and SIGCONT, so stopped members can act on
    /// it), up to `grace` for all of them to exit, then SIGKILL. Works for any group, not only
    /// ones this launcher started.
    ///
    /// Returns once no member is running. If the calling task is cancelled, the grace period
    /// ends early and SIGKILL follows at once: cancellation must never leave processes behind.
    /// The pid of a reaped leader could in principle be reused as a new group id once the old
    /// group is empty; the group is checked for living members first, which narrows that to
    /// a group created in the microseconds between the check and the signal.
    @discardableResult
    public static func killGroup(_ group: pid_t, grace: Duration) async -> GroupStop {
        // 0 would signal the worker's own group and 1 (as -1) every process it may signal.
        guard group > 1 else { return .alreadyGone }
        if ProcessTable.isGroupGone(group) { return .alreadyGone }
        _ = kill(-group, SIGTERM)
        _ = kill(-group, SIGCONT)
        if await waitUntilGone(group, within: grace) { return .exitedAfterSIGTERM }
        _ = kill(-group, SIGKILL)
        // A fresh task so a cancelled caller still waits out the kill; processes in
        // uninterruptible sleep can take a moment to die.
        _ = await Task { await waitUntilGone(group, within: .seconds(5)) }.value
        return .killed
    }

    /// Polls until the group has no living member; false when `within` runs out or the task
    /// is cancelled.
    static func waitUntilGone(_ group: pid_t, within limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        var interval = Duration.milliseconds(5)
        while true {
            if ProcessTable.isGroupGone(group) { return true }
            let now = clock.now
            if now >= deadline || Task.isCancelled { return false }
            do {
                try await Task.sleep(for: min(interval, deadline - now))
            } catch {
                return ProcessTable.isGroupGone(group)
            }
            interval = min(interval * 2, .milliseconds(100))
        }
    }

    /// Makes writes to a closed pipe or socket fail with EPIPE instead of killing the worker
    /// (a task that exits while the worker writes to it, a dropped connection). Children do
    /// not inherit this: `spawn` resets every signal to its default.
    public static func ignoreSIGPIPE() {
        _ = signal(SIGPIPE, SIG_IGN)
    }
}
