import BosunProtocol
import Foundation

/// JSON in and out of the wire formats. Bodies are built as `JSONValue` trees, so a test can
/// compare the exact shape sent, and replies are read the same way, because both providers
/// add fields freely and a lenient tree reader tolerates that better than fixed `Codable` types.
enum WireJSON {
    /// The byte writer, not JSONEncoder (the same bytes, several times faster: every model
    /// request goes through here). Sorted keys: the same request is the same bytes (stable logs,
    /// provider prompt caches).
    static func encode(_ value: JSONValue) -> Data {
        Data(value.jsonBytes(sortedKeys: true))
    }

    static func encodeToString(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// Throws `LLMError.malformedResponse` (with a prefix of the text) when `data` is not JSON.
    /// The byte parser first (every stream chunk comes through here; decoding a `JSONValue`
    /// with JSONDecoder tries each kind in turn and was most of a worker's JSON time); Foundation
    /// only for what the byte parser refuses and Foundation takes.
    static func decode(_ data: Data, what: String) throws -> JSONValue {
        if let value = try? JSONValue(parsing: data) { return value }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw LLMError(.malformedResponse, "\(what) is not valid JSON: \(prefix(of: data))")
        }
    }

    /// The start of a body for an error message: enough to recognise it, not a whole page.
    static func prefix(of data: Data, limit: Int = 200) -> String {
        prefix(of: String(decoding: data, as: UTF8.self), limit: limit)
    }

    static func prefix(of text: String, limit: Int = 200) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return "(empty)" }
        if trimmed.count <= limit { return "'\(trimmed)'" }
        return "'\(trimmed.prefix(limit))…' (\(trimmed.utf8.count) bytes)"
    }
}

extension JSONValue {
    /// A token count or other integer field; nil when absent, null or not a number.
    var intValue: Int? {
        guard let number = numberValue, number.isFinite else { return nil }
        return Int(number)
    }
}
