import BosunControl
import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

/// sd_notify from the real worker binary to a real Unix datagram socket, as systemd would see it.
@Suite struct WorkerSystemdTests {
    @Test(arguments: [false, true])
    func notifiesReadyWatchdogAndStoppingAndKeepsTheSocketFromTasks(abstract: Bool) async throws {
        let socket = try DatagramListener(abstract: abstract)
        defer { socket.close() }
        // A separate method: the Swift 6.3.1 compiler crashes (SendNonSendable) on this body as a closure.
        try await Harness.run(WorkerDaemonTests.fast) { h in try await check(h, socket: socket) }
    }

    func check(_ h: Harness, socket: DatagramListener) async throws {
        let tenant = h.tenant
        let agent = try await tenant.createAgent()
        let worker = try await h.worker(environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "400000"])

        let ready = try await socket.receive(until: { $0.contains("READY=1") })
        #expect(ready.contains { $0.contains("READY=1") && $0.contains("STATUS=polling queue") })
        let watchdog = try await socket.receive(until: { $0 == "WATCHDOG=1" })
        #expect(watchdog.last == "WATCHDOG=1")

        // Task processes never see the notify socket, the watchdog or the worker's own settings.
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "BOSUN_API_KEY"] {
            let execution = try await tenant.submit(agent: agent.id, input: .string("env \(name)"))
            let done = try await tenant.waitForStatus(execution.id, [.completed, .failed])
            #expect(done.output == "\(name) is unset")
        }
        let path = try await tenant.submit(agent: agent.id, input: "env PATH")
        #expect(try await tenant.waitForStatus(path.id, [.completed, .failed]).output?.hasPrefix("PATH=/") == true)

        worker.signal(SIGTERM)
        let stopping = try await socket.receive(until: { $0.contains("STOPPING=1") })
        #expect(stopping.last?.contains("STOPPING=1") == true)
        #expect(await worker.waitForExit(timeout: .seconds(15)) == 0)
    }
}

extension WorkerSystemdTests {
    /// WATCHDOG=1 stops while the control API cannot be reached (systemd then restarts a worker
    /// cut off from the control plane) and resumes when it answers again.
    @Test func theWatchdogFollowsControlAPIReachability() async throws {
        let socket = try DatagramListener(abstract: true)
        defer { socket.close() }
        try await Harness.run(WorkerDaemonTests.fast) { h in try await checkWatchdog(h, socket: socket) }
    }

    func checkWatchdog(_ h: Harness, socket: DatagramListener) async throws {
        let worker = try await h.worker(environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "400000"])
        _ = try await socket.receive(until: { $0 == "WATCHDOG=1" })
        let port = h.server.port
        await h.server.stop()
        // Once a poll has failed, a whole second passes without a watchdog ping.
        try await worker.waitForLog("poll failed; backing off", timeout: .seconds(30))
        _ = try await socket.receive(until: { _ in false }, timeout: 0.3, throwOnTimeout: false)
        let silent = try await socket.receive(until: { _ in false }, timeout: 1, throwOnTimeout: false)
        #expect(!silent.contains("WATCHDOG=1"), "watchdog pings while the control API is down: \(silent)")
        let back = try await TestServer.start { configuration in
            WorkerDaemonTests.fast(&configuration)
            configuration.databaseURL = h.server.server.services.configuration.databaseURL
            configuration.port = port
        }
        h.onShutdown { await back.stop() }
        let resumed = try await socket.receive(until: { $0 == "WATCHDOG=1" }, timeout: 30)
        #expect(resumed.last == "WATCHDOG=1")
    }
}

/// A bound AF_UNIX datagram socket (a file path or an abstract name) that collects datagrams.
final class DatagramListener: @unchecked Sendable {
    let fd: Int32
    /// The NOTIFY_SOCKET value: a path, or `@name` for an abstract socket.
    let address: String
    let path: String?

    init(abstract: Bool) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        let name = "bosun-notify-\(UUID().uuidString.prefix(8))"
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes: [UInt8]
        if abstract {
            bytes = [0] + Array(name.utf8)
            self.address = "@" + name
            path = nil
        } else {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
            bytes = Array(file.utf8)
            self.address = file
            path = file
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw TestFailure("bind(\(self.address)) failed: errno \(errno)") }
    }

    /// Datagrams received until one satisfies `done` (included), or a failure after `timeout`.
    /// Never blocks a thread: a blocking recv would starve the cooperative pool that the
    /// in-process control API needs (two cores, two threads).
    func receive(until done: (String) -> Bool, timeout: TimeInterval = 20, throwOnTimeout: Bool = true) async throws
        -> [String]
    {
        var received: [String] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else {
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            let message = String(decoding: buffer[0..<count], as: UTF8.self)
            received.append(message)
            if done(message) { return received }
        }
        if !throwOnTimeout { return received }
        throw TestFailure("no matching datagram on \(address); got \(received)")
    }

    func close() {
        _ = Glibc.close(fd)
        if let path { unlink(path) }
    }
}
