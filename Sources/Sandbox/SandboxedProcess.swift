import CSeccomp
import Foundation
import Glibc

/// A spawned helper (and, after its execve, the tool). The helper makes itself a session and
/// process-group leader, so `killGroup` reaches the tool and every child it started.
public struct SandboxedProcess: Sendable {
    public let pid: pid_t

    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exit \(code)"
            case .signaled(let signal): "signal \(signal)"
            }
        }
    }

    public struct Result: Sendable {
        public var termination: Termination
        public var stdout: Data
        public var stderr: Data
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Blocks until the helper/tool exits.
    public func wait() -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(-1) }
        }
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    /// Sends `signal` to the whole process group (the helper is its leader).
    @discardableResult
    public func killGroup(_ signal: Int32 = SIGKILL) -> Bool {
        kill(-pid, signal) == 0
    }

    /// posix_spawn with every signal reset to its default (the worker ignores SIGPIPE; tools must
    /// not inherit that) and, optionally, `extraFile.bytes` readable on fd `extraFile.fd` through
    /// a pipe written before the spawn. All other fds of this process are close-on-exec.
    public static func spawn(
        executable: String, arguments: [String], environment: [String: String]? = nil, stdin: Int32 = 0,
        stdout: Int32 = 1, stderr: Int32 = 2, extraFile: (fd: Int32, bytes: [UInt8])? = nil) throws -> SandboxedProcess {
        var pipeRead: Int32 = -1
        if let extraFile {
            // The program must fit in the pipe buffer (64 KiB; a maximal 4096-instruction
            // program is 32 KiB), so writing before the child exists cannot block.
            guard extraFile.bytes.count <= 65536 else { throw SpawnError(description: "BPF program too large") }
            var fds: [Int32] = [-1, -1]
            guard bosun_pipe_cloexec(&fds) == 0 else { throw SpawnError(description: "pipe2: \(String(cString: strerror(errno)))") }
            defer { close(fds[1]) }
            var written = 0
            while written < extraFile.bytes.count {
                let n = extraFile.bytes.withUnsafeBytes { write(fds[1], $0.baseAddress! + written, $0.count - written) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    close(fds[0])
                    throw SpawnError(description: "writing the BPF program: \(String(cString: strerror(errno)))")
                }
                written += n
            }
            // Keep the read end away from the target number so dup2 clears close-on-exec.
            pipeRead = fcntl(fds[0], F_DUPFD_CLOEXEC, 10)
            close(fds[0])
            guard pipeRead >= 0 else { throw SpawnError(description: "fcntl: \(String(cString: strerror(errno)))") }
        }
        defer { if pipeRead >= 0 { close(pipeRead) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 onto fds 0-2 first, then the program (stdio fds might equal the target number).
        if stdin != 0 { posix_spawn_file_actions_adddup2(&actions, stdin, 0) }
        if stdout != 1 { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        if stderr != 2 { posix_spawn_file_actions_adddup2(&actions, stderr, 2) }
        if let extraFile { posix_spawn_file_actions_adddup2(&actions, pipeRead, extraFile.fd) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        var none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SpawnError(description: "posix_spawn \(executable): \(String(cString: strerror(rc)))") }
        return SandboxedProcess(pid: pid)
    }

    /// Spawns, waits, and returns the output (captured through memfds, so a
    /// chatty tool cannot deadlock against an unread pipe).
    static func run(
        executable: String, arguments: [String], environment: [String: String]? = nil,
        extraFile: (fd: Int32, bytes: [UInt8])? = nil
    ) throws -> Result {
        let out = try temporaryFile()
        defer { close(out) }
        let err = try temporaryFile()
        defer { close(err) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let process = try spawn(
            executable: executable, arguments: arguments, environment: environment, stdin: null, stdout: out, stderr: err,
            extraFile: extraFile)
        let termination = process.wait()
        return Result(termination: termination, stdout: readAll(out), stderr: readAll(err))
    }

    private static func temporaryFile() throws -> Int32 {
        let fd = bosun_memfd_create("bosun-sandbox-output")
        guard fd >= 0 else { throw SpawnError(description: "memfd_create: \(String(cString: strerror(errno)))") }
        return fd
    }

    private static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
            offset += off_t(n)
        }
        return data
    }
}
