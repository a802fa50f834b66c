import Foundation
import Glibc
import Testing

@testable import BosunSystem

@Suite struct SystemdNotifierTests {
    @Test func absentWithoutNotifySocket() {
        #expect(SystemdNotifier(environment: [:]) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]) == nil)
    }

    @Test func sendsOneDatagramToAPathSocket() throws {
        let directory = try ScratchDirectory()
        let path = directory.path + "/notify.sock"
        let listener = try DatagramListener(path: path)
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": path]))

        try notifier.ready(status: "registered as worker w-1\non queue q")
        #expect(try listener.receive() == Array("READY=1\nSTATUS=registered as worker w-1 on queue q".utf8))

        try notifier.status("draining: 2 tasks\r\nleft")
        #expect(try listener.receive() == Array("STATUS=draining: 2 tasks left".utf8))
        try notifier.watchdog()
        #expect(try listener.receive() == Array("WATCHDOG=1".utf8))
        try notifier.stopping()
        #expect(try listener.receive() == Array("STOPPING=1".utf8))
        try notifier.extendTimeout(.seconds(90) + .milliseconds(250))
        #expect(try listener.receive() == Array("EXTEND_TIMEOUT_USEC=90250000".utf8))
    }

    /// A trailing NUL in the address length would name a different abstract socket, so this
    /// only passes if the notifier passes exactly offsetof(sun_path) + 1 + name bytes.
    @Test func sendsToAnAbstractSocketWithTheExactAddressLength() throws {
        let name = "bosun-test-\(UUID().uuidString)"
        let listener = try DatagramListener(abstractName: name)
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name]))
        try notifier.send("READY=1")
        #expect(try listener.receive() == Array("READY=1".utf8))
    }

    @Test func failsClearlyWhenNobodyListens() throws {
        let directory = try ScratchDirectory()
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": directory.path + "/absent.sock"]))
        let error = try #require(throws: SystemdNotifyError.self) { try notifier.watchdog() }
        #expect(error.code == .send)
        #expect(error.errno == ENOENT)
        #expect(error.description.contains("absent.sock"))
    }

    @Test func rejectsAddressesItCannotUse() throws {
        let vsock = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": "vsock:2:1234"]))
        #expect(throws: SystemdNotifyError.self) { try vsock.watchdog() }
        let tooLong = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)]))
        let error = try #require(throws: SystemdNotifyError.self) { try tooLong.watchdog() }
        #expect(error.code == .addressTooLong)
    }

    @Test func watchdogIntervalIsHalfOfWatchdogUsec() throws {
        func interval(_ environment: [String: String]) -> Duration? {
            SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/systemd/notify"].merging(environment) { $1 })?
                .watchdogInterval
        }
        let ours = "\(getpid())"
        #expect(interval(["WATCHDOG_USEC": "30000000"]) == .seconds(15))
        #expect(interval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": ours]) == .seconds(15))
        #expect(interval(["WATCHDOG_USEC": "1000001", "WATCHDOG_PID": ours]) == .microseconds(500_000))
        // The variables were meant for another process (they leaked into ours): not our watchdog.
        #expect(interval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid() + 1)"]) == nil)
        #expect(interval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "not-a-pid"]) == nil)
        #expect(interval(["WATCHDOG_USEC": "0"]) == nil)
        #expect(interval(["WATCHDOG_USEC": "soon"]) == nil)
        #expect(interval([:]) == nil)
    }
}

/// A bound Unix datagram socket standing in for systemd's notification socket.
private final class DatagramListener {
    let fd: Int32

    convenience init(path: String) throws {
        try self.init(addressBytes: Array(path.utf8))
    }

    convenience init(abstractName: String) throws {
        try self.init(addressBytes: [0] + Array(abstractName.utf8))
    }

    private init(addressBytes: [UInt8]) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: addressBytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + addressBytes.count)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(.init(rawValue: code) ?? .EIO)
        }
    }

    deinit { close(fd) }

    /// The next datagram, exactly as sent; fails after two seconds without one.
    func receive() throws -> [UInt8] {
        var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, 2000) == 1 else { throw POSIXError(.ETIMEDOUT) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        return Array(buffer[0..<count])
    }
}
