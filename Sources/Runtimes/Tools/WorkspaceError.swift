/// A path a tool was given that it may not or cannot use. The message is written for the model
/// (it becomes the tool result), so it names the path as the model gave it.
public struct WorkspaceError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The path, after `..` and symlinks, is not inside the workspace.
        public static let outsideWorkspace = Code("outside-workspace")
        /// Nothing exists at the path (only when resolving for reading).
        public static let notFound = Code("not-found")
        /// The path is empty or has a NUL byte.
        public static let invalidPath = Code("invalid-path")
        /// Too many symlinks (a loop).
        public static let symlinkLoop = Code("symlink-loop")
        /// The workspace root itself is missing or not a directory.
        public static let missingRoot = Code("missing-root")
    }

    public var code: Code
    /// The path as the caller gave it.
    public var path: String
    public var message: String

    public init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { message }

    static func outside(_ path: String) -> WorkspaceError {
        WorkspaceError(.outsideWorkspace, path: path, "path \(path) resolves outside the workspace")
    }
}
