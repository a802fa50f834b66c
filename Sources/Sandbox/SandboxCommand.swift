import Foundation

/// A profile ready to hand to the exec helper: validated and, unless unconfined, compiled once.
public struct CompiledProfile: Sendable {
    public let profile: SandboxProfile
    /// nil for an unconfined (trusted) profile.
    public let program: [UInt8]?

    public init(_ profile: SandboxProfile) throws {
        self.profile = profile
        self.program = profile.isUnconfined ? nil : try SeccompProgram.compile(profile)
    }
}

/// Builds the `bosun-sandbox` command line for one tool process and spawns it, passing the BPF
/// program through an inherited pipe (fd `bpfFD` in the child).
public struct SandboxCommand: Sendable {
    /// The fd number the helper reads the program from.
    public static let bpfFD: Int32 = 3

    public var helper: String
    public var compiled: CompiledProfile
    public var workspace: String
    public var command: [String]
    /// A cgroup directory the helper joins before anything else (per-task cgroup), optional.
    public var cgroup: String?
    /// Run with the host network if no network namespace can be made (a warning is printed).
    public var networkBestEffort: Bool
    /// Skip writable-path enforcement when the kernel has no Landlock (a warning is printed).
    public var landlockBestEffort: Bool
    /// The compiled program in a file (`PreparedSandbox`) instead of on fd 3, for spawners that
    /// cannot hand the child an extra descriptor.
    public var bpfFile: String?

    public init(
        helper: String, compiled: CompiledProfile, workspace: String, command: [String], cgroup: String? = nil,
        networkBestEffort: Bool = false, landlockBestEffort: Bool = false, bpfFile: String? = nil
    ) {
        self.helper = helper
        self.compiled = compiled
        self.workspace = workspace
        self.command = command
        self.cgroup = cgroup
        self.networkBestEffort = networkBestEffort
        self.landlockBestEffort = landlockBestEffort
        self.bpfFile = bpfFile
    }

    /// The helper's full argv (argv[0] is the helper).
    public var arguments: [String] {
        let profile = compiled.profile
        var args = [helper]
        if compiled.program != nil, let bpfFile {
            args += ["--bpf-file", bpfFile]
        } else if compiled.program != nil {
            args += ["--bpf-fd", String(Self.bpfFD)]
        } else {
            args.append("--no-seccomp")
        }
        for (name, value) in profile.rlimits.settings { args += ["--rlimit", "\(name)=\(value)"] }
        args += ["--network", profile.network.rawValue]
        if networkBestEffort { args.append("--network-best-effort") }
        for path in profile.writablePaths {
            let expanded = path == "$WORKSPACE" ? workspace
                : path.hasPrefix("$WORKSPACE/") ? workspace + path.dropFirst("$WORKSPACE".count) : path
            args += ["--writable", expanded]
        }
        if landlockBestEffort { args.append("--landlock-best-effort") }
        if let cgroup { args += ["--cgroup", cgroup] }
        args += ["--chdir", workspace]
        args.append("--")
        return args + command
    }

    /// Spawns the helper. stdin/stdout/stderr are dup'ed from the given fds.
    public func spawn(
        environment: [String: String]? = nil, stdin: Int32 = 0, stdout: Int32 = 1, stderr: Int32 = 2,
        currentDirectory: String? = nil
    ) throws -> SandboxedProcess {
        try SandboxedProcess.spawn(
            executable: helper, arguments: arguments, environment: environment, stdin: stdin, stdout: stdout,
            stderr: stderr, extraFile: compiled.program.map { (Self.bpfFD, $0) })
    }

    /// Runs to completion, capturing output (for tests and `sandbox run`).
    public func run(environment: [String: String]? = nil) throws -> SandboxedProcess.Result {
        try SandboxedProcess.run(
            executable: helper, arguments: arguments, environment: environment,
            extraFile: compiled.program.map { (Self.bpfFD, $0) })
    }
}
