import Foundation
import Glibc

/// Walks a directory tree for Glob and Grep without ever leaving it: symlinks are reported but
/// never followed (a link to `/` would walk the machine, one outside the workspace would leak
/// its contents), and `.git` directories are skipped.
enum FileTree {
    struct Entry: Sendable {
        /// Absolute path (below an already resolved directory, so without symlinks).
        var path: String
        /// Path relative to the walk's start directory.
        var relativePath: String
        var isSymlink: Bool
        var size: Int
        /// Modification time in nanoseconds since the epoch (the link's own, for symlinks).
        var modified: Int64
    }

    static let skippedDirectories: Set<String> = [".git"]

    /// Calls `visit` for every regular file and symlink below `directory` (itself resolved),
    /// depth first, names sorted; `visit` returns false to stop the walk.
    static func walk(
        _ directory: String, cancellation: BlockingIO.Cancellation, _ visit: (Entry) throws -> Bool
    ) throws {
        var stack: [(absolute: String, relative: String)] = [(directory, "")]
        while let (absolute, relative) = stack.popLast() {
            try cancellation.check()
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: absolute) else { continue }
            var subdirectories: [(String, String)] = []
            for name in names.sorted() {
                let path = absolute == "/" ? "/" + name : absolute + "/" + name
                let relativePath = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    if !skippedDirectories.contains(name) { subdirectories.append((path, relativePath)) }
                case S_IFREG, S_IFLNK:
                    let entry = Entry(
                        path: path, relativePath: relativePath, isSymlink: info.st_mode & S_IFMT == S_IFLNK,
                        size: Int(info.st_size),
                        modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
                    guard try visit(entry) else { return }
                default:
                    continue
                }
            }
            // Reversed so the stack pops them in name order.
            stack.append(contentsOf: subdirectories.reversed())
        }
    }
}
