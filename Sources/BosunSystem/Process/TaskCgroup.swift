import Foundation
import Glibc

/// One task's leaf cgroup in the worker's delegated cgroup v2 subtree.
///
/// A process group stops what a task started unless something left the group on purpose
/// (`setsid`, a daemonising tool); a cgroup holds every descendant regardless, so killing it
/// leaves nothing behind, and it carries the task's memory, CPU and pid limits.
///
/// Add the task's leader right after spawning it. posix_spawn cannot start a process inside a
/// cgroup (that needs clone3 with CLONE_INTO_CGROUP), so whatever the leader forks before the
/// move stays in the worker's cgroup; those processes are still in its process group, which
/// is why stopping a task signals the group as well as killing the cgroup.
public struct TaskCgroup: Sendable, Hashable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Resource limits for a task; nil leaves the parent's limit in force.
    public struct Limits: Sendable, Hashable {
        /// `memory.max` in bytes. `memory.oom.group` is set with it, so an OOM kills the whole
        /// task rather than one process of it, which would leave the task half-running.
        public var memoryMaxBytes: UInt64?
        /// CPUs' worth of time, written to `cpu.max` as quota per 100 ms period (1.5 = 150 ms).
        public var cpus: Double?
        /// `pids.max`: caps fork bombs.
        public var pidsMax: Int?

        public init(memoryMaxBytes: UInt64? = nil, cpus: Double? = nil, pidsMax: Int? = nil) {
            self.memoryMaxBytes = memoryMaxBytes
            self.cpus = cpus
            self.pidsMax = pidsMax
        }

        var controllers: Set<String> {
            var controllers: Set<String> = []
            if memoryMaxBytes != nil { controllers.insert("memory") }
            if cpus != nil { controllers.insert("cpu") }
            if pidsMax != nil { controllers.insert("pids") }
            return controllers
        }
    }

    // MARK: - Finding the delegated subtree

    /// The root for task cgroups when systemd delegated a cgroup v2 subtree to this process
    /// with `Delegate=yes` and `DelegateSubgroup=supervisor` (systemd >= 254): the worker then
    /// runs in `<unit>/supervisor` and task leaves go next to it, under `<unit>`.
    ///
    /// Nil when there is no unified hierarchy, the worker is not in a `supervisor` cgroup, or
    /// the parent is not ours to write (`cgroup.procs`, `cgroup.subtree_control`): then tasks
    /// run without cgroups and only process groups contain them.
    public static func delegatedRoot() -> TaskCgroupRoot? {
        guard let membership = KernelFile.read("/proc/self/cgroup"),
              let mounts = KernelFile.read("/proc/self/mountinfo")
        else { return nil }
        return delegatedRoot(procSelfCgroup: membership, mountInfo: mounts)
    }

    static func delegatedRoot(
        procSelfCgroup: String, mountInfo: String, isWritable: (String) -> Bool = isWritable
    ) -> TaskCgroupRoot? {
        guard let own = directory(procSelfCgroup: procSelfCgroup, mountInfo: mountInfo),
              (own as NSString).lastPathComponent == "supervisor"
        else { return nil }
        let parent = (own as NSString).deletingLastPathComponent
        return isManageable(parent, isWritable: isWritable) ? TaskCgroupRoot(path: parent) : nil
    }

    /// For systemd < 254, which ignores `DelegateSubgroup=`: the worker starts in the delegated
    /// unit cgroup itself, so it creates `<unit>/supervisor` and moves itself there, which is
    /// what systemd >= 254 does for it. Call it once at startup, before spawning anything, and
    /// only when the unit has `Delegate=yes`: the check that the cgroup is writable cannot tell
    /// a delegated cgroup from any cgroup a root worker happens to be able to write.
    public static func enterSupervisorSubgroup() throws -> TaskCgroupRoot {
        guard let membership = KernelFile.read("/proc/self/cgroup"),
              let mounts = KernelFile.read("/proc/self/mountinfo")
        else { throw TaskCgroupError(.notDelegated, "cannot read /proc/self/cgroup or /proc/self/mountinfo") }
        return try enterSupervisorSubgroup(pid: getpid(), procSelfCgroup: membership, mountInfo: mounts)
    }

    static func enterSupervisorSubgroup(
        pid: pid_t, procSelfCgroup: String, mountInfo: String, isWritable: (String) -> Bool = isWritable
    ) throws -> TaskCgroupRoot {
        if let root = delegatedRoot(procSelfCgroup: procSelfCgroup, mountInfo: mountInfo, isWritable: isWritable) {
            return root
        }
        guard let own = directory(procSelfCgroup: procSelfCgroup, mountInfo: mountInfo) else {
            throw TaskCgroupError(.notDelegated, "no cgroup v2 membership in /proc/self/cgroup")
        }
        guard let mount = unifiedMount(mountInfo), own != mount.mountPoint else {
            // The root of the hierarchy is the whole machine's (or container's), never a unit's.
            throw TaskCgroupError(.notDelegated, "\(own) is the root of the cgroup hierarchy")
        }
        guard isManageable(own, isWritable: isWritable) else {
            throw TaskCgroupError(.notDelegated, "\(own) is not writable (is Delegate=yes set?)")
        }
        let supervisor = own + "/supervisor"
        if mkdir(supervisor, 0o755) != 0, errno != EEXIST {
            throw TaskCgroupError(.io, "mkdir \(supervisor)", errno: errno)
        }
        let result = KernelFile.write("\(pid)", to: supervisor + "/cgroup.procs")
        guard result == 0 else {
            throw TaskCgroupError(.io, "move \(pid) into \(supervisor)", errno: result)
        }
        return TaskCgroupRoot(path: own)
    }

    /// The cgroupfs directory of the `0::<path>` line of /proc/self/cgroup.
    static func directory(procSelfCgroup: String, mountInfo: String) -> String? {
        guard let path = unifiedPath(procSelfCgroup), let mount = unifiedMount(mountInfo) else { return nil }
        var relative = path
        // Inside a cgroup namespace the mount may expose a subtree; paths are relative to it.
        if mount.root != "/" {
            if path == mount.root {
                relative = "/"
            } else if path.hasPrefix(mount.root + "/") {
                relative = String(path.dropFirst(mount.root.count))
            } else {
                return nil
            }
        }
        if relative == "/" { return mount.mountPoint }
        return mount.mountPoint + relative
    }

    /// The path of the unified hierarchy: the `0::` line. Hybrid hosts list their v1
    /// hierarchies too (`4:memory:/...`); a v1-only host has no `0::` line at all.
    static func unifiedPath(_ procSelfCgroup: String) -> String? {
        for line in procSelfCgroup.split(separator: "\n") where line.hasPrefix("0::") {
            let path = String(line.dropFirst(3))
            // " (deleted)" marks a cgroup removed under us.
            return path.hasPrefix("/") && !path.hasSuffix(" (deleted)") ? path : nil
        }
        return nil
    }

    /// Root and mount point of the first cgroup2 mount in /proc/self/mountinfo: /sys/fs/cgroup
    /// on a unified host, /sys/fs/cgroup/unified on a hybrid one.
    static func unifiedMount(_ mountInfo: String) -> (root: String, mountPoint: String)? {
        for line in mountInfo.split(separator: "\n") {
            // The optional fields before " - " vary in number; the file system type follows it.
            let halves = line.components(separatedBy: " - ")
            guard halves.count >= 2 else { continue }
            let fields = halves[0].split(separator: " ")
            guard fields.count >= 5, halves[1].split(separator: " ").first == "cgroup2" else { continue }
            return (unescape(fields[3]), unescape(fields[4]))
        }
        return nil
    }

    /// mountinfo writes space, tab, newline and backslash as three-digit octal escapes.
    private static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        let utf8 = Array(field.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "\\"), index + 3 < utf8.count,
               let value = UInt8(String(decoding: utf8[(index + 1)...(index + 3)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isManageable(_ directory: String, isWritable: (String) -> Bool) -> Bool {
        isWritable(directory) && isWritable(directory + "/cgroup.procs")
            && isWritable(directory + "/cgroup.subtree_control")
    }

    static func isWritable(_ path: String) -> Bool {
        access(path, W_OK) == 0
    }

    // MARK: - Managing one task's cgroup

    func apply(_ limits: Limits) throws {
        if let bytes = limits.memoryMaxBytes {
            try write("\(bytes)", to: "memory.max")
            // Older kernels lack memory.oom.group; the limit itself still holds.
            _ = KernelFile.write("1", to: path + "/memory.oom.group")
        }
        if let cpus = limits.cpus {
            let period = 100_000
            let quota = max(1_000, Int((cpus * Double(period)).rounded()))
            try write("\(quota) \(period)", to: "cpu.max")
        }
        if let pids = limits.pidsMax {
            try write("\(max(1, pids))", to: "pids.max")
        }
    }

    /// Moves `pid` (the whole process, all threads) into this cgroup. Its later children are
    /// born here; children it already has stay where they are.
    public func add(pid: pid_t) throws {
        try write("\(pid)", to: "cgroup.procs")
    }

    /// Processes currently in the cgroup.
    public func processIDs() -> [pid_t] {
        (KernelFile.read(path + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    /// Whether any process is still in the cgroup (`populated` in `cgroup.events`); exited
    /// processes no longer count, even before their parent reaps them.
    public var isPopulated: Bool {
        guard let events = KernelFile.read(path + "/cgroup.events") else { return false }
        return events.split(separator: "\n").contains("populated 1")
    }

    /// SIGKILL to every process in the cgroup, including ones that left the task's process
    /// group. Uses `cgroup.kill` (Linux >= 5.14), which the kernel applies atomically, even to
    /// processes forking at that moment; older kernels get a kill-each loop.
    public func kill() throws {
        let result = KernelFile.write("1", to: path + "/cgroup.kill")
        if result == 0 { return }
        guard result == ENOENT else {
            throw TaskCgroupError(.io, "write \(path)/cgroup.kill", errno: result)
        }
        killEach()
    }

    /// The pre-5.14 way: signal each listed process, and repeat, since a process can fork
    /// between the read and the signal. Freezing first (Linux >= 5.2) closes that window where
    /// available; SIGKILL still reaches frozen processes.
    func killEach() {
        let froze = KernelFile.write("1", to: path + "/cgroup.freeze") == 0
        for _ in 0..<20 {
            let pids = processIDs()
            if pids.isEmpty { break }
            for pid in pids { _ = Glibc.kill(pid, SIGKILL) }
            usleep(5_000)
        }
        if froze { _ = KernelFile.write("0", to: path + "/cgroup.freeze") }
    }

    /// Waits until no process is left (after `kill()`); false if `timeout` ran out.
    public func waitUntilEmpty(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isPopulated {
            if ContinuousClock.now >= deadline { return false }
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                return !isPopulated
            }
        }
        return true
    }

    /// Removes the cgroup. It must be empty (`.busy` otherwise); an already removed one is fine.
    public func remove() throws {
        guard rmdir(path) != 0 else { return }
        switch errno {
        case ENOENT: return
        case EBUSY: throw TaskCgroupError(.busy, "\(path) still has processes or children", errno: EBUSY)
        case let code: throw TaskCgroupError(.io, "rmdir \(path)", errno: code)
        }
    }

    private func write(_ value: String, to file: String) throws {
        let result = KernelFile.write(value, to: path + "/" + file)
        guard result == 0 else {
            throw TaskCgroupError(.io, "write \"\(value)\" to \(path)/\(file)", errno: result)
        }
    }
}
