/// Claude Code's permission modes; the raw values are its spellings (`--permission-mode`,
/// `permissions.defaultMode`).
public enum PermissionMode: String, Sendable, Codable, CaseIterable {
    /// Read-only tools run; everything else needs an allow rule, or is asked.
    case `default`
    /// Like `default`, and file edits inside the workspace (Edit, Write) are allowed too.
    case acceptEdits
    /// Analysis only: read-only tools run, every other tool is denied.
    case plan
    /// Everything runs, except what a deny rule (or an ask rule) catches.
    case bypassPermissions
    /// Like `default`, but nothing is ever asked: what no allow rule allows is denied.
    case dontAsk
}
