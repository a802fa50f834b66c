import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on loopback in front of the control API that can cut every open connection at
/// once, as a restarting load balancer or a flaky network does. It records what clients sent,
/// so a test can see the `Last-Event-ID` of a resumed event stream, and what the server sent,
/// so a test can cut a stream after it delivered something.
final class DroppingProxy: @unchecked Sendable {
    private(set) var port: Int = 0
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var open: [Int32] = []
    private var all: [Int32] = []
    private var sent = Data()
    private var received = Data()

    init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Everything clients have sent so far, as text.
    var clientText: String { lock.withLock { String(decoding: sent, as: UTF8.self) } }

    /// Everything the server has sent to clients so far, as text.
    var serverText: String { lock.withLock { String(decoding: received, as: UTF8.self) } }

    /// Cuts every connection open now; new ones are still accepted.
    func dropAll() {
        lock.withLock {
            for socket in open { shutdown(socket, Int32(SHUT_RDWR)) }
            open.removeAll()
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        dropAll()
        lock.withLock {
            for socket in all { close(socket) }
            all.removeAll()
        }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: UInt16(upstreamPort))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            lock.withLock {
                open += [client, upstream]
                all += [client, upstream]
            }
            guard connected == 0 else {
                shutdown(client, Int32(SHUT_RDWR))
                continue
            }
            Thread.detachNewThread { [self] in pump(from: client, to: upstream, fromClient: true) }
            Thread.detachNewThread { [self] in pump(from: upstream, to: client, fromClient: false) }
        }
    }

    private func pump(from source: Int32, to destination: Int32, fromClient: Bool) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(source, &buffer, buffer.count)
            guard count > 0 else { break }
            lock.withLock {
                if fromClient { sent.append(contentsOf: buffer[0..<count]) } else { received.append(contentsOf: buffer[0..<count]) }
            }
            var offset = 0
            while offset < count {
                let written = buffer[offset..<count].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
                guard written > 0 else { break }
                offset += written
            }
            if offset < count { break }
        }
        shutdown(destination, Int32(SHUT_RDWR))
        shutdown(source, Int32(SHUT_RDWR))
    }
}
