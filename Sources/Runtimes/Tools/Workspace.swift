import Foundation
import Glibc

/// The execution's workspace directory: the only part of the file system the file tools touch.
///
/// `resolve` turns a path the model gave into the real path to operate on: relative paths are
/// taken from the root, `.` and `..` are normalised, and every symlink is followed (also a
/// dangling one: writing through it would create its target), so the answer is the physical
/// file the tool will open. That file must lie inside the root's real path, otherwise the call
/// fails with `WorkspaceError.outsideWorkspace`.
///
/// This check is the tools' own boundary, not a sandbox: a process (the Bash tool, a hook) that
/// swaps a directory for a symlink between the check and the open can still race it. The
/// sandbox issue's filesystem rules are the hard boundary.
public struct Workspace: Sendable, Equatable {
    /// The root as given.
    public let root: String
    /// The root with every symlink resolved; resolved paths start with it.
    public let realRoot: String

    static let maxSymlinks = 40

    /// Fails when `root` does not exist or is not a directory.
    public init(root: String) throws {
        guard let real = Self.realPath(root) else {
            throw WorkspaceError(.missingRoot, path: root, "workspace \(root) does not exist")
        }
        var info = stat()
        guard stat(real, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw WorkspaceError(.missingRoot, path: root, "workspace \(root) is not a directory")
        }
        self.root = root
        self.realRoot = real
    }

    /// The real path of `path` inside the workspace.
    ///
    /// - `forWriting: false`: the path must exist (`WorkspaceError.notFound` otherwise).
    /// - `forWriting: true`: the path may be missing (a file being created); the real path of its
    ///   nearest existing ancestor decides, and a dangling symlink is followed to its target.
    public func resolve(_ path: String, forWriting: Bool) throws -> String {
        let physical = try physicalPath(path)
        guard contains(physical) else { throw WorkspaceError.outside(path) }
        if !forWriting {
            var info = stat()
            guard stat(physical, &info) == 0 else {
                throw WorkspaceError(.notFound, path: path, "\(path) does not exist")
            }
        }
        return physical
    }

    /// Whether an already resolved absolute path is the root or below it.
    public func contains(_ physicalPath: String) -> Bool {
        physicalPath == realRoot || physicalPath.hasPrefix(realRoot == "/" ? "/" : realRoot + "/")
    }

    /// `physicalPath` relative to the root (`.` for the root itself); nil when outside.
    public func relativePath(of physicalPath: String) -> String? {
        guard contains(physicalPath) else { return nil }
        if physicalPath == realRoot { return "." }
        return String(physicalPath.dropFirst(realRoot == "/" ? 1 : realRoot.count + 1))
    }

    /// The path with `..` normalised and every symlink followed, without the containment check
    /// (the permission rules compare absolute rules against it). A missing tail is appended as is.
    public func physicalPath(_ path: String) throws -> String {
        guard !path.isEmpty else { throw WorkspaceError(.invalidPath, path: path, "the path is empty") }
        guard !path.contains("\0") else {
            throw WorkspaceError(.invalidPath, path: path, "the path \(path.debugDescription) contains a NUL byte")
        }
        let absolute = path.hasPrefix("/") ? path : realRoot + "/" + path
        // `..` is normalised before any symlink is followed, as the model reads the path; the
        // walk then follows symlinks (so a root given through a symlink resolves too).
        return try Self.follow(Self.components(of: Self.normalised(absolute)), originalPath: path)
    }

    /// Walks `components` from `/` the way the kernel does, following symlinks (dangling ones
    /// too), and stops following at the first component that does not exist: the rest is
    /// appended lexically.
    static func follow(_ components: [String], originalPath: String) throws -> String {
        var resolved: [String] = []
        var pending = ArraySlice(components)
        var symlinks = 0
        var missing = false
        while let component = pending.popFirst() {
            if component.isEmpty || component == "." { continue }
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                continue
            }
            if missing {
                resolved.append(component)
                continue
            }
            let candidate = "/" + (resolved + [component]).joined(separator: "/")
            var info = stat()
            guard lstat(candidate, &info) == 0 else {
                // ENOENT, ENOTDIR, EACCES: nothing to follow from here on; the tool's own open
                // reports the precise error.
                missing = true
                resolved.append(component)
                continue
            }
            guard info.st_mode & S_IFMT == S_IFLNK else {
                resolved.append(component)
                continue
            }
            symlinks += 1
            guard symlinks <= maxSymlinks else {
                throw WorkspaceError(
                    .symlinkLoop, path: originalPath, "path \(originalPath) has too many levels of symbolic links")
            }
            guard let target = readLink(candidate) else {
                missing = true
                resolved.append(component)
                continue
            }
            if target.hasPrefix("/") { resolved = [] }
            pending = ArraySlice(Self.components(of: target)) + pending
        }
        return "/" + resolved.joined(separator: "/")
    }

    /// Absolute `path` with `.`, `..` and repeated or trailing slashes removed, without looking
    /// at the file system.
    static func normalised(_ path: String) -> String {
        var result: [String] = []
        for component in components(of: path) {
            switch component {
            case "", ".": continue
            case "..": if !result.isEmpty { result.removeLast() }
            default: result.append(component)
            }
        }
        return "/" + result.joined(separator: "/")
    }

    static func components(of path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func realPath(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
