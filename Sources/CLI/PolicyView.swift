import BosunProtocol
import Foundation

/// A policy as `GET /api/v1/policies` returns it. Decoded leniently: written against the
/// contract while the server side was being built.
struct PolicyView: Decodable, Sendable {
    var id: String
    var name: String?
    var level: String?
    var targetId: String?
    var rules: JSONValue?
    var enabled: Bool?
    var createdAt: Date?
    var updatedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, name, level
        case targetId = "target_id"
        case rules, enabled
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeLenientString(.id) ?? ""
        name = try? c.decodeIfPresent(String.self, forKey: .name)
        level = try? c.decodeIfPresent(String.self, forKey: .level)
        targetId = try c.decodeLenientString(.targetId)
        rules = try? c.decodeIfPresent(JSONValue.self, forKey: .rules)
        enabled = try? c.decodeIfPresent(Bool.self, forKey: .enabled)
        createdAt = try? c.decodeIfPresent(Date.self, forKey: .createdAt)
        updatedAt = try? c.decodeIfPresent(Date.self, forKey: .updatedAt)
    }

    static let levels = ["organization", "environment", "team", "agent"]
}
