import ArgumentParser
import BosunControl
import Logging

/// `bosun-control` run inside a benchmark's own process, on a free loopback port: the
/// benchmarks measure the real HTTP API without a second process to start and find.
struct InProcessControl {
    let server: ControlServer
    let baseURL: String
    private let task: Task<Void, any Error>

    static func start(configuration: ControlConfiguration, logger: Logger) async throws -> InProcessControl {
        let server = try await ControlServer(configuration: configuration, logger: logger)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = server.makeApplication { portContinuation.yield($0) }
        let task = Task {
            // A server that fails to start ends the port stream, so start() does not wait for ever.
            defer { portContinuation.finish() }
            try await app.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            task.cancel()
            throw ValidationError("the control API did not start")
        }
        return InProcessControl(server: server, baseURL: "http://127.0.0.1:\(port)", task: task)
    }

    /// Torn down by cancellation; the benchmarks are over by then.
    func stop() { task.cancel() }
}
