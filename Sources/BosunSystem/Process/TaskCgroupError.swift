import Glibc

/// Why a per-task cgroup operation failed.
public struct TaskCgroupError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The worker's cgroup is not a delegated cgroup v2 subtree it may manage.
        public static let notDelegated = Code("not-delegated")
        /// A limit needs a controller the delegated subtree does not offer.
        public static let controllerUnavailable = Code("controller-unavailable")
        /// A task cgroup name that is empty or would leave the root ("/", "..").
        public static let invalidName = Code("invalid-name")
        /// The cgroup still has processes (rmdir gives EBUSY).
        public static let busy = Code("busy")
        /// Reading or writing a cgroupfs file failed.
        public static let io = Code("io")
    }

    public var code: Code
    public var detail: String
    public var errno: Int32?

    public init(_ code: Code, _ detail: String, errno: Int32? = nil) {
        self.code = code
        self.detail = detail
        self.errno = errno
    }

    public var description: String {
        guard let errno else { return "cgroup \(code): \(detail)" }
        return "cgroup \(code): \(detail): \(GNULibc.describe(errno: errno)) (errno \(errno))"
    }
}
