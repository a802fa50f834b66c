import BosunProtocol

/// One tool as a server lists it in `tools/list`.
public struct MCPTool: Sendable, Hashable {
    public var name: String
    public var title: String?
    public var description: String?
    public var inputSchema: JSONValue
    /// When declared, `structuredContent` of every successful result must match it.
    public var outputSchema: JSONValue?
    /// The tool entry as the server sent it.
    public var raw: JSONValue

    public init(name: String, title: String? = nil, description: String? = nil, inputSchema: JSONValue,
                outputSchema: JSONValue? = nil, raw: JSONValue = .null) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.raw = raw
    }

    /// Parses a `tools/list` entry; nil when it has no name.
    init?(json: JSONValue) {
        guard let name = json["name"]?.stringValue, !name.isEmpty else { return nil }
        self.init(
            name: name, title: json["title"]?.stringValue, description: json["description"]?.stringValue,
            inputSchema: json["inputSchema"] ?? .object(["type": .string("object")]),
            outputSchema: json["outputSchema"].flatMap { $0 == .null ? nil : $0 }, raw: json)
    }
}
