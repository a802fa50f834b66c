import Foundation
import Glibc
import Testing

@testable import BosunSystem

@Suite(.enabled(if: ScratchCgroupTree.writableMount != nil, "needs a cgroup2 hierarchy this process may write"))
struct TaskCgroupRootTests {
    @Test func createsAndReusesTaskLeaves() throws {
        let tree = try ScratchCgroupTree()
        let root = TaskCgroupRoot(path: tree.path)
        let cgroup = try root.create(name: "4f1c")
        #expect(cgroup.path == tree.path + "/task-4f1c")
        #expect(FileManager.default.fileExists(atPath: cgroup.path + "/cgroup.procs"))
        // A worker restarted after a crash finds its old, empty leaf and takes it over.
        #expect(try root.create(name: "4f1c") == cgroup)
        #expect(!cgroup.isPopulated)
        try cgroup.remove()
    }

    @Test func refusesNamesThatLeaveTheRoot() throws {
        let tree = try ScratchCgroupTree()
        let root = TaskCgroupRoot(path: tree.path)
        for name in ["", "a/b", "..", "."] {
            let error = #expect(throws: TaskCgroupError.self) { try root.create(name: name) }
            #expect(error?.code == .invalidName)
        }
    }

    /// Limits need the memory/cpu/pids controllers in the root's `cgroup.controllers`. On a
    /// unified host under systemd they are; on a hybrid host (this project's VM binds them to
    /// v1 hierarchies, leaving the cgroup2 mount with hugetlb only) they are not, and creating
    /// a limited cgroup must fail loudly rather than run the task unlimited.
    @Test func appliesLimitsOrSaysWhyNot() throws {
        let tree = try ScratchCgroupTree()
        let root = TaskCgroupRoot(path: tree.path)
        let limits = TaskCgroup.Limits(memoryMaxBytes: 256 << 20, cpus: 1.5, pidsMax: 512)
        if root.availableControllers.isSuperset(of: ["memory", "cpu", "pids"]) {
            let cgroup = try root.create(name: "limited", limits: limits)
            #expect(root.enabledControllers.isSuperset(of: ["memory", "cpu", "pids"]))
            #expect(KernelFile.read(cgroup.path + "/memory.max") == "268435456\n")
            #expect(KernelFile.read(cgroup.path + "/cpu.max") == "150000 100000\n")
            #expect(KernelFile.read(cgroup.path + "/pids.max") == "512\n")
            try cgroup.remove()
        } else {
            let error = #expect(throws: TaskCgroupError.self) { try root.create(name: "limited", limits: limits) }
            #expect(error?.code == .controllerUnavailable)
            #expect(!FileManager.default.fileExists(atPath: tree.path + "/task-limited"))
        }
    }
}
