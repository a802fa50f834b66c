import BosunProtocol

/// One request the scripted LLM server received, as kept in its log (`requests()` and
/// `GET /_scripted/requests`).
public struct ScriptedLLMRequest: Codable, Sendable, Hashable {
    /// How the request was answered.
    public enum Answer: String, Codable, Sendable, Hashable {
        /// By the script entry `entry`.
        case entry
        /// By the script's `default`.
        case `default`
        /// By the fixed reply of a server without a script.
        case fixed
        /// HTTP 500: no entry left or fitting, and no default.
        case exhausted
        /// HTTP 401: the key did not match `--require-key`.
        case unauthorized
        /// HTTP 400: the body was not a JSON object.
        case badRequest = "bad_request"
    }

    /// 1 for the first request since the server started or was reset.
    public var sequence: Int
    public var path: String
    public var format: ScriptedLLMFormat
    /// Headers of interest, names in lower case: authorization, x-api-key, anthropic-version,
    /// anthropic-beta, content-type, user-agent.
    public var headers: [String: String]
    /// The parsed body; nil when it was not JSON.
    public var body: JSONValue?
    public var model: String?
    public var stream: Bool
    public var answer: Answer
    /// The index in the script's `replies` of the entry that answered.
    public var entry: Int?
    /// The HTTP status sent.
    public var status: Int

    public init(
        sequence: Int, path: String, format: ScriptedLLMFormat, headers: [String: String], body: JSONValue?,
        model: String?, stream: Bool, answer: Answer, entry: Int?, status: Int
    ) {
        self.sequence = sequence
        self.path = path
        self.format = format
        self.headers = headers
        self.body = body
        self.model = model
        self.stream = stream
        self.answer = answer
        self.entry = entry
        self.status = status
    }

    static let headersOfInterest = [
        "authorization", "x-api-key", "anthropic-version", "anthropic-beta", "content-type", "user-agent",
    ]
}
