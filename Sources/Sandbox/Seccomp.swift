import CSeccomp
import Glibc

/// The one file that calls libseccomp (STYLE rule 4): name resolution for validation and
/// compiling a profile into a BPF program for `bosun-sandbox --bpf-fd`.
enum Seccomp {
    enum Lookup<Value> {
        case found(Value)
        case invalid(String)
        func get(file: String, field: String) throws -> Value {
            switch self {
            case .found(let value): return value
            case .invalid(let message): throw SandboxProfileError(.invalidField, file: file, field: field, message)
            }
        }
    }

    static let defaultErrno: UInt32 = UInt32(EPERM)

    static func action(_ name: String, errno: UInt32?) -> Lookup<UInt32> {
        let code = UInt16(clamping: errno ?? defaultErrno)
        let value: UInt32?
        switch name {
        case "SCMP_ACT_ALLOW": value = bosun_scmp_act_allow()
        case "SCMP_ACT_ERRNO": value = bosun_scmp_act_errno(code)
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": value = bosun_scmp_act_kill_thread()
        case "SCMP_ACT_KILL_PROCESS": value = bosun_scmp_act_kill_process()
        case "SCMP_ACT_TRAP": value = bosun_scmp_act_trap()
        case "SCMP_ACT_LOG": value = bosun_scmp_act_log()
        case "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY":
            return .invalid("\(name) is not supported (no tracer or notifier runs; it is not a security boundary)")
        default: value = nil
        }
        guard let value else { return .invalid("unknown action \"\(name)\"") }
        return .found(value)
    }

    /// `SCMP_ARCH_X86_64` -> libseccomp's token, or nil when unknown.
    static func architecture(_ name: String) -> UInt32? {
        guard name.hasPrefix("SCMP_ARCH_") else { return nil }
        let short = String(name.dropFirst("SCMP_ARCH_".count)).lowercased()
        let token = seccomp_arch_resolve_name(short)
        return token == 0 ? nil : token
    }

    static var nativeArchitecture: UInt32 { seccomp_arch_native() }

    /// Architectures the kernel can report on this host (native plus its compat ABIs). Listed
    /// architectures outside this set can never match here and are left out of the program.
    static var hostArchitectures: Set<UInt32> {
        let native = seccomp_arch_native()
        if native == bosun_scmp_arch_x86_64() { return [native, bosun_scmp_arch_x86(), bosun_scmp_arch_x32()] }
        if native == bosun_scmp_arch_aarch64() { return [native, bosun_scmp_arch_arm()] }
        return [native]
    }

    private static let knownArchitectures: [UInt32] = [
        bosun_scmp_arch_x86_64(), bosun_scmp_arch_x86(), bosun_scmp_arch_x32(), bosun_scmp_arch_aarch64(),
        bosun_scmp_arch_arm(), bosun_scmp_arch_riscv64(), bosun_scmp_arch_ppc64le(), bosun_scmp_arch_s390x(),
    ]

    /// Known on some architecture (profiles are shared across hosts).
    static func isKnownSyscall(_ name: String) -> Bool {
        knownArchitectures.contains { seccomp_syscall_resolve_name_arch($0, name) != bosun_nr_scmp_error() }
    }

    static func comparison(_ op: String) -> scmp_compare? {
        switch op {
        case "SCMP_CMP_NE": SCMP_CMP_NE
        case "SCMP_CMP_LT": SCMP_CMP_LT
        case "SCMP_CMP_LE": SCMP_CMP_LE
        case "SCMP_CMP_EQ": SCMP_CMP_EQ
        case "SCMP_CMP_GE": SCMP_CMP_GE
        case "SCMP_CMP_GT": SCMP_CMP_GT
        case "SCMP_CMP_MASKED_EQ": SCMP_CMP_MASKED_EQ
        default: nil
        }
    }

    static var libraryVersion: String {
        guard let v = seccomp_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
    }

