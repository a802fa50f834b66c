import Foundation
import Synchronization

/// Runs blocking file-system work (walking a tree, reading and writing files) on a thread of
/// its own, so the cooperative pool (two threads on a two-core worker) is never held by disk
/// I/O. The work sees the caller's cancellation through `BlockingIO.Cancellation` and should
/// check it in its loops.
enum BlockingIO {
    final class Cancellation: Sendable {
        private let flag = Mutex(false)
        var isCancelled: Bool { flag.withLock { $0 } }
        func cancel() { flag.withLock { $0 = true } }

        func check() throws {
            if isCancelled { throw CancellationError() }
        }
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable (Cancellation) throws -> T) async throws -> T {
        let cancellation = Cancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let thread = Thread {
                    continuation.resume(with: Result { try body(cancellation) })
                }
                thread.name = "bosun-tool-io"
                thread.start()
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}
