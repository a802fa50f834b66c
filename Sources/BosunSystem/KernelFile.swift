import Foundation
import Glibc

/// Reads and writes the pseudo-files of /proc, /sys and cgroupfs (and small files under /etc).
///
/// These files report a size of 0, so readers that size a buffer from `stat` (as
/// `String(contentsOfFile:)` may) can come back empty; and a cgroup write's errno is its answer
/// (EBUSY, EOPNOTSUPP, EINVAL), which Foundation's file APIs do not surface. Hence plain
/// open/read/write.
enum KernelFile {
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

    /// Writes `text` in one write(2), as cgroupfs expects one value per write.
    /// Returns 0 on success, otherwise the errno of the failing call.
    static func write(_ text: String, to path: String) -> Int32 {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        while true {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written == bytes.count { return 0 }
            if written >= 0 { return EIO }
            if errno != EINTR { return errno }
        }
    }
}
