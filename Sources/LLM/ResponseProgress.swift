import Synchronization

/// What one HTTP attempt has received so far, shared between the task reading the body and
/// the watchdog that ends it when the body goes silent.
final class ResponseProgress: Sendable {
    private struct State {
        var lastActivity: ContinuousClock.Instant
        var firstDeltaAt: ContinuousClock.Instant?
        var deliveredDeltas = false
    }

    private let state: Mutex<State>

    init() {
        state = Mutex(State(lastActivity: .now))
    }

    /// Bytes arrived (an SSE `ping` or comment counts: the peer is alive).
    func touch() {
        state.withLock { $0.lastActivity = .now }
    }

    /// A text or tool-call delta was decoded; `delivered` when it was handed to the caller.
    func sawDelta(delivered: Bool) {
        state.withLock { state in
            if state.firstDeltaAt == nil { state.firstDeltaAt = .now }
            if delivered { state.deliveredDeltas = true }
        }
    }

    var firstDeltaAt: ContinuousClock.Instant? { state.withLock { $0.firstDeltaAt } }

    /// Once the caller has seen output, a retry would show it again.
    var deliveredDeltas: Bool { state.withLock { $0.deliveredDeltas } }

    /// Runs `body`, throwing `LLMError.timeout` when no bytes arrive for `timeout`. The body
    /// is cancelled then, which makes AsyncHTTPClient close the connection.
    func withIdleTimeout<T: Sendable>(
        _ timeout: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await self.watch(timeout)
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw CancellationError()  // Unreachable: the watchdog only ends by throwing.
        }
    }

    private func watch(_ timeout: Duration) async throws {
        while true {
            let deadline = state.withLock { $0.lastActivity } + timeout
            if ContinuousClock.now >= deadline {
                throw LLMError(.timeout, "the response went silent for \(timeout) (the request timeout)")
            }
            try await Task.sleep(until: deadline, clock: .continuous)
        }
    }
}
