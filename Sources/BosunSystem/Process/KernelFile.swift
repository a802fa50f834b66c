import Glibc

/// Reads and writes the pseudo-files of /proc and cgroupfs.
///
/// These files report a size of 0, so readers that size a buffer from `stat` can come back
/// empty; and a cgroup write's errno is its answer (EBUSY, EOPNOTSUPP, EINVAL), which
/// Foundation's file APIs do not surface. Hence plain open/read/write.
enum KernelFile {
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
                return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
