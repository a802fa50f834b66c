/// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and
/// Jitter"): many workers retrying after the same outage spread out instead of arriving together.
enum Backoff {
    static func delay(attempt: Int, base: Duration = .milliseconds(500), cap: Duration = .seconds(30)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 20)
        let ceiling = min(base * (1 << exponent), cap)
        let milliseconds = max(Int64(ceiling / .milliseconds(1)), 1)
        return .milliseconds(Int64.random(in: (milliseconds / 2)...milliseconds))
    }
}
