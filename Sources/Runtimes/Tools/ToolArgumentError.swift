/// Arguments that do not fit a tool's schema; the message names the argument.
struct ToolArgumentError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
