import Hummingbird
import Logging
import ServiceLifecycle

/// A fake model provider on real HTTP: it speaks OpenAI chat completions
/// (`POST /v1/chat/completions`) and Anthropic Messages (`POST /v1/messages`), streaming and
/// not, and answers from a `ScriptedLLMScript` (or, without one, with a fixed text).
///
/// The HTTP server runs in a ServiceGroup of its own; `stop()` shuts it down gracefully.
public final class ScriptedLLMServer: Sendable {
    public let host: String
    /// The bound port (the real one when started on port 0).
    public let port: Int
    let state: ScriptState
    let group: ServiceGroup
    let task: Task<Void, any Error>

    /// `http://host:port`, the base URL for both formats.
    public var url: String { "http://\(host):\(port)" }

    /// Starts a server and returns once it listens.
    /// - Parameters:
    ///   - script: the replies; nil answers every request with a fixed text.
    ///   - requireKey: when set, requests must present this key (`Authorization: Bearer K` or
    ///     `x-api-key: K`) or get 401.
    ///   - stopOnSignals: shut down gracefully on SIGINT and SIGTERM (for the command line).
    public static func start(
        host: String = "127.0.0.1", port: Int = 0, script: ScriptedLLMScript?, requireKey: String? = nil,
        stopOnSignals: Bool = false, logger: Logger
    ) async throws -> ScriptedLLMServer {
        let state = ScriptState(script: script)
        let router = Router()
        LLMRoutes(state: state, requireKey: requireKey, logger: logger).register(on: router)
        ScriptControlRoutes(state: state).register(on: router)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "bosun-scripted-llm"),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? port) },
            logger: logger)
        var configuration = ServiceGroupConfiguration(
            services: [app], gracefulShutdownSignals: stopOnSignals ? [.sigterm, .sigint] : [], logger: logger)
        // A reply still streaming after this long is cut off.
        configuration.maximumGracefulShutdownDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        let task = Task {
            // A server that cannot start (a taken port) ends the port stream, so start() throws.
            defer { portContinuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            do {
                try await task.value
            } catch {
                throw ScriptedLLMServerError(description: "the scripted LLM server did not start on \(host):\(port): \(error)")
            }
            throw ScriptedLLMServerError(description: "the scripted LLM server did not start on \(host):\(port)")
        }
        return ScriptedLLMServer(host: host, port: bound, state: state, group: group, task: task)
    }

    init(host: String, port: Int, state: ScriptState, group: ServiceGroup, task: Task<Void, any Error>) {
        self.host = host
        self.port = port
        self.state = state
        self.group = group
        self.task = task
    }

    /// The requests received since the start or the last reset, oldest first.
    public func requests() async -> [ScriptedLLMRequest] { await state.requests() }

    /// Clears the request log and restores every entry's uses.
    public func reset() async { await state.reset() }

    /// Plays another script from its start (nil: the fixed reply for every request).
    public func replace(script: ScriptedLLMScript?) async { await state.replace(script: script) }

    /// Shuts the server down gracefully and waits until it has.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// Waits until the server has stopped (by `stop()` or, with `stopOnSignals`, a signal).
    public func waitUntilStopped() async throws {
        try await task.value
    }
}

public struct ScriptedLLMServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
