import BosunProtocol
import Foundation
import Logging

/// The last lines a process logged, kept in memory for the worker's full heartbeat, so an
/// operator can see why a worker misbehaves without a shell on its host.
public final class LogRing: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    private var next = 0
    public let capacity: Int

    public init(capacity: Int = 200) {
        self.capacity = max(capacity, 1)
        lines.reserveCapacity(self.capacity)
    }

    public func append(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        if lines.count < capacity {
            lines.append(line)
        } else {
            lines[next] = line
        }
        next = (next + 1) % capacity
    }

    /// Oldest first; at most `limit` of the most recent lines.
    public func tail(_ limit: Int? = nil) -> [String] {
        lock.lock()
        let ordered = lines.count < capacity ? lines : Array(lines[next...] + lines[..<next])
        lock.unlock()
        guard let limit, limit < ordered.count else { return ordered }
        return Array(ordered.suffix(limit))
    }
}

/// Passes every record to the real handler and keeps a one-line copy in a `LogRing`.
public struct RingLogHandler: LogHandler {
    var inner: any LogHandler
    let ring: LogRing
    let label: String

    public init(wrapping inner: any LogHandler, ring: LogRing, label: String) {
        self.inner = inner
        self.ring = ring
        self.label = label
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        inner.log(event: event)
        var merged = inner.metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let ts = InternetDate.format(Date())
        ring.append("\(ts) \(event.level.rawValue) \(label): \(event.message)\(fields.isEmpty ? "" : " " + fields)")
    }
}
