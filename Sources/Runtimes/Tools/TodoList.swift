/// The turn's todo list, which the model keeps with the TodoWrite tool. Each call replaces the
/// whole list; clients see it in the TodoWrite call's arguments (the `assistant` event).
public actor TodoList {
    public private(set) var items: [TodoItem]

    public init(_ items: [TodoItem] = []) {
        self.items = items
    }

    public func replace(with items: [TodoItem]) {
        self.items = items
    }
}
