import Foundation
import Glibc

/// The cgroup v2 directory under which the worker creates one leaf per task: the unit's own
/// cgroup when systemd delegated it (`Delegate=yes`), whose `supervisor` child holds the worker.
///
/// cgroup v2 lets only leaves hold processes once controllers are enabled below a node ("no
/// internal processes"), which is why the worker lives in a sibling leaf and not here.
public struct TaskCgroupRoot: Sendable, Hashable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Creates (or reuses, after a worker restart) `<root>/task-<name>` and applies `limits`.
    ///
    /// The controllers a limit needs are enabled in the root's `cgroup.subtree_control` first;
    /// a controller the root does not have (not delegated, or bound to a v1 hierarchy on a
    /// hybrid host) fails with `.controllerUnavailable` instead of silently running unlimited.
    public func create(name: String, limits: TaskCgroup.Limits = TaskCgroup.Limits()) throws -> TaskCgroup {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", name.utf8.count <= 200 else {
            throw TaskCgroupError(.invalidName, "\"\(name)\" cannot name a cgroup")
        }
        try enable(limits.controllers)
        let cgroup = TaskCgroup(path: path + "/task-" + name)
        if mkdir(cgroup.path, 0o755) != 0, errno != EEXIST {
            throw TaskCgroupError(.io, "mkdir \(cgroup.path)", errno: errno)
        }
        do {
            try cgroup.apply(limits)
        } catch {
            try? cgroup.remove()
            throw error
        }
        return cgroup
    }

    /// Controllers this root offers to its children (`cgroup.controllers`).
    public var availableControllers: Set<String> {
        Self.words(KernelFile.read(path + "/cgroup.controllers"))
    }

    /// Controllers enabled for the children (`cgroup.subtree_control`).
    public var enabledControllers: Set<String> {
        Self.words(KernelFile.read(path + "/cgroup.subtree_control"))
    }

    private func enable(_ controllers: Set<String>) throws {
        let missing = controllers.subtracting(enabledControllers)
        guard !missing.isEmpty else { return }
        let unavailable = missing.subtracting(availableControllers)
        guard unavailable.isEmpty else {
            throw TaskCgroupError(
                .controllerUnavailable,
                "\(unavailable.sorted().joined(separator: ", ")) not offered in \(path)/cgroup.controllers")
        }
        for controller in missing.sorted() {
            let result = KernelFile.write("+" + controller, to: path + "/cgroup.subtree_control")
            guard result == 0 else {
                throw TaskCgroupError(.io, "enable \(controller) in \(path)/cgroup.subtree_control", errno: result)
            }
        }
    }

    private static func words(_ text: String?) -> Set<String> {
        Set((text ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }
}
