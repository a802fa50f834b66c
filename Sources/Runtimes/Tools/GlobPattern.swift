import Foundation

/// A file glob compiled to a regular expression over `/`-separated relative paths.
///
/// Syntax: `*` (any characters but `/`), `?` (one character but `/`), `**` as a whole path
/// component (any number of directories, also none), `[abc]` / `[!abc]` classes, `{a,b}`
/// alternatives (nested too) and `\` escapes. `*` and `?` also match a leading dot.
///
/// Two flavours:
/// - `GlobPattern(glob:)`, the Glob tool's: the pattern matches the whole path from the search
///   directory, so `*.ts` is the top level only and `**/*.ts` any depth.
/// - `GlobPattern(gitignore:)`, for permission rules and Grep's `glob` filter: a pattern with no
///   `/` but a trailing one matches a name at any depth (`*.env`), a leading `/` anchors it to
///   the base, and a pattern that matches a directory also matches everything below it.
struct GlobPattern: Sendable, CustomStringConvertible {
    let source: String
    private let regex: Regex
    private let matchesAncestors: Bool

    /// Leading path components without glob characters, which a walk can start from.
    let literalPrefix: [String]

    private struct Regex: @unchecked Sendable {
        // NSRegularExpression is immutable and documented as thread-safe.
        let expression: NSRegularExpression
    }

    init(glob pattern: String) throws {
        let body = try Self.translate(pattern)
        source = pattern
        regex = Regex(expression: try Self.compile("^" + body + "$", pattern))
        matchesAncestors = false
        literalPrefix = Self.literalComponents(of: pattern)
    }

    init(gitignore pattern: String) throws {
        var text = pattern
        while text.count > 1, text.hasSuffix("/") { text.removeLast() }
        let anchored = text.hasPrefix("/") || text.dropLast().contains("/")
        if text.hasPrefix("/") { text.removeFirst() }
        if text.isEmpty { text = "**" }
        let body = try Self.translate(text)
        source = pattern
        regex = Regex(expression: try Self.compile("^" + (anchored ? "" : "(?:.*/)?") + body + "$", pattern))
        matchesAncestors = true
        literalPrefix = anchored ? Self.literalComponents(of: text) : []
    }

    var description: String { source }

    /// Whether `relativePath` (no leading `/`) matches; in the gitignore flavour, also when one of
    /// its parent directories does.
    func matches(_ relativePath: String) -> Bool {
        if test(relativePath) { return true }
        guard matchesAncestors else { return false }
        var path = Substring(relativePath)
        while let slash = path.lastIndex(of: "/") {
            path = path[..<slash]
            if !path.isEmpty, test(String(path)) { return true }
        }
        return false
    }

    private func test(_ path: String) -> Bool {
        regex.expression.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
    }

    private static func compile(_ expression: String, _ pattern: String) throws -> NSRegularExpression {
        do {
            return try NSRegularExpression(pattern: expression, options: [.dotMatchesLineSeparators])
        } catch {
            throw GlobPatternError(pattern: pattern, reason: "it does not compile")
        }
    }

    private static func literalComponents(of pattern: String) -> [String] {
        var prefix: [String] = []
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        // The last component names files, not a directory to start from.
        for part in parts.dropLast() {
            if part.contains(where: { "*?[]{}\\".contains($0) }) || part == "." || part == ".." { break }
            prefix.append(part)
        }
        return prefix
    }

    /// The regular-expression body for `pattern` (without anchors).
    static func translate(_ pattern: String) throws -> String {
        let characters = Array(pattern)
        var index = 0
        return try translate(characters, &index, insideBraces: false)
    }

    private static func translate(_ characters: [Character], _ index: inout Int, insideBraces: Bool) throws -> String {
        var result = ""
        func atComponentStart(_ position: Int) -> Bool { position == 0 || characters[position - 1] == "/" }
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "*":
                var end = index
                while end < characters.count, characters[end] == "*" { end += 1 }
                let isDoubleStar = end - index >= 2
                let endsComponent = end == characters.count || characters[end] == "/"
                    || (insideBraces && (characters[end] == "," || characters[end] == "}"))
                if isDoubleStar, atComponentStart(index), endsComponent {
                    if end < characters.count, characters[end] == "/" {
                        // `**/`: zero or more directories.
                        result += "(?:[^/]*/)*"
                        index = end + 1
                    } else {
                        // A trailing `**`: anything, across directories.
                        result += ".*"
                        index = end
                    }
                } else {
                    result += "[^/]*"
                    index = end
                }
            case "?":
                result += "[^/]"
                index += 1
            case "[":
                if let (translated, next) = characterClass(characters, from: index) {
                    result += translated
                    index = next
                } else {
                    result += "\\["
                    index += 1
                }
            case "{":
                guard hasClosingBrace(characters, from: index) else {
                    result += "\\{"
                    index += 1
                    continue
                }
                index += 1
                var alternatives: [String] = []
                while true {
                    alternatives.append(try translate(characters, &index, insideBraces: true))
                    guard index < characters.count else {
                        throw GlobPatternError(pattern: String(characters), reason: "a { is not closed")
                    }
                    let separator = characters[index]
                    index += 1
                    if separator == "}" { break }
                }
                result += "(?:" + alternatives.joined(separator: "|") + ")"
            case "," where insideBraces, "}" where insideBraces:
                return result
            case "\\":
                if index + 1 < characters.count {
                    result += NSRegularExpression.escapedPattern(for: String(characters[index + 1]))
                    index += 2
                } else {
                    result += "\\\\"
                    index += 1
                }
            default:
                result += NSRegularExpression.escapedPattern(for: String(character))
                index += 1
            }
        }
        return result
    }

    private static func hasClosingBrace(_ characters: [Character], from start: Int) -> Bool {
        var depth = 0
        var index = start
        while index < characters.count {
            switch characters[index] {
            case "\\": index += 1
            case "{": depth += 1
            case "}":
                depth -= 1
                if depth == 0 { return true }
            default: break
            }
            index += 1
        }
        return false
    }

    /// `[...]` starting at `start`, or nil when it is not closed (then `[` is literal).
    private static func characterClass(_ characters: [Character], from start: Int) -> (String, Int)? {
        var index = start + 1
        var negated = false
        if index < characters.count, characters[index] == "!" || characters[index] == "^" {
            negated = true
            index += 1
        }
        var members = ""
        var first = true
        while index < characters.count {
            let character = characters[index]
            if character == "]", !first {
                // A class never matches the separator.
                return ("[" + (negated ? "^/" : "") + members + "]", index + 1)
            }
            switch character {
            case "\\", "[", "]", "^", "&", "~":
                members += "\\" + String(character)
            case "-":
                members += "-"
            default:
                members += String(character)
            }
            first = false
            index += 1
        }
        return nil
    }
}
