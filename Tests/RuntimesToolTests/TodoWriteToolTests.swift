import Testing

@testable import Runtimes

@Suite struct TodoWriteToolTests {
    @Test func replacesTheListAndSummarises() async throws {
        let scratch = try ScratchWorkspace()
        let context = scratch.context()
        let output = await TodoWriteTool()(
            ["todos": [
                ["content": "Write tests", "status": "completed", "activeForm": "Writing tests"],
                ["content": "Run tests", "status": "in_progress", "activeForm": "Running tests"],
                ["content": "Ship", "status": "pending"],
            ]], in: context)
        #expect(output == .success("Todo list updated: 3 items (1 completed, 1 in progress, 1 pending). Now: Running tests."))
        #expect(await context.todos.items == [
            TodoItem(content: "Write tests", status: .completed, activeForm: "Writing tests"),
            TodoItem(content: "Run tests", status: .inProgress, activeForm: "Running tests"),
            TodoItem(content: "Ship", status: .pending),
        ])
        let cleared = await TodoWriteTool()(["todos": []], in: context)
        #expect(cleared == .success("Todo list cleared."))
        #expect(await context.todos.items.isEmpty)
    }

    @Test func validatesStatusesAndShape() async throws {
        let scratch = try ScratchWorkspace()
        let context = scratch.context()
        await context.todos.replace(with: [TodoItem(content: "keep", status: .pending)])
        let bad = await TodoWriteTool()(["todos": [["content": "x", "status": "done"]]], in: context)
        #expect(bad == .error(
            "Invalid arguments for TodoWrite: todos[0].status is \"done\"; it must be pending, in_progress or completed"))
        let missing = await TodoWriteTool()(["todos": [["status": "pending"]]], in: context)
        #expect(missing == .error("Invalid arguments for TodoWrite: todos[0].content is required"))
        let notArray = await TodoWriteTool()(["todos": "x"], in: context)
        #expect(notArray == .error("Invalid arguments for TodoWrite: todos must be an array"))
        // A rejected call leaves the list alone.
        #expect(await context.todos.items == [TodoItem(content: "keep", status: .pending)])
    }
}
