import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `nvidia-smi` fallback, for hosts where NVML cannot be loaded into the worker.
enum NvidiaSMI {
    static let fields = [
        "uuid", "name", "pci.bus_id", "memory.total", "memory.used", "memory.free", "utilization.gpu",
        "temperature.gpu", "power.draw", "mig.mode.current", "driver_version",
    ]
    static let arguments = ["--query-gpu=" + fields.joined(separator: ","), "--format=csv,noheader,nounits"]

    /// nvidia-smi's exit status when no kernel driver is loaded: a host without GPUs that
    /// happens to have the utilities installed.
    static let exitDriverNotLoaded: Int32 = 9
    /// "No devices were found": the driver is up and has no GPU to show.
    static let exitNoDevices: Int32 = 6
    /// Output beyond this is not a GPU list; stop buffering it.
    static let outputLimit = 1 << 20

    /// An executable nvidia-smi: the configured path, or the first on `searchPath` (PATH).
    static func locate(explicitPath: String?, searchPath: String?) -> String? {
        if let explicitPath {
            return isExecutableFile(explicitPath) ? explicitPath : nil
        }
        let directories = (searchPath ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        return directories.lazy
            .map { $0.hasSuffix("/") ? "\($0)nvidia-smi" : "\($0)/nvidia-smi" }
            .first(where: isExecutableFile)
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }

    // MARK: - Parsing

    /// One device per line. nvidia-smi's output is not a stable interface: any field may read
    /// `[N/A]`, `[Not Supported]` or `[Insufficient Permissions]`, which leaves that field
    /// absent rather than dropping the device. Lines without a UUID cannot be keyed and are
    /// skipped.
    static func parse(_ csv: String) -> [GPUDevice] {
        csv.split(whereSeparator: \.isNewline).compactMap { line -> GPUDevice? in
            var columns = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard columns.count >= fields.count else { return nil }
            if columns.count > fields.count {
                // Only the name is free text; a comma in it splits it over several columns.
                let extra = columns.count - fields.count
                columns.replaceSubrange(1...(1 + extra), with: [columns[1...(1 + extra)].joined(separator: ",")])
            }
            let values = columns.map { present($0.trimmingCharacters(in: .whitespaces)) }
            guard let uuid = values[0] else { return nil }
            let name = values[1] ?? "Unknown NVIDIA GPU"
            return GPUDevice(
                uuid: uuid,
                name: name,
                pciBusID: values[2],
                memoryTotalMiB: values[3].flatMap(integer),
                memoryUsedMiB: values[4].flatMap(integer),
                memoryFreeMiB: values[5].flatMap(integer),
                utilizationPercent: values[6].flatMap(integer),
                temperatureC: values[7].flatMap(integer),
                powerDrawW: values[8].flatMap { Double($0) },
                migMode: values[9],
                driverVersion: values[10],
                isMIGInstance: false
            )
        }
    }

    /// nil for the placeholders nvidia-smi prints instead of a value.
    private static func present(_ value: String) -> String? {
        if value.isEmpty || value == "N/A" { return nil }
        if value.hasPrefix("["), value.hasSuffix("]") { return nil }
        return value
    }

    /// Whole numbers; some drivers print "45.00" where others print "45".
    private static func integer(_ value: String) -> Int? {
        if let whole = Int(value) { return whole }
        return Double(value).flatMap { $0.isFinite ? Int($0.rounded()) : nil }
    }

    // MARK: - Running

    struct Output: Sendable, Equatable {
        /// nil when the process was killed by a signal.
        var exitStatus: Int32?
        var standardOutput: String
        var standardError: String

        /// The first line worth showing an operator when the command failed.
        var failureSummary: String {
            let text = [standardError, standardOutput]
                .lazy
                .compactMap { $0.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) } }
                .first
                .map { String($0.prefix(200)) }
            let status = exitStatus.map { "exit status \($0)" } ?? "killed by a signal"
            return text.map { "\(status): \($0)" } ?? status
        }
    }

    enum RunError: Error, Equatable {
        case spawnFailed(Int32)
        case cancelled
    }

    /// Runs nvidia-smi in a process group of its own, so that a timeout can kill whatever it
    /// started too; `attempt` does the killing. Blocking.
    static func run(executable: String, attempt: GPUProbeAttempt) -> Result<Output, RunError> {
        guard let outputPipe = closeOnExecPipe() else { return .failure(.spawnFailed(errno)) }
        guard let errorPipe = closeOnExecPipe() else {
            let code = errno
            outputPipe.forEach { close($0) }
            return .failure(.spawnFailed(code))
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        if let closeFrom = closeFrom {
            // Descriptors the worker opened without O_CLOEXEC (task pipes, sockets) must not
            // outlive it in a child that may hang on a wedged driver.
            _ = closeFrom(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child must not inherit our blocked signals or ignored SIGPIPE, or a killed
        // reader would leave it spinning on EPIPE instead of dying.
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        sigaddset(&defaultSignals, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        )

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Only the worker talks to systemd; a child that inherited these could ping the
        // watchdog or report readiness on its behalf.
        let environment: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment
            .filter { $0.key != "NOTIFY_SOCKET" && !$0.key.hasPrefix("WATCHDOG_") }
            .map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environment.forEach { free($0) } }

        var spawnError: Int32 = 0
        let pid = attempt.spawn { () -> pid_t? in
            var pid = pid_t()
            spawnError = posix_spawn(&pid, executable, &actions, &attributes, argv, environment)
            return spawnError == 0 ? pid : nil
        }
        close(outputPipe[1])
        close(errorPipe[1])
        defer {
            close(outputPipe[0])
            close(errorPipe[0])
        }
        guard let pid else {
            return .failure(spawnError == 0 ? .cancelled : .spawnFailed(spawnError))
        }

        let (standardOutput, standardError) = drain(outputPipe[0], errorPipe[0])

        // Wait without reaping first, so the pid stays ours until the attempt has forgotten
        // it: a kill aimed at a reaped (and possibly reused) pid would hit a stranger.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
        attempt.childExited()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}

        // <sys/wait.h> macros: low 7 bits are the terminating signal, 0 for a normal exit.
        let exitStatus: Int32? = status & 0x7f == 0 ? (status >> 8) & 0xff : nil
        return .success(Output(
            exitStatus: exitStatus,
            standardOutput: String(decoding: standardOutput, as: UTF8.self),
            standardError: String(decoding: standardError, as: UTF8.self)
        ))
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np` arrived in glibc 2.34; looked up at run time
    /// so the worker still starts on older distributions, where children inherit as before.
    private static let closeFrom: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }

    /// A one-way channel whose ends are close-on-exec from the start. Glibc's module map hides
    /// pipe2 (it needs _GNU_SOURCE), and pipe + fcntl leaves a window in which a child spawned
    /// by another thread inherits the write end and holds our EOF back; a socket pair is
    /// created close-on-exec atomically. Index 0 is read, 1 is written, as with pipe().
    private static func closeOnExecPipe() -> [Int32]? {
        var ends: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &ends) == 0 else { return nil }
        return ends
    }

    /// Reads both pipes to EOF together, so a child that fills one while we block on the
    /// other cannot deadlock us.
    private static func drain(_ outputFD: Int32, _ errorFD: Int32) -> ([UInt8], [UInt8]) {
        var buffers: [[UInt8]] = [[], []]
        var fds = [pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: errorFD, events: Int16(POLLIN), revents: 0)]
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while fds.contains(where: { $0.fd >= 0 }) {
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if buffers[index].count < outputLimit { buffers[index].append(contentsOf: chunk[0..<count]) }
                } else if count == 0 || errno != EINTR {
                    // poll ignores negative descriptors, which retires this one.
                    fds[index].fd = -1
                }
            }
        }
        return (buffers[0], buffers[1])
    }
}
