import Foundation

/// A `Bash(...)` specifier: `*` is any characters, a trailing ` *` may also match nothing, and
/// a legacy `prefix:*` is the prefix as a whole word.
struct BashPattern: Sendable {
    private let regex: Regex

    private struct Regex: @unchecked Sendable {
        // NSRegularExpression is immutable and documented as thread-safe.
        let expression: NSRegularExpression
    }

    init(_ specifier: String) {
        let pattern = specifier.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        var body: String
        if pattern.hasSuffix(":*") {
            body = NSRegularExpression.escapedPattern(for: String(pattern.dropLast(2))) + "(?: .*)?"
        } else {
            var text = pattern
            var tail = ""
            if text.hasSuffix(" *") {
                text.removeLast(2)
                tail = "(?: .*)?"
            }
            body = text.components(separatedBy: "*").map { NSRegularExpression.escapedPattern(for: $0) }
                .joined(separator: ".*") + tail
        }
        // The pattern was built from escaped literals, so it always compiles.
        regex = Regex(expression: try! NSRegularExpression(pattern: "^" + body + "$", options: [.dotMatchesLineSeparators]))
    }

    /// `command` is one normalised simple command (see `ShellCommand`).
    func matches(_ command: String) -> Bool {
        regex.expression.firstMatch(in: command, range: NSRange(location: 0, length: command.utf16.count)) != nil
    }
}
