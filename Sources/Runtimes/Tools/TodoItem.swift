/// One entry of the todo list.
public struct TodoItem: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case pending
        case inProgress = "in_progress"
        case completed
    }

    public var content: String
    public var status: Status
    /// The present-continuous form shown while the item is in progress ("Running the tests").
    public var activeForm: String?

    public init(content: String, status: Status, activeForm: String? = nil) {
        self.content = content
        self.status = status
        self.activeForm = activeForm
    }
}
