import Foundation

/// A profile compiled once and written to a private file, ready for any number of tool
/// processes: each one starts as `bosun-sandbox --bpf-file FILE ... -- COMMAND`.
public struct PreparedSandbox: Sendable {
    public let name: String
    public let helper: String
    public let compiled: CompiledProfile
    /// Where the BPF program is; `nil` for a profile without a syscall filter (`trusted`).
    public let bpfFile: String?

    /// The argv that runs `command` in `workspace` under this profile (argv[0] is the helper).
    public func arguments(workspace: String, command: [String], cgroup: String? = nil) -> [String] {
        SandboxCommand(
            helper: helper, compiled: compiled, workspace: workspace, command: command, cgroup: cgroup, bpfFile: bpfFile
        ).arguments
    }

    /// Compiles `name` from the installation's profiles and writes its program under
    /// `directory` (created 0700; the file 0600, replaced atomically). An unknown or invalid
    /// profile throws: there is no fallback to running without one.
    public static func prepare(
        _ name: String, installation: SandboxInstallation, directory: String
    ) throws -> PreparedSandbox {
        guard FileManager.default.isExecutableFile(atPath: installation.helper) else {
            throw SandboxProfileError(
                .unreadable, file: installation.helper, "the sandbox helper is missing or not executable")
        }
        let compiled = try installation.compile(profile: name)
        guard let program = compiled.program else {
            return PreparedSandbox(name: name, helper: installation.helper, compiled: compiled, bpfFile: nil)
        }
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = URL(fileURLWithPath: directory).appendingPathComponent("\(name).bpf").path
        let temporary = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(program), attributes: [.posixPermissions: 0o600])
        else {
            throw SandboxProfileError(.unreadable, file: temporary, "cannot write the compiled profile")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw SandboxProfileError(.unreadable, file: path, "cannot write the compiled profile: \(reason)")
        }
        return PreparedSandbox(name: name, helper: installation.helper, compiled: compiled, bpfFile: path)
    }
}
