/// The worker daemon's library: registration, the long-poll loop, leases, heartbeats, drain.
/// Empty until the worker issue fills it; the control API side of its contract already exists
/// (see BosunProtocol and docs/ARCHITECTURE.md).
public enum WorkerCore {
    public struct NotImplemented: Error, CustomStringConvertible {
        public let description =
            "bosun-worker is not implemented yet: the control API and its worker contract exist; the daemon comes next"
    }

    public static let notImplemented = NotImplemented()
}
