import BosunProtocol
import LLM

/// The tools of one turn, by name: the built-ins, and later MCP tools next to them.
public struct ToolBox: Sendable {
    public let tools: [any AgentTool]
    private let index: [String: Int]

    /// The Claude Code built-ins: Read, Write, Edit, Glob, Grep, Bash, TodoWrite.
    public static func builtIns() -> [any AgentTool] {
        [ReadTool(), WriteTool(), EditTool(), GlobTool(), GrepTool(), BashTool(), TodoWriteTool()]
    }

    /// A later tool with the name of an earlier one is dropped: names must be unique for the model.
    public init(_ tools: [any AgentTool] = ToolBox.builtIns()) {
        var kept: [any AgentTool] = []
        var index: [String: Int] = [:]
        for tool in tools where index[tool.spec.name] == nil {
            index[tool.spec.name] = kept.count
            kept.append(tool)
        }
        self.tools = kept
        self.index = index
    }

    public subscript(name: String) -> (any AgentTool)? {
        index[name].map { tools[$0] }
    }

    public var names: [String] { tools.map(\.spec.name) }

    /// The specs to send to the model, in order.
    public var specs: [ToolSpec] { tools.map(\.spec) }

    /// Runs the named tool; an unknown name is an error output, as the model should hear it.
    public func run(_ name: String, _ arguments: JSONValue, in context: ToolContext) async -> ToolOutput {
        guard let tool = self[name] else {
            return .error("No such tool: \(name). Available tools: \(names.joined(separator: ", "))")
        }
        return await tool.run(arguments, in: context)
    }
}
