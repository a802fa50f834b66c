import BosunProtocol
import Foundation
import Glibc
import Testing

@testable import Runtimes

/// A temporary workspace directory (and a sibling "outside" directory), removed when the
/// value goes away.
final class ScratchWorkspace: @unchecked Sendable {
    /// Holds `root` (the workspace) and `outside`.
    let base: String
    let root: String
    let outside: String
    let workspace: Workspace

    init() throws {
        base = "/tmp/brt-\(UUID().uuidString.prefix(8))"
        root = base + "/ws"
        outside = base + "/outside"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        workspace = try Workspace(root: root)
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    /// Writes `content` to `relative` below the root (or an absolute path), creating directories.
    @discardableResult
    func write(_ relative: String, _ content: String) throws -> String {
        let path = relative.hasPrefix("/") ? relative : root + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: relative.hasPrefix("/") ? relative : root + "/" + relative, encoding: .utf8)
    }

    func symlink(_ relative: String, to target: String) throws {
        let path = root + "/" + relative
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }

    func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Sets the modification time of `relative` to `seconds` since the epoch.
    func touch(_ relative: String, seconds: Int) {
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, root + "/" + relative, &times, 0)
    }

    func context(
        processes: TaskProcesses = TaskProcesses(baseEnvironment: ToolFixtures.environment, killGrace: .seconds(1)),
        outputCap: Int = 30_000, bashDefaultTimeout: Duration = .seconds(120)
    ) -> ToolContext {
        ToolContext(
            workspace: workspace, processes: processes, bashDefaultTimeout: bashDefaultTimeout, outputCap: outputCap)
    }
}

enum ToolFixtures {
    static let environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Whether the process runs: kill(pid, 0) succeeds and it is not a zombie (PID 1 here may
    /// not reap orphans, so a killed grandchild can stay a zombie).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }
}

extension AgentTool {
    func callAsFunction(_ arguments: JSONValue, in context: ToolContext) async -> ToolOutput {
        await run(arguments, in: context)
    }
}
