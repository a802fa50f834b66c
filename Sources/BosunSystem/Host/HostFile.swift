import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads the small text files under /proc, /sys and /etc that host facts come from.
///
/// procfs and sysfs report a size of 0 for most files, so anything that sizes a buffer from
/// `stat` first (as `String(contentsOfFile:)` may) can come back empty; read to EOF instead.
enum HostFile {
    /// The whole file as UTF-8, or nil when it cannot be opened or read (absent controller,
    /// kernel without PSI, a permission denied inside a container).
    static func read(_ path: String, limit: Int = 1 << 20) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: chunk[0..<count])
            } else if count == 0 {
                break
            } else if errno != EINTR {
                // Some pseudo-files open fine but fail on read (PSI with psi=0 gives EOPNOTSUPP).
                return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first line, trimmed: most cgroup and sysfs files hold a single value.
    static func readValue(_ path: String) -> String? {
        guard let text = read(path, limit: 4096) else { return nil }
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let value = line.trimmingCharacters(in: .whitespaces)
        return value.isEmpty ? nil : value
    }
}
