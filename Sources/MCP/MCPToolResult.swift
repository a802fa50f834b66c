import BosunProtocol
import Foundation
import LLM

/// The result of `tools/call`. `isError` is the server's verdict on the tool run (the model
/// sees it); a JSON-RPC error is thrown instead, as `MCPError` with code `.rpcError`.
public struct MCPToolResult: Sendable, Hashable {
    public var content: [MCPContentBlock]
    public var structuredContent: JSONValue?
    public var isError: Bool
    /// Why `structuredContent` does not match the tool's `outputSchema`; non-empty makes the
    /// result an error result.
    public var schemaViolations: [String]

    public init(content: [MCPContentBlock], structuredContent: JSONValue? = nil, isError: Bool = false,
                schemaViolations: [String] = []) {
        self.content = content
        self.structuredContent = structuredContent
        self.isError = isError
        self.schemaViolations = schemaViolations
    }

    /// Parses a `tools/call` result, checking `structuredContent` against `outputSchema`.
    public init(json: JSONValue, outputSchema: JSONValue?) throws {
        guard json.objectValue != nil else {
            throw MCPError(.malformedResponse, "tools/call result is not an object")
        }
        content = (json["content"]?.arrayValue ?? []).map(MCPContentBlock.init(json:))
        structuredContent = json["structuredContent"].flatMap { $0 == .null ? nil : $0 }
        isError = json["isError"]?.boolValue ?? false
        schemaViolations = []
        if let outputSchema, !isError {
            if let structuredContent {
                schemaViolations = JSONSchemaValidator(schema: outputSchema).violations(of: structuredContent)
            } else {
                schemaViolations = ["the tool declares an outputSchema but the result has no structuredContent"]
            }
            if !schemaViolations.isEmpty { isError = true }
        }
    }

    /// The result as text for the model: text blocks joined by newlines, binary content
    /// summarised, structured content as JSON when there is no other content, and schema
    /// violations explained.
    public var renderedText: String {
        var parts = content.map(\.renderedText)
        if parts.isEmpty, let structuredContent {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if let data = try? encoder.encode(structuredContent) {
                parts.append(String(decoding: data, as: UTF8.self))
            }
        }
        if !schemaViolations.isEmpty {
            parts.append("The tool's structured result does not match its output schema: "
                + schemaViolations.joined(separator: "; "))
        }
        return parts.joined(separator: "\n")
    }
}
