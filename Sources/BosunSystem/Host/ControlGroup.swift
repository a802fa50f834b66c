import Foundation

/// The cgroup this process runs in, as far as memory and CPU limits go.
///
/// A worker in a container or a systemd slice sees the whole machine in /proc/meminfo and
/// /proc/stat, but can only use what its cgroup allows, so advertised capacity is clamped
/// here. Both layouts are handled: the unified v2 hierarchy and the v1 per-controller
/// hierarchies that hybrid hosts (and older container runtimes) still mount. A limit set on
/// any ancestor applies too, so limits are the minimum over the walk up to the mount root.
struct ControlGroup: Sendable, Equatable {
    /// Where one controller's files live for this process.
    struct Location: Sendable, Equatable {
        var directory: String
        /// The mount point; the walk over ancestors stops here, since above it is not ours.
        var mountPoint: String
        var isUnified: Bool
    }

    var memory: Location?
    var cpu: Location?

    /// A line of /proc/self/cgroup: `hierarchy-ID:controller-list:path`.
    struct Membership: Sendable, Equatable {
        var hierarchyID: Int
        var controllers: [String]
        var path: String
    }

    /// The parts of a /proc/self/mountinfo line that matter for finding cgroup directories.
    struct Mount: Sendable, Equatable {
        var root: String
        var mountPoint: String
        var fileSystemType: String
        var superOptions: [String]
    }

    /// Values from v1 files that mean "no limit": the page counter's maximum rounded down to
    /// a page, which differs by page size, so anything this large counts as unlimited.
    static let unlimitedThreshold: UInt64 = 1 << 62

    static func current() -> ControlGroup {
        guard let membershipText = KernelFile.read("/proc/self/cgroup"),
              let mountText = KernelFile.read("/proc/self/mountinfo")
        else { return ControlGroup() }
        return resolve(
            memberships: parseMemberships(membershipText),
            mounts: parseMountinfo(mountText),
            directoryExists: { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            }
        )
    }

    /// Picks, per controller, the v1 hierarchy when one carries it (hybrid hosts mount an
    /// empty cgroup2 next to the v1 controllers) and the unified hierarchy otherwise.
    static func resolve(
        memberships: [Membership],
        mounts: [Mount],
        directoryExists: (String) -> Bool
    ) -> ControlGroup {
        func locate(_ controller: String) -> Location? {
            if let mount = mounts.first(where: { $0.fileSystemType == "cgroup" && $0.superOptions.contains(controller) }),
               let membership = memberships.first(where: { $0.hierarchyID != 0 && $0.controllers.contains(controller) }) {
                return Location(
                    directory: directory(for: membership.path, in: mount, directoryExists: directoryExists),
                    mountPoint: mount.mountPoint,
                    isUnified: false
                )
            }
            if let mount = mounts.first(where: { $0.fileSystemType == "cgroup2" }),
               let membership = memberships.first(where: { $0.hierarchyID == 0 }) {
                return Location(
                    directory: directory(for: membership.path, in: mount, directoryExists: directoryExists),
                    mountPoint: mount.mountPoint,
                    isUnified: true
                )
            }
            return nil
        }
        return ControlGroup(memory: locate("memory"), cpu: locate("cpu"))
    }

    /// The path in /proc/self/cgroup is relative to the cgroup namespace root, while the mount
    /// may expose only a subtree (its `root` field). When the two do not line up (a container
    /// that bind-mounts its own cgroup), the mount point itself is the best guess.
    static func directory(for path: String, in mount: Mount, directoryExists: (String) -> Bool) -> String {
        var relative = path
        if mount.root != "/" {
            if path == mount.root {
                relative = "/"
            } else if path.hasPrefix(mount.root + "/") {
                relative = String(path.dropFirst(mount.root.count))
            }
        }
        if relative == "/" || relative.isEmpty { return mount.mountPoint }
        let candidate = mount.mountPoint + relative
        return directoryExists(candidate) ? candidate : mount.mountPoint
    }

