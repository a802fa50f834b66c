import BosunProtocol
import Foundation
import LLM

/// Claude Code's `TodoWrite`: replaces the turn's todo list (`ToolContext.todos`).
public struct TodoWriteTool: BuiltInTool {
    public init() {}

    /// It changes only the turn's own list, nothing in the workspace.
    public var isReadOnly: Bool { true }

    public var spec: ToolSpec {
        ToolSpec(
            name: "TodoWrite",
            description: """
                Replaces your todo list for this task. Use it to plan multi-step work and show progress: \
                each item has content, a status (pending, in_progress or completed) and an activeForm (the \
                present-continuous form, e.g. "Running the tests"). Keep one item in_progress at a time and \
                mark items completed as soon as they are done. Send the whole list every time.
                """,
            inputSchema: [
                "type": "object",
                "properties": [
                    "todos": [
                        "type": "array",
                        "description": "The updated todo list",
                        "items": [
                            "type": "object",
                            "properties": [
                                "content": ["type": "string", "minLength": 1],
                                "status": ["type": "string", "enum": ["pending", "in_progress", "completed"]],
                                "activeForm": ["type": "string", "minLength": 1],
                            ],
                            "required": ["content", "status"],
                        ],
                    ]
                ],
                "required": ["todos"],
                "additionalProperties": false,
            ])
    }

    func perform(_ arguments: ToolArguments, in context: ToolContext) async throws -> ToolOutput {
        guard let list = arguments["todos"] else { throw ToolArgumentError("todos is required") }
        guard case .array(let entries) = list else { throw ToolArgumentError("todos must be an array") }
        var items: [TodoItem] = []
        for (index, entry) in entries.enumerated() {
            let position = "todos[\(index)]"
            guard case .object = entry else { throw ToolArgumentError("\(position) must be an object") }
            let fields = try ToolArguments(entry, tool: spec.name)
            let content: String
            let statusText: String
            do {
                content = try fields.string("content")
                statusText = try fields.string("status")
            } catch {
                throw ToolArgumentError("\(position).\(error.message)")
            }
            guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ToolArgumentError("\(position).content is empty")
            }
            guard let status = TodoItem.Status(rawValue: statusText) else {
                throw ToolArgumentError(
                    "\(position).status is \(statusText.debugDescription); it must be pending, in_progress or completed")
            }
            let activeForm: String?
            do {
                activeForm = try fields.optionalString("activeForm")
            } catch {
                throw ToolArgumentError("\(position).\(error.message)")
            }
            items.append(TodoItem(content: content, status: status, activeForm: activeForm))
        }
        await context.todos.replace(with: items)
        return .success(Self.summary(items))
    }

    static func summary(_ items: [TodoItem]) -> String {
        guard !items.isEmpty else { return "Todo list cleared." }
        func count(_ status: TodoItem.Status) -> Int { items.filter { $0.status == status }.count }
        var text = "Todo list updated: \(items.count) item\(items.count == 1 ? "" : "s") "
            + "(\(count(.completed)) completed, \(count(.inProgress)) in progress, \(count(.pending)) pending)."
        if let current = items.first(where: { $0.status == .inProgress }) {
            text += " Now: \(current.activeForm ?? current.content)."
        }
        return text
    }
}
