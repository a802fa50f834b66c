import Foundation
import Testing

@testable import BosunSystem

struct ControlGroupTests {
    /// /proc/self/cgroup on a hybrid host (v1 controllers plus an empty cgroup2), captured.
    static let hybridMembership = """
        9:name=systemd:/
        8:pids:/
        7:blkio:/
        6:freezer:/
        5:devices:/
        4:memory:/process_api/f20d2c68c7f7660f02fc3cf4a8e14ba2
        3:cpuset:/
        2:cpuacct:/
        1:cpu:/
        0::/

        """

    /// The cgroup lines of /proc/self/mountinfo on the same host, captured.
    static let hybridMountinfo = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw

        """

    /// A systemd host on the unified hierarchy (Debian 12, Ubuntu 22.04 and later).
    static let unifiedMountinfo = """
        22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
        26 24 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot

        """

    @Test func parsesMembershipLines() {
        let memberships = ControlGroup.parseMemberships(Self.hybridMembership)
        #expect(memberships.count == 10)
        #expect(memberships.first { $0.controllers.contains("memory") }?.path == "/process_api/f20d2c68c7f7660f02fc3cf4a8e14ba2")
        #expect(memberships.last == ControlGroup.Membership(hierarchyID: 0, controllers: [], path: "/"))
        // The path may itself contain colons.
        #expect(ControlGroup.parseMemberships("0::/a:b/c").first?.path == "/a:b/c")
    }

    @Test func parsesMountinfoIncludingOptionalFieldsAndEscapes() {
        let mounts = ControlGroup.parseMountinfo(Self.unifiedMountinfo + Self.hybridMountinfo)
        #expect(mounts.first { $0.fileSystemType == "cgroup2" }?.mountPoint == "/sys/fs/cgroup")
        #expect(mounts.first { $0.superOptions.contains("memory") }?.mountPoint == "/sys/fs/cgroup/memory")

        let escaped = ControlGroup.parseMountinfo("40 31 0:38 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n")
        #expect(escaped.first?.mountPoint == "/mnt/my cgroups")
    }

    @Test func hybridHostsUseTheV1ControllerHierarchies() {
        let group = ControlGroup.resolve(
            memberships: ControlGroup.parseMemberships(Self.hybridMembership),
            mounts: ControlGroup.parseMountinfo(Self.hybridMountinfo),
            directoryExists: { _ in true }
        )
        #expect(group.memory == ControlGroup.Location(
            directory: "/sys/fs/cgroup/memory/process_api/f20d2c68c7f7660f02fc3cf4a8e14ba2",
            mountPoint: "/sys/fs/cgroup/memory",
            isUnified: false
        ))
        #expect(group.cpu == ControlGroup.Location(directory: "/sys/fs/cgroup/cpu", mountPoint: "/sys/fs/cgroup/cpu", isUnified: false))
    }

    @Test func unifiedHostsUseTheCgroup2Directory() {
        let group = ControlGroup.resolve(
            memberships: ControlGroup.parseMemberships("0::/system.slice/bosun-worker.service\n"),
            mounts: ControlGroup.parseMountinfo(Self.unifiedMountinfo),
            directoryExists: { _ in true }
        )
        let expected = ControlGroup.Location(
            directory: "/sys/fs/cgroup/system.slice/bosun-worker.service",
            mountPoint: "/sys/fs/cgroup",
            isUnified: true
        )
        #expect(group.memory == expected)
        #expect(group.cpu == expected)
    }

    @Test func mountsOfASubtreeAreMappedBackToTheirMountPoint() {
        // A container runtime that bind-mounts the container's own cgroup at /sys/fs/cgroup.
        let mount = ControlGroup.Mount(root: "/kubepods/pod1/abc", mountPoint: "/sys/fs/cgroup", fileSystemType: "cgroup2", superOptions: [])
        #expect(ControlGroup.directory(for: "/kubepods/pod1/abc", in: mount, directoryExists: { _ in true }) == "/sys/fs/cgroup")
        #expect(ControlGroup.directory(for: "/kubepods/pod1/abc/task", in: mount, directoryExists: { _ in true }) == "/sys/fs/cgroup/task")
        // A directory that is not there (another namespace's view) falls back to the mount.
        let root = ControlGroup.Mount(root: "/", mountPoint: "/sys/fs/cgroup", fileSystemType: "cgroup2", superOptions: [])
        #expect(ControlGroup.directory(for: "/elsewhere", in: root, directoryExists: { _ in false }) == "/sys/fs/cgroup")
    }

    @Test func memoryLimitIsTheTightestOverAncestors() {
        let location = ControlGroup.Location(
            directory: "/sys/fs/cgroup/workers.slice/bosun.service",
            mountPoint: "/sys/fs/cgroup",
            isUnified: true
        )
        let files = [
            "/sys/fs/cgroup/workers.slice/bosun.service/memory.max": "max",
            "/sys/fs/cgroup/workers.slice/memory.max": "4294967296",
            // The root cgroup has no memory.max at all.
        ]
        let group = ControlGroup(memory: location, cpu: nil)
        #expect(group.memoryLimitBytes(read: { files[$0] }) == 4_294_967_296)
        #expect(ControlGroup.ancestors(of: location) == [
            "/sys/fs/cgroup/workers.slice/bosun.service", "/sys/fs/cgroup/workers.slice", "/sys/fs/cgroup",
        ])

        let unlimited = ["/sys/fs/cgroup/workers.slice/bosun.service/memory.max": "max"]
        #expect(group.memoryLimitBytes(read: { unlimited[$0] }) == nil)
    }

    @Test func cpuQuotaIsTheTightestOverAncestors() {
        let location = ControlGroup.Location(directory: "/cg/a/b", mountPoint: "/cg", isUnified: true)
        let files = ["/cg/a/b/cpu.max": "max 100000", "/cg/a/cpu.max": "250000 100000"]
        #expect(ControlGroup(memory: nil, cpu: location).cpuQuotaCores(read: { files[$0] }) == 2.5)

        let v1 = ControlGroup.Location(directory: "/cg/cpu/docker/x", mountPoint: "/cg/cpu", isUnified: false)
        let v1Files = [
            "/cg/cpu/docker/x/cpu.cfs_quota_us": "50000", "/cg/cpu/docker/x/cpu.cfs_period_us": "100000",
            "/cg/cpu/cpu.cfs_quota_us": "-1", "/cg/cpu/cpu.cfs_period_us": "100000",
        ]
        #expect(ControlGroup(memory: nil, cpu: v1).cpuQuotaCores(read: { v1Files[$0] }) == 0.5)
    }

    @Test func parsesLimitFiles() {
        #expect(ControlGroup.parseMemoryLimit("max\n") == nil)
        #expect(ControlGroup.parseMemoryLimit("1073741824\n") == 1_073_741_824)
        // v1's "unlimited", captured from this host's root memory cgroup.
        #expect(ControlGroup.parseMemoryLimit("9223372036854771712") == nil)
        #expect(ControlGroup.parseCPUMax("max 100000\n") == nil)
        #expect(ControlGroup.parseCPUMax("150000 100000\n") == 1.5)
        #expect(ControlGroup.parseCFSQuota(quota: "-1\n", period: "100000\n") == nil)
        #expect(ControlGroup.parseCFSQuota(quota: "200000", period: "100000") == 2)
    }

    @Test func parsesMemoryStat() {
        let stat = ControlGroup.parseFlatKeyed("cache 89219072\ninactive_file 47415296\ntotal_inactive_file 47415296\n")
        #expect(stat["inactive_file"] == 47_415_296)
        #expect(stat["cache"] == 89_219_072)
    }

    @Test func resolvesThisProcess() {
        let group = ControlGroup.current()
        // Every Linux host mounts cgroups; what is under them depends on the host.
        #expect(group.memory != nil)
        if let memory = group.memory {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: memory.directory, isDirectory: &isDirectory) && isDirectory.boolValue)
            #expect(memory.directory.hasPrefix(memory.mountPoint))
        }
        if let limit = group.memoryLimitBytes() {
            #expect(limit > 0)
        }
        if let quota = group.cpuQuotaCores() {
            #expect(quota > 0)
        }
    }
}
