import Foundation
import Glibc

/// Reading and writing the files the tools work on, with errors worded for the model. Paths
/// are already resolved by `Workspace`, so the final component is never a symlink; reads and
/// writes open it with O_NOFOLLOW all the same, so a link swapped in since then is refused.
enum FileAccess {
    /// Bytes inspected for a NUL when deciding whether a file is binary.
    static let binaryProbeSize = 8192

    static func kind(of path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }

    static func isDirectory(_ path: String) -> Bool { kind(of: path) == S_IFDIR }

    /// Whole file contents; `display` is the path as the model gave it.
    static func read(_ path: String, display: String, maxBytes: Int) throws -> Data {
        guard let kind = kind(of: path) else { throw ToolFailure("File does not exist: \(display)") }
        if kind == S_IFDIR {
            throw ToolFailure("\(display) is a directory, not a file; use Glob or Bash `ls` to list it")
        }
        guard kind == S_IFREG else { throw ToolFailure("\(display) is not a regular file") }
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open \(display)", errno) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var info = stat()
        if fstat(descriptor, &info) == 0, Int(info.st_size) > maxBytes {
            throw ToolFailure(
                "\(display) is too large to read whole (\(info.st_size) bytes; the limit is \(maxBytes)); "
                    + "use Grep or Bash (head, tail, sed -n) to look at parts of it")
        }
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw ToolFailure("cannot read \(display): \(error.localizedDescription)")
        }
    }

    /// Replaces (or creates, mode 0644) the file at `path`.
    static func write(_ data: Data, to path: String, display: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot write \(display)", errno) }
        defer { close(descriptor) }
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("cannot write \(display)", errno)
                }
                offset += written
            }
        }
    }

    /// Creates the missing directories above `path` (already known to be inside the workspace).
    static func createParentDirectories(of path: String, display: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty, !isDirectory(parent) else { return }
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw ToolFailure("cannot create the directories for \(display): \(error.localizedDescription)")
        }
    }

    /// A file is binary when its first bytes hold a NUL, as git and grep decide.
    static func isBinary(_ data: Data) -> Bool {
        data.prefix(binaryProbeSize).contains(0)
    }

    private static func failure(_ what: String, _ code: Int32) -> ToolFailure {
        ToolFailure("\(what): \(String(cString: strerror(code)))")
    }
}
