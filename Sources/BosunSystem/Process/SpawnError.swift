/// Why a child process could not be started.
public typealias SpawnError = SystemError<SpawnFailure>

public enum SpawnFailure: SystemErrorDomain {
    public static let prefix = ""
}

extension SystemError.Code where Domain == SpawnFailure {
    /// No executable by that name on the child's PATH, or the path is not executable.
    public static let executableNotFound = Self("executable-not-found")
    /// The working directory does not exist or is not a directory.
    public static let workingDirectoryNotFound = Self("working-directory-not-found")
    /// posix_spawn itself failed (exec error, resource limits, a file action failed).
    public static let spawnFailed = Self("spawn-failed")
    /// A system call needed to set the child up failed.
    public static let systemCall = Self("system-call")
    /// This libc lacks something the launcher needs.
    public static let unsupported = Self("unsupported")
}
