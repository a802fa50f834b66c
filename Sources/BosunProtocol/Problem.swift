/// An RFC 9457 problem document, the body of every error reply (`application/problem+json`).
public struct Problem: Codable, Sendable, Equatable, Error {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    /// For a policy denial: the decision (`decision`, `rule`, `policy_id`, `policy_name`, `reason`).
    public var policy: JSONValue?

    public init(type: String, title: String, status: Int, detail: String, policy: JSONValue? = nil) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.policy = policy
    }
}
