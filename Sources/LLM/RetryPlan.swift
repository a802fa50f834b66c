/// Decides what the gateway does after a retryable failure: retry the same model after a
/// delay, move on to the next fallback model, or give up.
///
/// A plain value with no clock and no randomness of its own (the jitter is passed in), so
/// the policy is tested without sleeping.
struct RetryPlan: Sendable {
    enum Next: Equatable, Sendable {
        case retry(after: Duration)
        case fallback(to: String)
        case giveUp
    }

    /// The primary model, then the fallbacks in order.
    let models: [String]
    let maxRetries: Int
    let baseDelay: Duration
    let maxDelay: Duration

    private(set) var modelIndex = 0
    private(set) var retriesOnModel = 0
    /// HTTP attempts made so far, across models.
    private(set) var attempts = 0

    init(model: String, fallbacks: [String], maxRetries: Int, baseDelay: Duration, maxDelay: Duration) {
        // A fallback equal to a model already tried would only repeat its failures.
        var models = [model]
        for fallback in fallbacks where !models.contains(fallback) { models.append(fallback) }
        self.models = models
        self.maxRetries = max(maxRetries, 0)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    var model: String { models[modelIndex] }

    mutating func attemptStarted() {
        attempts += 1
    }

    /// After a retryable failure. `retryAfter` is the server's own wait (honoured, but never
    /// longer than `maxDelay`); `jitter` is a random number in 0...1.
    mutating func next(retryAfter: Duration?, jitter: Double = Double.random(in: 0...1)) -> Next {
        if retriesOnModel < maxRetries {
            let delay = retryAfter.map { min($0, maxDelay) } ?? backoff(retry: retriesOnModel, jitter: jitter)
            retriesOnModel += 1
            return .retry(after: delay)
        }
        if modelIndex + 1 < models.count {
            modelIndex += 1
            retriesOnModel = 0
            return .fallback(to: model)
        }
        return .giveUp
    }

    /// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and
    /// Jitter"): `random(0, min(max, base * 2^retry))`. Full jitter spreads the workers that
    /// hit the same rate limit at the same moment instead of sending them back together.
    func backoff(retry: Int, jitter: Double) -> Duration {
        let ceiling = min(baseDelay * (1 << min(retry, 30)), maxDelay)
        return ceiling * min(max(jitter, 0), 1)
    }
}
