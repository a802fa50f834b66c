import NIOCore
import NIOPosix
import Synchronization

/// Where the control API's async code runs: on NIO's event loops (`nio`, the default) or on
/// Swift's own concurrency pool (`swift`), set by `BOSUN_CONCURRENCY_EXECUTOR`.
///
/// Why the event loops: every request otherwise hops between threads four times (the HTTP
/// event loop hands it to the pool, the pool hands each query to PostgreSQL's event loop and
/// back, and the reply goes back to the HTTP event loop); on a small host a third of the
/// control API's CPU went to switching threads. With NIO's loops as the global executor most
/// of those hops stay on one thread (measured in docs/ARCHITECTURE.md, "Dispatch").
/// The cost is the usual one: nothing may block. The control API never calls `wait()` on a
/// future, Redis has its own serial queue and log lines are short writes. `swift` is there for
/// when a deployment finds otherwise.
public enum ConcurrencyExecutor: String, Sendable {
    case eventLoops = "nio"
    case swift

    public static let setting = "BOSUN_CONCURRENCY_EXECUTOR"

    public static func fromEnvironment(_ environment: [String: String]) throws -> ConcurrencyExecutor {
        guard let text = environment[setting], !text.isEmpty else { return .eventLoops }
        guard let choice = ConcurrencyExecutor(rawValue: text) else {
            throw ConfigurationError("\(setting) must be 'nio' or 'swift', got '\(text)'")
        }
        return choice
    }

    /// Installs the choice; call it first thing in `main`, before any other async work.
    /// Returns the executor in effect (NIO refuses the takeover if another one was installed).
    @discardableResult
    public func install() -> ConcurrencyExecutor {
        let inEffect: ConcurrencyExecutor =
            self == .eventLoops
            && NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
            ? .eventLoops : .swift
        Self.installed.withLock { $0 = inEffect }
        return inEffect
    }

    /// The executor this process runs on (for the start-up log line).
    public static var inEffect: ConcurrencyExecutor { installed.withLock { $0 } }

    private static let installed = Mutex<ConcurrencyExecutor>(.swift)
}
