import BosunProtocol
import Foundation

/// One permission rule as Claude Code writes them: `Tool` or `Tool(specifier)`.
///
/// - A bare name matches every call of the tool (`Bash`, `WebFetch`). `Edit` stands for every
///   file-editing tool (Edit, Write, MultiEdit, NotebookEdit) and `Read` for every file-reading
///   one (Read, Glob, Grep, NotebookRead).
/// - `Bash(pattern)`: a command pattern where `*` matches any characters (`Bash(git *)`,
///   `Bash(npm run test)` exactly); a trailing ` *` also matches the bare command (`git *`
///   matches `git`); the legacy `Bash(git:*)` is the prefix `git` (a whole word). Compound
///   commands are split first (see `PermissionPolicy`).
/// - `Edit(glob)`, `Write(glob)`, `Read(glob)`, `Glob(glob)`, `Grep(glob)`: gitignore-style
///   globs on the resolved path (`file_path`; `path` for Glob and Grep, default the workspace
///   root): `src/**` and `*.env` are relative to the workspace root (a name without `/` matches
///   at any depth), `/x` is anchored at the workspace root, `//x` is the absolute path `/x`,
///   `~/x` is below the home directory. A pattern matching a directory covers what is inside.
/// - `mcp__server` matches every tool of that MCP server (so does `mcp__server__*`);
///   `mcp__server__tool` one tool.
/// - `Tool(*)` is the same as `Tool`. A specifier this engine cannot interpret (another tool's,
///   such as `WebFetch(domain:x)`) makes the rule fail closed: as a deny or ask rule it catches
///   every call of that tool, as an allow rule none.
public struct PermissionRule: Sendable, Equatable, CustomStringConvertible {
    public let toolName: String
    public let specifier: String?
    let matcher: Matcher

    enum Matcher: Sendable {
        case wholeTool
        case mcpServer(prefix: String)
        case bash(BashPattern)
        case path(PathPattern)
        case uninterpreted
    }

    public static let editingTools: Set<String> = ["Edit", "Write", "MultiEdit", "NotebookEdit"]
    public static let readingTools: Set<String> = ["Read", "Glob", "Grep", "NotebookRead"]

    public init(_ text: String) throws(PermissionRuleError) {
        let rule = text.trimmingCharacters(in: .whitespaces)
        guard !rule.isEmpty else { throw PermissionRuleError(rule: text, reason: "the rule is empty") }
        let name: String
        var specifier: String?
        if let open = rule.firstIndex(of: "(") {
            guard rule.hasSuffix(")") else {
                throw PermissionRuleError(rule: text, reason: "missing closing \")\" at the end")
            }
            name = String(rule[..<open])
            let inner = String(rule[rule.index(after: open)..<rule.index(before: rule.endIndex)])
            guard !inner.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw PermissionRuleError(rule: text, reason: "the specifier in parentheses is empty")
            }
            specifier = inner
        } else {
            guard !rule.contains(")") else { throw PermissionRuleError(rule: text, reason: "unbalanced \")\"") }
            name = rule
        }
        guard !name.isEmpty,
              name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" })
                || (name.hasPrefix("mcp__") && name.hasSuffix("__*"))
        else {
            throw PermissionRuleError(
                rule: text, reason: "\"\(name)\" is not a tool name (letters, digits, _ and - only)")
        }
        if specifier?.trimmingCharacters(in: .whitespaces) == "*" { specifier = nil }
        toolName = name
        self.specifier = specifier

        if name.hasPrefix("mcp__") {
            guard specifier == nil else {
                throw PermissionRuleError(rule: text, reason: "MCP tool rules take no specifier")
            }
            let parts = name.dropFirst("mcp__".count).components(separatedBy: "__")
            if parts.count == 1 || (parts.count == 2 && parts[1] == "*") {
                guard !parts[0].isEmpty else { throw PermissionRuleError(rule: text, reason: "the MCP server name is empty") }
                matcher = .mcpServer(prefix: "mcp__" + parts[0] + "__")
            } else {
                matcher = .wholeTool
            }
            return
        }
        guard let specifier else {
            matcher = .wholeTool
            return
        }
        switch name {
        case "Bash":
            matcher = .bash(BashPattern(specifier))
        case "Edit", "Write", "Read", "Glob", "Grep", "MultiEdit", "NotebookEdit", "NotebookRead":
            do {
                matcher = .path(try PathPattern(specifier))
            } catch {
                throw PermissionRuleError(rule: text, reason: error.description)
            }
        default:
            matcher = .uninterpreted
        }
    }

    public var description: String {
        specifier.map { "\(toolName)(\($0))" } ?? toolName
    }

    public static func == (lhs: PermissionRule, rhs: PermissionRule) -> Bool {
        lhs.description == rhs.description
    }

    /// Whether the rule is about `tool` at all (before its specifier is looked at).
    func covers(tool: String) -> Bool {
        if case .mcpServer(let prefix) = matcher { return tool.hasPrefix(prefix) }
        if tool == toolName { return true }
        switch toolName {
        case "Edit": return Self.editingTools.contains(tool)
        case "Read": return Self.readingTools.contains(tool)
        default: return false
        }
    }
}
