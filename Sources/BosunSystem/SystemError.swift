/// The family of a `SystemError`: what failed, and the prefix its messages carry.
public protocol SystemErrorDomain: Sendable {
    static var prefix: String { get }
}

/// Why a call into the operating system failed: an open set of codes rather than an enum (so a
/// new failure mode does not break every `switch` in the worker), a detail written for a task's
/// failure message, and the errno behind it when there is one. One shape for every domain
/// (`SpawnError`, `TaskCgroupError`, `SystemdNotifyError`); each domain adds its own codes.
public struct SystemError<Domain: SystemErrorDomain>: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }
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
        let head = Domain.prefix.isEmpty ? "\(code)" : "\(Domain.prefix) \(code)"
        guard let errno else { return "\(head): \(detail)" }
        return "\(head): \(detail): \(GNULibc.describe(errno: errno)) (errno \(errno))"
    }
}
