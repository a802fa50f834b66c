import Dispatch
import Foundation

/// SIGTERM and SIGINT as events instead of process death: the first asks the worker to drain,
/// the next to abort (`WorkerDaemon.requestStop`). Dispatch sources run the handler on a queue,
/// outside signal context, so it may do anything.
public enum ShutdownSignals {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    public static func install(_ handler: @escaping @Sendable (String) -> Void) {
        for (signo, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler { handler(name) }
            source.resume()
            sources.append(source)
        }
    }
}
