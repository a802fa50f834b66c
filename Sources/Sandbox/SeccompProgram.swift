/// A compiled seccomp BPF program (the bytes of `seccomp_export_bpf`: `struct sock_filter`s).
public enum SeccompProgram {
    /// Compiles a profile with libseccomp. Throws for an unconfined (trusted) profile: it has no
    /// program, and asking for one is a caller bug, not a reason to run without a filter.
    public static func compile(_ profile: SandboxProfile) throws -> [UInt8] {
        try Seccomp.compile(profile)
    }

    /// libseccomp's version, for `sandbox check`.
    public static var libseccompVersion: String { Seccomp.libraryVersion }
}
