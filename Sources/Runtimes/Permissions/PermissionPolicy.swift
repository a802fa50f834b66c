import BosunProtocol

/// Decides whether a tool call may run, in Claude Code's order:
///
/// 1. deny rules: any match denies, in every mode (also `bypassPermissions`);
/// 2. ask rules: any match asks (in `dontAsk` mode, where nothing is asked, it denies);
/// 3. the mode: read-only tools are allowed in every mode; `bypassPermissions` allows the
///    rest; `plan` denies every other tool; `acceptEdits` allows file edits inside the
///    workspace;
/// 4. allow rules;
/// 5. the fallback: `dontAsk` denies, every other mode asks.
///
/// A Bash command is split into its simple commands (`ShellCommand`): a deny or ask rule hits
/// when it matches ANY of them, an allow rule only counts when EVERY one of them is matched by
/// some allow rule, so `git status && rm -rf x` is not allowed by `Bash(git *)`.
///
/// When a call's arguments do not say what it touches (no `command`, a path that cannot be
/// resolved), scoped deny and ask rules match it and scoped allow rules do not: fail closed.
/// PreToolUse hooks run before this (`HookRunner`).
public struct PermissionPolicy: Sendable {
    public var mode: PermissionMode
    public var allow: [PermissionRule]
    public var ask: [PermissionRule]
    public var deny: [PermissionRule]

    public init(mode: PermissionMode = .default, allow: [String] = [], ask: [String] = [], deny: [String] = []) throws {
        self.mode = mode
        self.allow = try allow.map { try PermissionRule($0) }
        self.ask = try ask.map { try PermissionRule($0) }
        self.deny = try deny.map { try PermissionRule($0) }
    }

    public init(mode: PermissionMode, allowRules: [PermissionRule], askRules: [PermissionRule], denyRules: [PermissionRule]) {
        self.mode = mode
        self.allow = allowRules
        self.ask = askRules
        self.deny = denyRules
    }

    public func evaluate(tool: String, isReadOnly: Bool, arguments: JSONValue, workspace: Workspace) -> PermissionDecision {
        let call = Call(tool: tool, arguments: arguments, workspace: workspace)

        if let rule = deny.first(where: { call.isCaught(by: $0) }) {
            return .deny("denied by rule \"\(rule)\"")
        }
        if let rule = ask.first(where: { call.isCaught(by: $0) }) {
            if mode == .dontAsk {
                return .deny("dontAsk mode: rule \"\(rule)\" requires approval, which this mode never asks for")
            }
            return .ask("rule \"\(rule)\" requires approval")
        }

        if isReadOnly { return .allow("\(tool) is read-only") }
        switch mode {
        case .bypassPermissions:
            return .allow("bypassPermissions mode")
        case .plan:
            return .deny("plan mode: no changes (\(tool) is not read-only)")
        case .acceptEdits:
            if PermissionRule.editingTools.contains(tool), let path = call.physicalPath, workspace.contains(path) {
                return .allow("acceptEdits mode: file edits inside the workspace are allowed")
            }
        case .default, .dontAsk:
            break
        }

        if let rules = call.allowingRules(allow) {
            let names = rules.map { "\"\($0)\"" }
            return .allow((names.count == 1 ? "allowed by rule " : "allowed by rules ") + names.joined(separator: ", "))
        }
        if mode == .dontAsk {
            return .deny("dontAsk mode: no allow rule matches this \(tool) call")
        }
        return .ask("no allow rule matches this \(tool) call; approval required")
    }

    /// One call as the rules see it: its simple commands (Bash) or its resolved path (file tools).
    struct Call {
        let tool: String
        let workspace: Workspace
        /// nil when the call is not Bash or has no command.
        let subcommands: [String]?
        /// The path the call touches, absolute and symlink-free; nil when unknown.
        let physicalPath: String?

        init(tool: String, arguments: JSONValue, workspace: Workspace) {
            self.tool = tool
            self.workspace = workspace
            if tool == "Bash", let command = arguments["command"]?.stringValue {
                let parts = ShellCommand.subcommands(command)
                subcommands = parts.isEmpty ? nil : parts
            } else {
                subcommands = nil
            }
            let pathArgument: String?
            switch tool {
            case "Glob", "Grep":
                let given = arguments["path"]?.stringValue ?? ""
                pathArgument = given.isEmpty ? workspace.realRoot : given
            case "NotebookEdit", "NotebookRead":
                pathArgument = arguments["notebook_path"]?.stringValue
            default:
                pathArgument = arguments["file_path"]?.stringValue
            }
            physicalPath = pathArgument.flatMap { try? workspace.physicalPath($0) }
        }

        /// For deny and ask rules: unknown subjects are caught (fail closed).
        func isCaught(by rule: PermissionRule) -> Bool {
            guard rule.covers(tool: tool) else { return false }
            switch rule.matcher {
            case .wholeTool, .mcpServer, .uninterpreted:
                return true
            case .bash(let pattern):
                guard tool == "Bash" else { return false }
                guard let subcommands else { return true }
                return subcommands.contains { subcommand in
                    ShellCommand.denyForms(of: subcommand).contains { pattern.matches($0) }
                }
            case .path(let pattern):
                guard let physicalPath else { return true }
                return pattern.matches(physicalPath, in: workspace)
            }
        }

        /// For allow rules: the rules that together allow the call, or nil. Unknown subjects
        /// are never allowed by a scoped rule.
        func allowingRules(_ rules: [PermissionRule]) -> [PermissionRule]? {
            let relevant = rules.filter { $0.covers(tool: tool) }
            if let whole = relevant.first(where: {
                if case .wholeTool = $0.matcher { return true }
                if case .mcpServer = $0.matcher { return true }
                return false
            }) {
                return [whole]
            }
            if tool == "Bash" {
                guard let subcommands else { return nil }
                var used: [PermissionRule] = []
                for subcommand in subcommands {
                    guard let rule = relevant.first(where: {
                        if case .bash(let pattern) = $0.matcher { return pattern.matches(subcommand) }
                        return false
                    }) else { return nil }
                    if !used.contains(rule) { used.append(rule) }
                }
                return used
            }
            guard let physicalPath else { return nil }
            return relevant.first(where: {
                if case .path(let pattern) = $0.matcher { return pattern.matches(physicalPath, in: workspace) }
                return false
            }).map { [$0] }
        }
    }
}
