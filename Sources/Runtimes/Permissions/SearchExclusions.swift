/// Files that Glob and Grep leave out of directory-wide searches because a deny or ask rule
/// scopes reading them (`Read(.env)`, `Read(secrets/**)`): the permission check of a Grep call
/// sees only its `path` (the workspace root, typically), so without this a search over the root
/// would show the contents of a file that Read may not open. Built from a policy with
/// `PermissionPolicy.searchExclusions` and handed to the tools in `ToolContext`.
public struct SearchExclusions: Sendable {
    let rules: [PermissionRule]

    public static let none = SearchExclusions(rules: [])

    init(rules: [PermissionRule]) {
        self.rules = rules.filter {
            if case .path = $0.matcher { return true }
            return false
        }
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// Whether `tool` (Glob or Grep) must skip the file at `physicalPath`.
    public func excludes(_ physicalPath: String, tool: String, in workspace: Workspace) -> Bool {
        rules.contains { rule in
            guard rule.covers(tool: tool), case .path(let pattern) = rule.matcher else { return false }
            return pattern.matches(physicalPath, in: workspace)
        }
    }
}

extension PermissionPolicy {
    /// The deny and ask rules that scope reading, for `ToolContext.searchExclusions`.
    public var searchExclusions: SearchExclusions {
        SearchExclusions(rules: deny + ask)
    }
}
