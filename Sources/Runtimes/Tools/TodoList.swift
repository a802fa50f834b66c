/// The turn's todo list, which the model keeps with the TodoWrite tool. Each call replaces the
/// whole list; the runtime reads it to show progress.
public actor TodoList {
    public private(set) var items: [TodoItem]

    public init(_ items: [TodoItem] = []) {
        self.items = items
    }

    public func replace(with items: [TodoItem]) {
        self.items = items
    }
}
