import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `statvfs` on the work directory, bounded by a timeout.
///
/// On a network or FUSE mount whose server went away, `statvfs` blocks in the kernel and no
/// signal wakes it; the heartbeat must not block with it. The call runs on a serial queue of
/// its own: while one is stuck, later samples skip the disk instead of piling up more stuck
/// threads behind it.
final class DiskStatistics: @unchecked Sendable {
    private let timeout: Duration
    private let queue = DispatchQueue(label: "bosun.system.statvfs")
    private let lock = NSLock()
    private var inFlight = false  // guarded by lock
    private var result: SystemSnapshot.Disk?  // guarded by lock

    init(timeout: Duration) {
        self.timeout = timeout
    }

    /// nil when the path cannot be examined or the file system did not answer in time.
    func measure(path: String) -> SystemSnapshot.Disk? {
        let started: Bool = lock.withLock {
            guard !inFlight else { return false }
            inFlight = true
            result = nil
            return true
        }
        guard started else { return nil }

        let done = DispatchSemaphore(value: 0)
        queue.async {
            let disk = Self.statistics(path: path)
            self.lock.withLock {
                self.result = disk
                self.inFlight = false
            }
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout.dispatchInterval) == .success else { return nil }
        return lock.withLock { result }
    }

    /// Blocking; call through `measure(path:)` unless the path is known to be local.
    static func statistics(path: String) -> SystemSnapshot.Disk? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        // f_frsize is the unit the block counts are in; f_bsize is only the preferred I/O size.
        let unit = UInt64(stats.f_frsize != 0 ? stats.f_frsize : stats.f_bsize)
        return SystemSnapshot.Disk(
            path: path,
            totalBytes: UInt64(stats.f_blocks) * unit,
            availableBytes: UInt64(stats.f_bavail) * unit,
            freeBytes: UInt64(stats.f_bfree) * unit
        )
    }
}
