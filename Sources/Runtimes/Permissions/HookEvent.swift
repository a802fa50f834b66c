/// The hook events Bosun runs.
public enum HookEvent: String, Sendable, Codable, CaseIterable {
    case preToolUse = "PreToolUse"
    case postToolUse = "PostToolUse"
}
