import BosunSystem

extension ChildProcess {
    /// The child's output, stopping its whole process group when `limit` passes or when the
    /// calling task is cancelled. Returns once the leader is reaped and its output collected.
    func output(within limit: Duration, killGrace: Duration) async -> BoundedOutput {
        enum Event: Sendable {
            case finished(ChildOutput)
            case deadline
            case cancelled
        }
        return await withTaskGroup(of: Event.self) { group in
            group.addTask { .finished(await self.output()) }
            group.addTask {
                do {
                    try await Task.sleep(for: limit)
                    return .deadline
                } catch {
                    return .cancelled
                }
            }
            var ending = BoundedOutput.Ending.exited
            while let event = await group.next() {
                switch event {
                case .finished(let output):
                    group.cancelAll()
                    return BoundedOutput(output: output, ending: ending)
                case .deadline:
                    ending = .timedOut
                    await terminateGroup(grace: killGrace)
                case .cancelled:
                    // Only the caller's cancellation gets here while the child runs (the timer
                    // is cancelled by `cancelAll` only after the output arrived).
                    if ending == .exited { ending = .cancelled }
                    await terminateGroup(grace: .zero)
                }
            }
            // Unreachable: the output task always finishes.
            return BoundedOutput(output: await output(), ending: ending)
        }
    }
}
