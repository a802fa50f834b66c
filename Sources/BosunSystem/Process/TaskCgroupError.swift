/// Why a per-task cgroup operation failed.
public typealias TaskCgroupError = SystemError<TaskCgroupFailure>

public enum TaskCgroupFailure: SystemErrorDomain {
    public static let prefix = "cgroup"
}

extension SystemError.Code where Domain == TaskCgroupFailure {
    /// The worker's cgroup is not a delegated cgroup v2 subtree it may manage.
    public static let notDelegated = Self("not-delegated")
    /// A limit needs a controller the delegated subtree does not offer.
    public static let controllerUnavailable = Self("controller-unavailable")
    /// A task cgroup name that is empty or would leave the root ("/", "..").
    public static let invalidName = Self("invalid-name")
    /// The cgroup still has processes (rmdir gives EBUSY).
    public static let busy = Self("busy")
    /// Reading or writing a cgroupfs file failed.
    public static let io = Self("io")
}
