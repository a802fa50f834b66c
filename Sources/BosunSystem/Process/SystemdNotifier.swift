import Foundation
import Glibc

/// Speaks systemd's notification protocol (`sd_notify(3)`) without libsystemd.
///
/// Each message is one datagram to `$NOTIFY_SOCKET`. The socket is opened per message, as
/// libsystemd does: notifications are rare (readiness, status lines, a watchdog ping every
/// few seconds) and a fresh socket needs no state shared between tasks.
public struct SystemdNotifier: Sendable {
    /// `$NOTIFY_SOCKET` as systemd set it: a path, or `@name` for an abstract socket.
    public let socketAddress: String
    private let watchdogMicroseconds: UInt64?
    private let watchdogPID: String?

    /// Nil when the process was not started by systemd with notification enabled
    /// (NOTIFY_SOCKET unset or empty): then there is nobody to tell.
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let address = environment["NOTIFY_SOCKET"], !address.isEmpty else { return nil }
        socketAddress = address
        watchdogMicroseconds = environment["WATCHDOG_USEC"].flatMap { UInt64($0) }.flatMap { $0 > 0 ? $0 : nil }
        watchdogPID = environment["WATCHDOG_PID"]
    }

    /// How often to send `watchdog()`: half of `WatchdogSec=`, as sd_watchdog_enabled(3)
    /// advises, so one late ping does not get the service killed. Nil when the watchdog is off
    /// or meant for another process (WATCHDOG_PID names a different pid, e.g. when the
    /// variables leaked into a child).
    public var watchdogInterval: Duration? {
        guard let microseconds = watchdogMicroseconds else { return nil }
        if let watchdogPID, !watchdogPID.isEmpty {
            guard let pid = pid_t(watchdogPID), pid == getpid() else { return nil }
        }
        return .microseconds(Int64(clamping: microseconds / 2))
    }

    /// `READY=1`: startup is complete (for the worker: registered with the control API).
    public func ready(status: String? = nil) throws {
        var message = "READY=1"
        if let status { message += "\nSTATUS=" + Self.oneLine(status) }
        try send(message)
    }

    /// `STATUS=`: the one line `systemctl status` shows. Newlines would end the field and start
    /// a new assignment, so they become spaces.
    public func status(_ text: String) throws {
        try send("STATUS=" + Self.oneLine(text))
    }

    /// `STOPPING=1`: the worker is draining.
    public func stopping() throws {
        try send("STOPPING=1")
    }

    /// `WATCHDOG=1`: the worker is alive and making progress.
    public func watchdog() throws {
        try send("WATCHDOG=1")
    }

    /// `EXTEND_TIMEOUT_USEC=`: asks for `duration` more from now before the start, stop or
    /// runtime timeout fires; sent repeatedly while a long drain is still making progress.
    public func extendTimeout(_ duration: Duration) throws {
        try send("EXTEND_TIMEOUT_USEC=\(Self.microseconds(duration))")
    }

    /// Sends `state` (newline-separated assignments) as one datagram.
    ///
    /// Never blocks: the send is MSG_DONTWAIT, so a PID 1 that stopped reading cannot pin a
    /// thread of the concurrency pool; a message it could not take fails with EAGAIN and the
    /// caller decides whether a later one will do (a watchdog ping) or to retry (READY).
    public func send(_ state: String) throws {
        var address = sockaddr_un()
        let length = try Self.fill(&address, with: socketAddress)

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemdNotifyError(.socket, "socket(AF_UNIX, SOCK_DGRAM)", errno: errno) }
        defer { close(fd) }

        let payload = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                payload.withUnsafeBytes { bytes in
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT), socketAddress, length)
                }
            }
        }
        guard sent == payload.count else {
            throw SystemdNotifyError(.send, "sendto \(socketAddress)", errno: sent < 0 ? errno : EMSGSIZE)
        }
    }

    /// Writes `text` into `address` and returns the address length to pass to the kernel:
    /// offsetof(sun_path) plus exactly the path bytes. For an abstract name the length is the
    /// name, since every byte of sun_path counts, a trailing NUL would name another socket.
    static func fill(_ address: inout sockaddr_un, with text: String) throws -> socklen_t {
        var bytes = Array(text.utf8)
        switch bytes.first {
        case UInt8(ascii: "/"):
            break
        case UInt8(ascii: "@"):
            bytes[0] = 0
        default:
            // Newer systemd can also hand out vsock addresses, for VMs; the worker does not run there.
            throw SystemdNotifyError(.unsupportedAddress, "NOTIFY_SOCKET=\(text) is neither a path nor an @abstract name")
        }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count <= capacity else {
            throw SystemdNotifyError(.addressTooLong, "NOTIFY_SOCKET=\(text) is longer than \(capacity) bytes")
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path.copyBytes(from: bytes)
        }
        return socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
    }

    static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
    }

    static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, duration > .zero else { return 0 }
        return UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
    }
}

/// Why a notification could not be sent.
public typealias SystemdNotifyError = SystemError<SystemdNotifyFailure>

public enum SystemdNotifyFailure: SystemErrorDomain {
    public static let prefix = "sd_notify"
}

extension SystemError.Code where Domain == SystemdNotifyFailure {
    /// NOTIFY_SOCKET is neither a path nor an abstract name.
    public static let unsupportedAddress = Self("unsupported-address")
    /// NOTIFY_SOCKET does not fit in sockaddr_un.
    public static let addressTooLong = Self("address-too-long")
    /// The socket could not be created.
    public static let socket = Self("socket")
    /// The datagram was not delivered (no listener, EAGAIN, permission).
    public static let send = Self("send")
}
