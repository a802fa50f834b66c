import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

/// Per-task cgroups with a real cgroup v2 hierarchy: the worker runs in `<unit>/supervisor` the
/// way systemd's `Delegate=yes` + `DelegateSubgroup=supervisor` starts it, and a cancel stops a
/// process that escaped the task's process group.
@Suite struct WorkerCgroupTests {
    /// The cgroup2 mount point (`/sys/fs/cgroup` on pure v2 hosts, `/sys/fs/cgroup/unified` on hybrid ones).
    static func cgroup2Mount() throws -> String {
        let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        for line in mounts.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { continue }
            let fields = halves[0].split(separator: " ")
            if fields.count > 4 { return String(fields[4]) }
        }
        throw TestFailure("no cgroup2 mount in /proc/self/mountinfo")
    }

    @Test func aCancelKillsAProcessThatLeftTheProcessGroup() async throws {
        let unit = try Self.cgroup2Mount() + "/bosun-test-\(UUID().uuidString.prefix(8).lowercased())"
        let supervisor = unit + "/supervisor"
        try FileManager.default.createDirectory(atPath: supervisor, withIntermediateDirectories: true)
        defer {
            rmdir(supervisor)
            rmdir(unit)
        }
        try await Harness.run(WorkerDaemonTests.fast) { h in
            let agent = try await h.tenant.createAgent()
            let key = try await h.tenant.createKey(scope: .worker, queue: h.tenant.queueId)
            let worker = try WorkerProcess(controlURL: h.server.baseURL, apiKey: key, queue: h.tenant.queueId)
            _ = try h.adopt(worker, inCgroup: supervisor)
            try await worker.waitForLog("per-task cgroups on")

            let execution = try await h.tenant.submit(agent: agent.id, input: "escape 300")
            let escaped = try await eventually("the escaped process") { () -> Int32? in
                guard let event = try await h.tenant.events(execution.id).first(where: { $0.type == "test.escaped" }),
                    let pid = event.data["children"]?.arrayValue?.first?.numberValue
                else { return nil }
                return Int32(pid)
            }
            // It left the process group but not the task's cgroup.
            let membership = try String(contentsOfFile: "/proc/\(escaped)/cgroup", encoding: .utf8)
            #expect(membership.contains("/task-"))
            #expect(getpgid(escaped) != getpgid(Int32(worker.pid)))
            let taskCgroups = try FileManager.default.contentsOfDirectory(atPath: unit).filter { $0.hasPrefix("task-") }
            #expect(taskCgroups.count == 1)

            let reply = try await h.tenant.admin.post(
                "/api/v1/executions/\(execution.id.uuidString.lowercased())/cancel", [String: String]())
            #expect(reply.status == 200)
            _ = try await h.tenant.waitForStatus(execution.id, [.cancelled])
            try await eventually("the escaped process to die", timeout: .seconds(10)) { processAlive(escaped) ? nil : true }
            try await eventually("the task cgroup to be removed", timeout: .seconds(10)) {
                let left = try FileManager.default.contentsOfDirectory(atPath: unit).filter { $0.hasPrefix("task-") }
                return left.isEmpty ? true : nil
            }
        }
    }
}
