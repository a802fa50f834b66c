import Foundation

/// A path specifier of a file rule; see `PermissionRule`.
struct PathPattern: Sendable {
    enum Base: Sendable {
        case workspace
        case absolute
    }

    let base: Base
    let glob: GlobPattern

    init(_ specifier: String) throws(GlobPatternError) {
        var text = specifier
        if text.hasPrefix("//") {
            base = .absolute
            text = "/" + text.dropFirst(2)
        } else if text.hasPrefix("~/") {
            base = .absolute
            let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
            text = Workspace.normalised(home) + "/" + text.dropFirst(2)
        } else {
            base = .workspace
            if text.hasPrefix("./") { text = "/" + text.dropFirst(2) }
        }
        do {
            glob = try GlobPattern(gitignore: text)
        } catch let error as GlobPatternError {
            throw error
        } catch {
            throw GlobPatternError(pattern: specifier, reason: "\(error)")
        }
    }

    /// `physicalPath` is absolute and symlink-free (`Workspace.physicalPath`).
    func matches(_ physicalPath: String, in workspace: Workspace) -> Bool {
        switch base {
        case .absolute:
            // An absolute pattern is anchored at `/`: compare without the leading slash.
            return glob.matches(String(physicalPath.dropFirst()))
        case .workspace:
            guard let relative = workspace.relativePath(of: physicalPath) else { return false }
            if relative == "." { return glob.matches("") }
            return glob.matches(relative)
        }
    }
}
