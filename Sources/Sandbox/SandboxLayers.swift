import Foundation

/// Which sandbox layers work on this host, for `bosun-worker sandbox check` and the worker's
/// start-up log. Namespaces, Landlock and seccomp are tried for real by `bosun-sandbox --check`
/// in throw-away children (never in the worker itself).
public struct SandboxLayers: Codable, Sendable, Equatable {
    public enum NetworkIsolation: String, Codable, Sendable {
        /// `unshare(CLONE_NEWNET)` works directly (CAP_SYS_ADMIN).
        case netns
        /// Through an unprivileged user namespace (uid/gid mapped to themselves).
        case userNamespace = "userns+netns"
        /// `network: none` profiles fail unless the helper is told `--network-best-effort`.
        case unavailable
    }

    public var seccomp: Bool
    public var seccompKillProcess: Bool
    public var noNewPrivs: Bool
    public var network: NetworkIsolation
    /// 0 when Landlock is unavailable.
    public var landlockABI: Int
    public var landlock: Bool
    /// Mount point of the cgroup v2 hierarchy (`/sys/fs/cgroup` or, on hybrid hosts,
    /// `/sys/fs/cgroup/unified`), nil when there is none.
    public var cgroupV2Mount: String?
    /// Whether this process may create child cgroups in its own v2 cgroup (delegation).
    public var cgroupV2Writable: Bool
    public var libseccompVersion: String

    public init(
        seccomp: Bool, seccompKillProcess: Bool, noNewPrivs: Bool, network: NetworkIsolation, landlockABI: Int,
        landlock: Bool, cgroupV2Mount: String?, cgroupV2Writable: Bool, libseccompVersion: String
    ) {
        self.seccomp = seccomp
        self.seccompKillProcess = seccompKillProcess
        self.noNewPrivs = noNewPrivs
        self.network = network
        self.landlockABI = landlockABI
        self.landlock = landlock
        self.cgroupV2Mount = cgroupV2Mount
        self.cgroupV2Writable = cgroupV2Writable
        self.libseccompVersion = libseccompVersion
    }

    public struct CheckError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `helper --check` and adds what can be read from the file system.
    public static func check(helper: String) throws -> SandboxLayers {
        let result = try SandboxedProcess.run(executable: helper, arguments: [helper, "--check"])
        guard result.termination == .exited(0),
            let object = try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        else {
            throw CheckError(description: "\(helper) --check failed (\(result.termination)): \(String(decoding: result.stderr, as: UTF8.self))")
        }
        let flag = { (key: String) in (object[key] as? Bool) ?? false }
        let network: NetworkIsolation =
            flag("netns_direct") ? .netns : flag("netns_userns") ? .userNamespace : .unavailable
        let (mount, writable) = cgroupV2()
        return SandboxLayers(
            seccomp: flag("seccomp"), seccompKillProcess: flag("seccomp_kill_process"), noNewPrivs: flag("no_new_privs"),
            network: network, landlockABI: (object["landlock_abi"] as? Int) ?? 0, landlock: flag("landlock"),
            cgroupV2Mount: mount, cgroupV2Writable: writable, libseccompVersion: SeccompProgram.libseccompVersion)
    }

    /// One line per layer, for logs and `sandbox check`.
    public var summary: [String] {
        let killProcess = seccompKillProcess ? "yes" : "no"
        let landlockText = landlock ? "yes (ABI \(landlockABI))" : "no"
        var cgroupText = "no"
        if let cgroupV2Mount {
            let access = cgroupV2Writable ? "delegated, writable" : "not writable"
            cgroupText = "\(cgroupV2Mount) (\(access))"
        }
        return [
            "seccomp: \(seccomp ? "yes" : "NO") (kill_process: \(killProcess), libseccomp \(libseccompVersion))",
            "no_new_privs: \(noNewPrivs ? "yes" : "NO")",
            "network none: \(network.rawValue)",
            "landlock: \(landlockText)",
            "cgroup v2: \(cgroupText)",
        ]
    }

    static func cgroupV2() -> (String?, Bool) {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return (nil, false) }
        var mount: String?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 2 && fields[2] == "cgroup2" {
                mount = String(fields[1])
                break
            }
        }
        guard let mount else { return (nil, false) }
        var own = "/"
        let cgroups = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        for line in cgroups.split(separator: "\n") where line.hasPrefix("0::") {
            own = String(line.dropFirst(3))
        }
        let dir = own == "/" ? mount : mount + own
        return (mount, access(dir, W_OK) == 0)
    }
}
