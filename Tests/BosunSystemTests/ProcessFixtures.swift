import Foundation
import Glibc
import Testing

@testable import BosunSystem

/// A temporary directory removed when the value goes away.
final class ScratchDirectory {
    let path: String

    init() throws {
        // Short, so socket paths inside stay well under sun_path's 108 bytes.
        path = "/tmp/bsys-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

enum ProcessFixtures {
    /// The environment test children get: enough PATH to find sh, env and sleep.
    static let environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C"]

    /// Polls `condition` until it holds or `timeout` passes; returns its last value.
    static func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// Pids a shell wrote to `file`, one a line, once `count` of them are there.
    static func pids(in file: String, count: Int) async -> [pid_t] {
        var pids: [pid_t] = []
        _ = await eventually {
            pids = ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
                .split(separator: "\n").compactMap { pid_t($0) }
            return pids.count >= count
        }
        return pids
    }

    /// Whether the process still runs. A zombie counts as ended: in this project's test VM,
    /// PID 1 does not reap orphans, so a killed grandchild stays a zombie forever.
    static func isRunning(_ pid: pid_t) -> Bool {
        ProcessTable.isAlive(pid)
    }

    /// Whether `signal` is in the process's ignored set (SigIgn in /proc/<pid>/status).
    static func ignores(_ pid: pid_t, _ signal: Int32) -> Bool {
        guard let status = KernelFile.read("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigIgn:") }),
              let mask = UInt64(line.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << UInt64(signal - 1)) != 0
    }
}

/// A private subtree of the machine's cgroup v2 hierarchy, removed (processes killed first)
/// when the value goes away. Only possible where this process may create cgroups there:
/// as root on a host or VM, or in a container given a writable cgroup2 mount.
final class ScratchCgroupTree {
    let mountPoint: String
    /// Path relative to the mount, as /proc/<pid>/cgroup would show it.
    let relativePath: String
    var path: String { mountPoint + relativePath }

    /// The cgroup2 mount point, when this process may create cgroups directly under it.
    static let writableMount: String? = {
        guard let mountInfo = KernelFile.read("/proc/self/mountinfo"),
              let mount = TaskCgroup.unifiedMount(mountInfo), mount.root == "/"
        else { return nil }
        let probe = mount.mountPoint + "/bosun-probe-\(UUID().uuidString.prefix(8))"
        guard mkdir(probe, 0o755) == 0 else { return nil }
        rmdir(probe)
        return mount.mountPoint
    }()

    init() throws {
        mountPoint = try #require(Self.writableMount)
        relativePath = "/bosun-test-\(UUID().uuidString.prefix(8))"
        guard mkdir(mountPoint + relativePath, 0o755) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    /// Creates `relative` (slash-separated) below the tree and returns its full path.
    func makeDirectory(_ relative: String) throws -> String {
        var current = path
        for component in relative.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0, errno != EEXIST { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        }
        return current
    }

    deinit {
        func remove(_ directory: String) {
            let children = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for child in children {
                var isDirectory: ObjCBool = false
                let full = directory + "/" + child
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue {
                    remove(full)
                }
            }
            _ = KernelFile.write("1", to: directory + "/cgroup.kill")
            // Killed processes leave the cgroup a moment after the signal.
            var attempts = 0
            while rmdir(directory) != 0, errno == EBUSY, attempts < 200 {
                attempts += 1
                usleep(10_000)
            }
        }
        remove(path)
    }
}
