import Foundation
import Glibc
import Testing

@testable import BosunSystem

@Suite struct TaskCgroupTests {
    // MARK: Parsing

    @Test func findsTheUnifiedPathOnEveryLayout() {
        #expect(TaskCgroup.unifiedPath("0::/system.slice/bosun-worker@q.service/supervisor\n")
            == "/system.slice/bosun-worker@q.service/supervisor")
        // Hybrid: v1 controllers listed beside an (often empty) unified hierarchy.
        let hybrid = """
            9:name=systemd:/
            4:memory:/process_api/7dfe506f
            1:cpu:/
            0::/
            """
        #expect(TaskCgroup.unifiedPath(hybrid) == "/")
        #expect(TaskCgroup.unifiedPath("12:pids:/docker/abc\n1:name=systemd:/docker/abc\n") == nil)
        #expect(TaskCgroup.unifiedPath("0::/gone (deleted)\n") == nil)
        #expect(TaskCgroup.unifiedPath("") == nil)
    }

    @Test func findsTheCgroup2Mount() throws {
        let unified = """
            22 1 0:21 / /proc rw,nosuid - proc proc rw
            29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
            """
        let mount = try #require(TaskCgroup.unifiedMount(unified))
        #expect(mount.root == "/")
        #expect(mount.mountPoint == "/sys/fs/cgroup")

        let hybrid = """
            33 31 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """
        #expect(TaskCgroup.unifiedMount(hybrid)?.mountPoint == "/sys/fs/cgroup/unified")
        #expect(TaskCgroup.unifiedMount("33 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory") == nil)

        let escaped = "50 1 0:40 /a\\040b /mnt/cg\\040v2 rw - cgroup2 cgroup2 rw"
        #expect(TaskCgroup.unifiedMount(escaped)?.root == "/a b")
        #expect(TaskCgroup.unifiedMount(escaped)?.mountPoint == "/mnt/cg v2")
    }

    @Test func mapsTheMembershipOntoTheMount() {
        let host = "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw"
        #expect(TaskCgroup.directory(procSelfCgroup: "0::/a/b\n", mountInfo: host) == "/sys/fs/cgroup/a/b")
        #expect(TaskCgroup.directory(procSelfCgroup: "0::/\n", mountInfo: host) == "/sys/fs/cgroup")
        // A container that mounts only its own subtree.
        let subtree = "29 23 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw"
        #expect(TaskCgroup.directory(procSelfCgroup: "0::/kubepods/pod1/worker\n", mountInfo: subtree)
            == "/sys/fs/cgroup/worker")
        #expect(TaskCgroup.directory(procSelfCgroup: "0::/elsewhere\n", mountInfo: subtree) == nil)
    }

    @Test func theRootIsTheParentOfAWritableSupervisorCgroup() {
        let mounts = "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw"
        let unit = "/sys/fs/cgroup/system.slice/system-bosun\\x2dworker.slice/bosun-worker@q.service"
        let membership = "0::/system.slice/system-bosun\\x2dworker.slice/bosun-worker@q.service/supervisor\n"
        let writable: Set<String> = [unit, unit + "/cgroup.procs", unit + "/cgroup.subtree_control"]

        let root = TaskCgroup.delegatedRoot(procSelfCgroup: membership, mountInfo: mounts) { writable.contains($0) }
        #expect(root?.path == unit)
        // Delegate=yes without DelegateSubgroup=: the worker sits in the unit cgroup itself.
        #expect(TaskCgroup.delegatedRoot(procSelfCgroup: "0::/system.slice/x.service\n", mountInfo: mounts) { _ in true } == nil)
        // No delegation: systemd owns the unit cgroup and the worker (User=bosun) cannot write it.
        #expect(TaskCgroup.delegatedRoot(procSelfCgroup: membership, mountInfo: mounts) { _ in false } == nil)
        #expect(TaskCgroup.delegatedRoot(procSelfCgroup: membership, mountInfo: mounts) { $0 != unit + "/cgroup.subtree_control" } == nil)
    }

    /// This test process is not a systemd service with `Delegate=yes`/`DelegateSubgroup=`
    /// (in the project's VM, PID 1 is not even systemd and this process sits at the root of the
    /// cgroup2 hierarchy, "0::/"), so there is no delegated root to find. Only where the test
    /// does run in a `supervisor` cgroup would a root be expected.
    @Test func noDelegatedRootOutsideADelegatingService() {
        let membership = KernelFile.read("/proc/self/cgroup").flatMap(TaskCgroup.unifiedPath)
        if membership?.hasSuffix("/supervisor") != true {
            #expect(TaskCgroup.delegatedRoot() == nil)
        }
    }

    // MARK: Real cgroups

    @Test(.enabled(if: ScratchCgroupTree.writableMount != nil, "needs a cgroup2 hierarchy this process may write"))
    func findsARealDelegatedRoot() throws {
        let tree = try ScratchCgroupTree()
        let unit = try tree.makeDirectory("bosun-worker@q.service/supervisor")
        let mounts = try #require(KernelFile.read("/proc/self/mountinfo"))
        let root = TaskCgroup.delegatedRoot(
            procSelfCgroup: "0::\(tree.relativePath)/bosun-worker@q.service/supervisor\n", mountInfo: mounts)
        #expect(root?.path == (unit as NSString).deletingLastPathComponent)
    }

    @Test(.enabled(if: ScratchCgroupTree.writableMount != nil, "needs a cgroup2 hierarchy this process may write"))
    func entersASupervisorSubgroupLikeSystemd254Would() async throws {
        let tree = try ScratchCgroupTree()
        let unit = try tree.makeDirectory("old-systemd.service")
        // A stand-in for the worker: the code under test moves the process it is given.
        let stand = try ChildProcess.spawn(
            executable: "/bin/sleep", arguments: ["300"], environment: [:], workingDirectory: nil)
        #expect(KernelFile.write("\(stand.pid)", to: unit + "/cgroup.procs") == 0)
        let mounts = try #require(KernelFile.read("/proc/self/mountinfo"))

        let root = try TaskCgroup.enterSupervisorSubgroup(
            pid: stand.pid, procSelfCgroup: "0::\(tree.relativePath)/old-systemd.service\n", mountInfo: mounts)
        #expect(root.path == unit)
        #expect(KernelFile.read("/proc/\(stand.pid)/cgroup")?.contains("\(tree.relativePath)/old-systemd.service/supervisor\n") == true)
        // The unit cgroup holds no process now, so task leaves may get controllers.
        #expect(KernelFile.read(unit + "/cgroup.procs") == "")

        let atRoot = #expect(throws: TaskCgroupError.self) {
            try TaskCgroup.enterSupervisorSubgroup(pid: stand.pid, procSelfCgroup: "0::/\n", mountInfo: mounts)
        }
        #expect(atRoot?.code == .notDelegated)
        await stand.terminateGroup(grace: .zero)
    }

    @Test(.enabled(if: ScratchCgroupTree.writableMount != nil, "needs a cgroup2 hierarchy this process may write"))
    func cgroupKillCatchesProcessesThatLeftTheGroup() async throws {
        try await killsEverything { cgroup in try cgroup.kill() }
    }

    @Test(.enabled(if: ScratchCgroupTree.writableMount != nil, "needs a cgroup2 hierarchy this process may write"))
    func theKillEachFallbackDoesToo() async throws {
        try await killsEverything { cgroup in cgroup.killEach() }
    }

    /// A task whose shell starts a `setsid` process (out of its process group, out of reach of
    /// kill(-pgid)) and a plain background one; killing the cgroup must end all three.
    private func killsEverything(with kill: (TaskCgroup) throws -> Void) async throws {
        let tree = try ScratchCgroupTree()
        let root = TaskCgroupRoot(path: tree.path)
        let cgroup = try root.create(name: "t1")
        let directory = try ScratchDirectory()
        let pidFile = directory.path + "/pids"
        // The shell forks only once it is in the cgroup, so every descendant is born inside.
        let script = """
            until grep -q task-t1 /proc/$$/cgroup; do sleep 0.01; done
            setsid sleep 300 & echo $! >> \(pidFile)
            sleep 300 & echo $! >> \(pidFile)
            wait
            """
        let child = try ChildProcess.spawn(
            executable: "/bin/sh", arguments: ["-c", script], environment: ProcessFixtures.environment,
            workingDirectory: nil, outputDrainTimeout: .milliseconds(200))
        try cgroup.add(pid: child.pid)
        let descendants = await ProcessFixtures.pids(in: pidFile, count: 2)
        try #require(descendants.count == 2)
        let escaped = descendants[0]
        #expect(await ProcessFixtures.eventually { ProcessTable.entry(escaped)?.processGroup == escaped })
        #expect(Set(cgroup.processIDs()).isSuperset(of: [child.pid] + descendants))
        #expect(cgroup.isPopulated)
        let busy = #expect(throws: TaskCgroupError.self) { try cgroup.remove() }
        #expect(busy?.code == .busy)

        try kill(cgroup)

        #expect(await child.wait() == .signalled(SIGKILL))
        #expect(await cgroup.waitUntilEmpty(timeout: .seconds(5)))
        for pid in descendants {
            #expect(!ProcessFixtures.isRunning(pid), "\(pid) survived")
        }
        try cgroup.remove()
        #expect(!FileManager.default.fileExists(atPath: cgroup.path))
        try cgroup.remove()
    }
}
