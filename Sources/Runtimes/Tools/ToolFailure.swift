/// A failure a built-in reports to the model, worded for it.
struct ToolFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
