/// A profile that cannot be used. Names the file and the field so an operator can fix it; a bad
/// profile is always an error, never a silent fallback to a weaker sandbox.
public struct SandboxProfileError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }
        public static let unknownProfile = Code(raw: "unknown_profile")
        public static let unreadable = Code(raw: "unreadable")
        public static let malformed = Code(raw: "malformed")
        public static let invalidField = Code(raw: "invalid_field")
        public static let unknownField = Code(raw: "unknown_field")
        public static let compileFailed = Code(raw: "compile_failed")
    }

    public var code: Code
    /// The profile file (or the profile name when there is no file).
    public var file: String
    /// A JSON path such as `syscalls[3].names[1]`; empty for the whole file.
    public var field: String
    public var message: String

    public init(_ code: Code, file: String, field: String = "", _ message: String) {
        self.code = code
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "sandbox profile \(file): \(message)" : "sandbox profile \(file): \(field): \(message)"
    }
}
