import BosunProtocol
import Foundation

/// A tool call waiting for a human's decision (`GET /api/v1/executions/{id}/approvals`).
/// Decoded leniently: the server side of approvals is newer than this CLI's contract.
struct Approval: Decodable, Sendable {
    var id: String
    var executionId: String?
    var turn: Int?
    var toolCallId: String?
    var toolName: String?
    var arguments: JSONValue?
    var status: String?
    var reason: String?
    var requestedAt: Date?
    var expiresAt: Date?
    var decidedAt: Date?
    var decidedBy: String?

    enum CodingKeys: String, CodingKey {
        case id
        case executionId = "execution_id"
        case turn
        case toolCallId = "tool_call_id"
        case toolName = "tool_name"
        case arguments, status, reason
        case requestedAt = "requested_at"
        case expiresAt = "expires_at"
        case decidedAt = "decided_at"
        case decidedBy = "decided_by"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeLenientString(.id) ?? ""
        executionId = try c.decodeLenientString(.executionId)
        turn = try? c.decodeIfPresent(Int.self, forKey: .turn)
        toolCallId = try c.decodeLenientString(.toolCallId)
        toolName = try? c.decodeIfPresent(String.self, forKey: .toolName)
        arguments = try? c.decodeIfPresent(JSONValue.self, forKey: .arguments)
        status = try? c.decodeIfPresent(String.self, forKey: .status)
        reason = try? c.decodeIfPresent(String.self, forKey: .reason)
        requestedAt = try? c.decodeIfPresent(Date.self, forKey: .requestedAt)
        expiresAt = try? c.decodeIfPresent(Date.self, forKey: .expiresAt)
        decidedAt = try? c.decodeIfPresent(Date.self, forKey: .decidedAt)
        decidedBy = try? c.decodeIfPresent(String.self, forKey: .decidedBy)
    }

    var isPending: Bool { (status ?? "pending") == "pending" }
}

/// `POST .../approvals/{id}/approve` and `.../deny`.
struct ApprovalDecisionRequest: Encodable, Sendable {
    var reason: String?
}

extension KeyedDecodingContainer {
    /// A string, or a number written as one (ids may be UUIDs or integers).
    func decodeLenientString(_ key: Key) throws -> String? {
        if let text = try? decodeIfPresent(String.self, forKey: key) { return text }
        if let number = try? decodeIfPresent(Int64.self, forKey: key) { return String(number) }
        return nil
    }
}
