/// The directory a Glob or Grep call searches: `path` resolved inside the workspace (the root
/// when absent), which must exist.
struct SearchDirectory {
    var path: String
    var isDirectory: Bool

    static func resolve(_ argument: String?, in workspace: Workspace) throws -> SearchDirectory {
        guard let argument, !argument.isEmpty else { return SearchDirectory(path: workspace.realRoot, isDirectory: true) }
        let path: String
        do {
            path = try workspace.resolve(argument, forWriting: false)
        } catch let error as WorkspaceError where error.code == .notFound {
            throw ToolFailure("Path does not exist: \(argument)")
        }
        return SearchDirectory(path: path, isDirectory: FileAccess.isDirectory(path))
    }
}
