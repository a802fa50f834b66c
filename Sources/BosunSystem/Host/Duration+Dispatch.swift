import Dispatch

extension Duration {
    /// Dispatch deadlines take whole nanoseconds; finer parts do not matter for timeouts.
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return .nanoseconds(0) }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow, scaled <= Int64(Int.max) - 1_000_000_000 else { return .never }
        return .nanoseconds(Int(scaled + attoseconds / 1_000_000_000))
    }
}
