import Glibc

/// Why a child process could not be started.
///
/// A struct with an open set of codes rather than an enum, so a new failure mode does not
/// break every `switch` in the worker; `description` is written for a task's failure message.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No executable by that name on the child's PATH, or the path is not executable.
        public static let executableNotFound = Code("executable-not-found")
        /// The working directory does not exist or is not a directory.
        public static let workingDirectoryNotFound = Code("working-directory-not-found")
        /// posix_spawn itself failed (exec error, resource limits, a file action failed).
        public static let spawnFailed = Code("spawn-failed")
        /// A system call needed to set the child up failed.
        public static let systemCall = Code("system-call")
        /// This libc lacks something the launcher needs.
        public static let unsupported = Code("unsupported")
    }

    public var code: Code
    public var detail: String
    /// The errno value behind the failure, when there is one.
    public var errno: Int32?

    public init(_ code: Code, _ detail: String, errno: Int32? = nil) {
        self.code = code
        self.detail = detail
        self.errno = errno
    }

    public var description: String {
        guard let errno else { return "\(code): \(detail)" }
        return "\(code): \(detail): \(GNULibc.describe(errno: errno)) (errno \(errno))"
    }
}
