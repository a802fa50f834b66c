import BosunProtocol
import Foundation

/// The error a provider or LiteLLM put in a reply: OpenAI's `{"error": {"message", "type",
/// "code"}}`, Anthropic's `{"type": "error", "error": {"type", "message"}}`, or the plainer
/// `{"error": "..."}` / `{"detail": "..."}` some proxies send.
struct ProviderErrorBody: Sendable, Equatable {
    var message: String
    /// `rate_limit_error`, `overloaded_error`, `server_error`, ... when the body says.
    var type: String?
    /// OpenAI's `code`, which LiteLLM sometimes fills with an HTTP status ("429").
    var code: String?

    init(message: String, type: String? = nil, code: String? = nil) {
        self.message = message
        self.type = type
        self.code = code
    }

    init?(_ json: JSONValue) {
        if let error = json["error"], let object = error.objectValue {
            guard let message = object["message"]?.stringValue ?? object["detail"]?.stringValue else { return nil }
            let code = object["code"].flatMap { $0.stringValue ?? $0.intValue.map(String.init) }
            self.init(message: message, type: object["type"]?.stringValue, code: code)
        } else if let message = json["error"]?.stringValue ?? json["detail"]?.stringValue
            ?? json["message"]?.stringValue
        {
            self.init(message: message, type: json["type"]?.stringValue)
        } else {
            return nil
        }
    }

    init?(_ data: Data) {
        guard let json = JSONValue(jsonText: String(decoding: data, as: UTF8.self)) else { return nil }
        self.init(json)
    }

    /// For an error reported inside a 2xx reply (an SSE `error` event): overload, rate limits
    /// and server faults pass; a rejected request does not.
    var isRetryable: Bool {
        if let type, Self.retryableTypes.contains(type) { return true }
        if let code, let status = Int(code) { return LLMError.isRetryable(status: status) }
        return false
    }

    private static let retryableTypes: Set<String> = [
        "overloaded_error", "api_error", "rate_limit_error", "timeout_error",  // Anthropic
        "server_error", "rate_limit_exceeded", "service_unavailable",  // OpenAI and LiteLLM
    ]

    /// The message with its type, for an error description.
    var summary: String {
        if let type, !type.isEmpty { return "\(message) (\(type))" }
        return message
    }
}
