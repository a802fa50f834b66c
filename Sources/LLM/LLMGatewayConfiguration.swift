/// Where the LLM gateway (a LiteLLM proxy) is and how hard to try it.
public struct LLMGatewayConfiguration: Sendable, CustomStringConvertible {
    /// The gateway's root, e.g. `http://127.0.0.1:4000`; `/v1/chat/completions` and
    /// `/v1/messages` are appended. A trailing `/` or `/v1` is tolerated.
    public var baseURL: String
    public var apiKey: String?
    /// Bounds one HTTP attempt: the response head must arrive within it, and then the body
    /// must never go silent for longer (a stream may run for minutes while it keeps sending).
    public var requestTimeout: Duration
    /// Retries per model after the first attempt.
    public var maxRetries: Int
    public var retryBaseDelay: Duration
    /// Caps both the backoff and a server's `Retry-After`.
    public var retryMaxDelay: Duration
    /// Model ids tried in order once the primary model's retries ran out.
    public var fallbacks: [String]
    public var pricing: PricingTable

    public init(
        baseURL: String = "http://127.0.0.1:4000", apiKey: String? = nil, requestTimeout: Duration = .seconds(120),
        maxRetries: Int = 3, retryBaseDelay: Duration = .milliseconds(500), retryMaxDelay: Duration = .seconds(20),
        fallbacks: [String] = [], pricing: PricingTable = PricingTable()
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.requestTimeout = requestTimeout
        self.maxRetries = maxRetries
        self.retryBaseDelay = retryBaseDelay
        self.retryMaxDelay = retryMaxDelay
        self.fallbacks = fallbacks
        self.pricing = pricing
    }

    /// The full URL of an API path (`/v1/messages`).
    public func url(for path: String) -> String {
        var base = baseURL.trimmingWhitespace
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        return base + path
    }

    /// Safe to log: the API key is left out.
    public var description: String {
        "LLMGatewayConfiguration(baseURL: \(baseURL), apiKey: \(apiKey == nil ? "none" : "<redacted>"), "
            + "requestTimeout: \(requestTimeout), maxRetries: \(maxRetries), retryBaseDelay: \(retryBaseDelay), "
            + "retryMaxDelay: \(retryMaxDelay), fallbacks: \(fallbacks), priced models: \(pricing.prices.count))"
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
