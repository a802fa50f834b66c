import Foundation
import Glibc

/// GNU extensions of glibc that Swift's Glibc module does not import (they sit behind
/// `_GNU_SOURCE`), looked up at run time so the target needs no C shim.
///
/// Each is optional because a libc without it (glibc < 2.29 for `addchdir_np`, < 2.34 for
/// `addclosefrom_np`, musl) must degrade to a clear error or a documented weaker guarantee,
/// never to a crash.
enum GNULibc {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// `pipe2(2)`: creating both ends close-on-exec atomically is what keeps a pipe of one
    /// task from leaking into a child another task spawns at the same moment.
    static let pipe2: Pipe2? = symbol("pipe2", as: Pipe2.self)

    /// `posix_spawn_file_actions_addchdir_np(3)`: the only way to give a spawned child its own
    /// working directory without `chdir` in the parent, which would race with every other
    /// thread of the worker.
    static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np", as: AddChdir.self)

    /// `posix_spawn_file_actions_addclosefrom_np(3)`: closes every descriptor >= n in the child,
    /// so a descriptor some library opened without O_CLOEXEC cannot reach a task process.
    static let addClosefrom: AddClosefrom? = symbol("posix_spawn_file_actions_addclosefrom_np", as: AddClosefrom.self)

    private static func symbol<F>(_ name: String, as type: F.Type) -> F? {
        // A null file name gives the handle of the running program, which sees libc's symbols.
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: type)
    }

    /// `strerror` text for an errno value, e.g. "No such file or directory".
    static func describe(errno code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// Creates a pipe with the given extra flags (O_CLOEXEC is always added).
    /// Returns (read end, write end).
    static func makePipe(flags: Int32 = 0) throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard let pipe2 else {
            throw SpawnError(.unsupported, "pipe2 is not available in this libc")
        }
        let result = fds.withUnsafeMutableBufferPointer { pipe2($0.baseAddress!, O_CLOEXEC | flags) }
        guard result == 0 else {
            throw SpawnError(.systemCall, "pipe2", errno: errno)
        }
        return (fds[0], fds[1])
    }
}