    /// Compiles a validated profile. Foreign architectures (i386 `int 0x80`, and x32, which
    /// libseccomp filters as a bad architecture on x86_64 unless SCMP_ARCH_X32 is listed) kill
    /// the process.
    static func compile(_ profile: SandboxProfile) throws -> [UInt8] {
        let file = profile.source.isEmpty ? profile.name : profile.source
        func failure(_ what: String, _ rc: Int32) -> SandboxProfileError {
            SandboxProfileError(.compileFailed, file: file, "\(what): \(String(cString: strerror(-rc)))")
        }
        guard let defaultName = profile.defaultAction else {
            throw SandboxProfileError(.compileFailed, file: file, "an unconfined profile has no seccomp program")
        }
        let defaultAction = try action(defaultName, errno: profile.defaultErrnoRet).get(file: file, field: "defaultAction")
        guard let ctx = seccomp_init(defaultAction) else {
            throw SandboxProfileError(.compileFailed, file: file, "seccomp_init failed")
        }
        defer { seccomp_release(ctx) }

        var rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, bosun_scmp_act_kill_process())
        if rc != 0 { throw failure("setting the bad-architecture action", rc) }
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)  // the helper sets no_new_privs itself
        if rc != 0 { throw failure("clearing SCMP_FLTATR_CTL_NNP", rc) }
        _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)  // binary tree when supported

        let host = hostArchitectures
        for name in profile.architectures ?? [] {
            guard let arch = architecture(name), arch != nativeArchitecture, host.contains(arch) else { continue }
            rc = seccomp_arch_add(ctx, arch)
            if rc != 0 && rc != -EEXIST { throw failure("adding architecture \(name)", rc) }
        }

        for (i, rule) in (profile.syscalls ?? []).enumerated() {
            let field = "syscalls[\(i)]"
            let act = try action(rule.action, errno: rule.errnoRet).get(file: file, field: "\(field).action")
            if act == defaultAction { continue }  // libseccomp refuses rules that repeat the default
            var comparisons: [scmp_arg_cmp] = []
            for (j, arg) in (rule.args ?? []).enumerated() {
                guard let op = comparison(arg.op) else {
                    throw SandboxProfileError(.invalidField, file: file, field: "\(field).args[\(j)].op", "unknown comparison \"\(arg.op)\"")
                }
                comparisons.append(scmp_arg_cmp(arg: arg.index, op: op, datum_a: arg.value, datum_b: arg.valueTwo ?? 0))
            }
            for name in rule.names {
                let nr = seccomp_syscall_resolve_name(name)
                if nr == bosun_nr_scmp_error() {
                    if isKnownSyscall(name) { continue }  // exists only on other architectures
                    throw SandboxProfileError(.invalidField, file: file, field: "\(field).names", "unknown syscall \"\(name)\"")
                }
                rc = comparisons.withUnsafeBufferPointer { buffer in
                    seccomp_rule_add_array(ctx, act, nr, UInt32(buffer.count), buffer.baseAddress)
                }
                if rc != 0 { throw failure("\(field): adding a rule for \(name)", rc) }
            }
        }
        return try export(ctx, file: file)
    }

    private static func export(_ ctx: scmp_filter_ctx, file: String) throws -> [UInt8] {
        let fd = bosun_memfd_create("bosun-seccomp")
        guard fd >= 0 else {
            throw SandboxProfileError(.compileFailed, file: file, "memfd_create: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let rc = seccomp_export_bpf(ctx, fd)
        if rc != 0 { throw SandboxProfileError(.compileFailed, file: file, "seccomp_export_bpf: \(String(cString: strerror(-rc)))") }
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw SandboxProfileError(.compileFailed, file: file, "seccomp_export_bpf wrote nothing")
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SandboxProfileError(.compileFailed, file: file, "reading the exported program failed") }
            done += n
        }
        return bytes
    }
}
