import Foundation

/// Why an LLM call failed: an open set of codes (a new failure mode does not break every
/// `switch`), the context a person needs to act on it, and whether trying again can help.
///
/// Descriptions carry the HTTP status and the provider's own error message when there is one;
/// they never carry the API key (the gateway also scrubs it from provider messages).
public struct LLMError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        /// The HTTP status behind an `.http` code.
        public let status: Int?

        init(_ name: String, status: Int? = nil) {
            self.name = name
            self.status = status
        }

        /// The gateway answered with a non-2xx status.
        public static func http(_ status: Int) -> Code { Code("http", status: status) }
        /// No response head within the request timeout, or the body went silent for that long.
        public static let timeout = Code("timeout")
        /// Could not connect, or the connection broke.
        public static let connection = Code("connection")
        /// A 2xx response that is not the wire format asked for (invalid JSON, missing fields).
        public static let malformedResponse = Code("malformed_response")
        /// A stream that ended without its end marker (`[DONE]`, `message_stop`) or a finish reason.
        public static let truncatedStream = Code("truncated_stream")
        /// The provider reported an error inside a 2xx reply (an SSE `error` event, an `error` body).
        public static let providerError = Code("provider_error")
        /// The request could not be built (an invalid base URL, a body that cannot be encoded).
        public static let invalidRequest = Code("invalid_request")
        /// Every attempt on every model failed with a retryable error; `cause` is the last one.
        public static let exhausted = Code("exhausted")

        public var description: String {
            if let status { return "\(name) \(status)" }
            return name
        }

        /// What the code says about retrying, before context (output already delivered) overrides it.
        var isRetryableByDefault: Bool {
            if name == "http", let status { return LLMError.isRetryable(status: status) }
            return self == .timeout || self == .connection || self == .truncatedStream
        }
    }

    public var code: Code
    /// What happened, written for the person reading the task's failure message.
    public var detail: String
    /// The provider's own error message, when its reply carried one.
    public var providerMessage: String?
    /// The model the failed attempt asked for.
    public var model: String?
    /// True when the same call may succeed if sent again (after a delay).
    public var isRetryable: Bool
    /// How long the server asked us to wait (`Retry-After`), when it said.
    public var retryAfter: Duration?
    /// Kept in an array because a struct cannot hold an optional of itself.
    private var causes: [LLMError]

    public init(
        _ code: Code, _ detail: String, providerMessage: String? = nil, model: String? = nil, retryable: Bool? = nil,
        cause: LLMError? = nil
    ) {
        self.code = code
        self.detail = detail
        self.providerMessage = providerMessage
        self.model = model
        self.isRetryable = retryable ?? code.isRetryableByDefault
        self.causes = cause.map { [$0] } ?? []
    }

    /// The HTTP status behind the error (the last attempt's, for `.exhausted`).
    public var status: Int? { code.status ?? cause?.status }

    /// For `.exhausted`: the error of the last attempt.
    public var cause: LLMError? { causes.first }

    public var description: String {
        var text = "LLM \(code)"
        if let model { text += " (model '\(model)')" }
        text += ": \(detail)"
        if let providerMessage, !providerMessage.isEmpty { text += ": \(providerMessage)" }
        if let hint { text += ". \(hint)" }
        if let cause { text += "; last error: \(cause)" }
        return text
    }

    /// The same error with `secret` (the API key) blanked out of everything it says, for
    /// providers that echo a rejected key back.
    func redacting(_ secret: String?) -> LLMError {
        guard let secret, !secret.isEmpty else { return self }
        var copy = self
        copy.detail = detail.replacingOccurrences(of: secret, with: "<redacted>")
        copy.providerMessage = providerMessage?.replacingOccurrences(of: secret, with: "<redacted>")
        copy.causes = causes.map { $0.redacting(secret) }
        return copy
    }

    /// What to check, for the failures a person (not a retry) has to fix.
    private var hint: String? {
        switch code.status {
        case 401, 403: "Check the API key configured for the LLM gateway"
        case 404: "Check the model id and the gateway base URL"
        case 413: "The request is too large for the model; shorten the conversation"
        default: nil
        }
    }

    /// 408 (request timeout), 429 (rate limited) and 5xx are worth another try; other 4xx mean
    /// the request itself is wrong and sending it again gets the same answer.
    static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || status >= 500
    }
}