    static func parseMemberships(_ text: String) -> [Membership] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let id = Int(parts[0]) else { return nil }
            let controllers = parts[1].split(separator: ",").map(String.init)
            return Membership(hierarchyID: id, controllers: controllers, path: String(parts[2]))
        }
    }

    static func parseMountinfo(_ text: String) -> [Mount] {
        text.split(separator: "\n").compactMap { line in
            // The optional fields before " - " vary in number, so split around the separator.
            let halves = line.components(separatedBy: " - ")
            guard halves.count >= 2 else { return nil }
            let head = halves[0].split(separator: " ")
            let tail = halves[1].split(separator: " ")
            guard head.count >= 5, tail.count >= 3 else { return nil }
            return Mount(
                root: unescapeMountField(head[3]),
                mountPoint: unescapeMountField(head[4]),
                fileSystemType: String(tail[0]),
                superOptions: tail[2].split(separator: ",").map(String.init)
            )
        }
    }

    /// mountinfo writes space, tab, newline and backslash as three-digit octal escapes.
    static func unescapeMountField(_ field: Substring) -> String {
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

    // MARK: - Limits

    /// The tightest memory limit on this cgroup or any ancestor; nil when none is set.
    func memoryLimitBytes(read: (String) -> String? = KernelFile.readValue) -> UInt64? {
        guard let memory else { return nil }
        let file = memory.isUnified ? "memory.max" : "memory.limit_in_bytes"
        let limits = Self.ancestors(of: memory).compactMap { directory in
            read(directory + "/" + file).flatMap { Self.parseMemoryLimit($0) }
        }
        return limits.min()
    }

    /// Bytes charged to this cgroup, page cache included.
    func memoryUsageBytes(read: (String) -> String? = KernelFile.readValue) -> UInt64? {
        guard let memory else { return nil }
        let file = memory.isUnified ? "memory.current" : "memory.usage_in_bytes"
        return read(memory.directory + "/" + file).flatMap { UInt64($0) }
    }

    /// Page cache the kernel reclaims first under the limit; subtracting it from the usage
    /// gives the working set, which is what actually counts against the limit.
    func inactiveFileBytes(read: (String) -> String? = { KernelFile.read($0) }) -> UInt64? {
        guard let memory, let text = read(memory.directory + "/memory.stat") else { return nil }
        let stats = Self.parseFlatKeyed(text)
        return memory.isUnified ? stats["inactive_file"] : (stats["total_inactive_file"] ?? stats["inactive_file"])
    }

    /// The tightest CPU quota, in cores, on this cgroup or any ancestor; nil when unlimited.
    func cpuQuotaCores(read: (String) -> String? = KernelFile.readValue) -> Double? {
        guard let cpu else { return nil }
        let quotas = Self.ancestors(of: cpu).compactMap { directory -> Double? in
            if cpu.isUnified {
                return read(directory + "/cpu.max").flatMap { Self.parseCPUMax($0) }
            }
            guard let quota = read(directory + "/cpu.cfs_quota_us"),
                  let period = read(directory + "/cpu.cfs_period_us")
            else { return nil }
            return Self.parseCFSQuota(quota: quota, period: period)
        }
        return quotas.min()
    }

    static func ancestors(of location: Location) -> [String] {
        var directories = [location.directory]
        var current = location.directory
        while current != location.mountPoint, current.hasPrefix(location.mountPoint + "/") {
            current = String(current[..<(current.lastIndex(of: "/") ?? current.endIndex)])
            directories.append(current)
        }
        return directories
    }

    // MARK: - Parsing

    /// `memory.max` (v2: a byte count or "max") or `memory.limit_in_bytes` (v1: a byte count,
    /// huge when unlimited).
    static func parseMemoryLimit(_ text: String) -> UInt64? {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard value != "max", let bytes = UInt64(value), bytes < unlimitedThreshold else { return nil }
        return bytes
    }

    /// `cpu.max` is "$MAX $PERIOD" in microseconds; "max" means no quota.
    static func parseCPUMax(_ text: String) -> Double? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let first = fields.first, first != "max", let quota = Double(first) else { return nil }
        let period = fields.count > 1 ? Double(fields[1]) ?? 100_000 : 100_000
        guard quota > 0, period > 0 else { return nil }
        return quota / period
    }

    /// v1 `cpu.cfs_quota_us` is -1 when unlimited.
    static func parseCFSQuota(quota: String, period: String) -> Double? {
        guard let quota = Double(quota.trimmingCharacters(in: .whitespacesAndNewlines)),
              let period = Double(period.trimmingCharacters(in: .whitespacesAndNewlines)),
              quota > 0, period > 0
        else { return nil }
        return quota / period
    }

    /// "key value" lines, as in memory.stat.
    static func parseFlatKeyed(_ text: String) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) {
                values[String(parts[0])] = value
            }
        }
        return values
    }
}
