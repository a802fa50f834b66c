import Foundation

/// A value from a TOML file.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table([String: TOMLValue])
}

public struct TOMLError: Error, CustomStringConvertible, Sendable {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

/// The part of TOML 1.0 that configuration files use: comments, `[tables]` and `[dotted.tables]`,
/// bare, quoted and dotted keys, basic and literal strings (single- and multi-line), integers
/// (with `_`, hex/octal/binary), floats, booleans, arrays (also across lines) and inline tables.
/// Dates and arrays of tables are refused with a clear error rather than misread.
///
/// Why not a library: TOMLKit 0.6.0, the one TOML package mirrored here, depends on
/// karwa/swift-checkit, which is not available, so it cannot be resolved; it also compiles toml++
/// (C++). A worker's config file is a dozen keys (docs/ARCHITECTURE.md, "Dependencies").
public struct TOMLDocument: Sendable {
    public let root: [String: TOMLValue]

    public init(parsing text: String) throws {
        var parser = Parser(text: Array(text.unicodeScalars))
        root = try parser.parseDocument()
    }

    /// The value at a dotted path such as `labels.gpu`.
    public func value(at path: String) -> TOMLValue? {
        var current: TOMLValue = .table(root)
        for part in path.split(separator: ".") {
            guard case .table(let table) = current, let next = table[String(part)] else { return nil }
            current = next
        }
        return current
    }

    struct Parser {
        let text: [Unicode.Scalar]
        var index = 0
        var line = 1

        init(text: [Unicode.Scalar]) { self.text = text }

        var atEnd: Bool { index >= text.count }
        var current: Unicode.Scalar? { atEnd ? nil : text[index] }

        func error(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

        mutating func advance() {
            if text[index] == "\n" { line += 1 }
            index += 1
        }

        mutating func skipSpaces() {
            while let c = current, c == " " || c == "\t" { advance() }
        }

        /// Spaces, newlines and comments (inside arrays).
        mutating func skipBlank() {
            while let c = current {
                if c == " " || c == "\t" || c == "\n" || c == "\r" {
                    advance()
                } else if c == "#" {
                    skipComment()
                } else {
                    return
                }
            }
        }

        mutating func skipComment() {
            while let c = current, c != "\n" { advance() }
        }

        mutating func endOfLine() throws {
            skipSpaces()
            if current == "#" { skipComment() }
            if current == "\r" { advance() }
            guard atEnd || current == "\n" else {
                throw error("unexpected '\(String(current!))' after a value; one key = value per line")
            }
        }

        mutating func parseDocument() throws -> [String: TOMLValue] {
            var root: [String: TOMLValue] = [:]
            var tablePath: [String] = []
            var definedTables = Set<[String]>()
            while !atEnd {
                skipBlank()
                guard let c = current else { break }
                if c == "[" {
                    advance()
                    if current == "[" { throw error("arrays of tables ([[...]]) are not supported in Bosun config files") }
                    skipSpaces()
                    tablePath = try parseKey()
                    skipSpaces()
                    guard current == "]" else { throw error("expected ']' to close the table header") }
                    advance()
                    guard definedTables.insert(tablePath).inserted else {
                        throw error("table [\(tablePath.joined(separator: "."))] is defined twice")
                    }
                    try Self.ensureTable(&root, path: tablePath, line: line)
                    try endOfLine()
                } else {
                    let key = try parseKey()
                    skipSpaces()
                    guard current == "=" else { throw error("expected '=' after the key '\(key.joined(separator: "."))'") }
                    advance()
                    skipSpaces()
                    let value = try parseValue()
                    try Self.insert(&root, path: tablePath + key, value: value, line: line)
                    try endOfLine()
                }
            }
            return root
        }

        mutating func parseKey() throws -> [String] {
            var parts: [String] = []
            while true {
                skipSpaces()
                if current == "\"" {
                    parts.append(try parseBasicString())
                } else if current == "'" {
                    parts.append(try parseLiteralString())
                } else {
                    var bare = ""
                    while let c = current, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-" {
                        bare.unicodeScalars.append(c)
                        advance()
                    }
                    guard !bare.isEmpty else { throw error("expected a key") }
                    parts.append(bare)
                }
                skipSpaces()
                guard current == "." else { return parts }
                advance()
            }
        }

        mutating func parseValue() throws -> TOMLValue {
            guard let c = current else { throw error("expected a value") }
            switch c {
            case "\"": return .string(try parseBasicString())
            case "'": return .string(try parseLiteralString())
            case "[": return try parseArray()
            case "{": return try parseInlineTable()
            case "t", "f":
                let word = readWord()
                if word == "true" { return .boolean(true) }
                if word == "false" { return .boolean(false) }
                throw error("unknown value '\(word)' (strings need quotes)")
            default:
                return try parseNumber(readWord())
            }
        }

        mutating func readWord() -> String {
            var word = ""
            while let c = current, !" \t\r\n,]}#".unicodeScalars.contains(c) {
                word.unicodeScalars.append(c)
                advance()
            }
            return word
        }

        func parseNumber(_ word: String) throws -> TOMLValue {
            let clean = word.replacingOccurrences(of: "_", with: "")
            for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where clean.hasPrefix(prefix) {
                guard let value = Int(clean.dropFirst(2), radix: radix) else { throw error("bad number '\(word)'") }
                return .integer(value)
            }
            if let value = Int(clean) { return .integer(value) }
            if ["inf", "+inf"].contains(clean) { return .float(.infinity) }
            if clean == "-inf" { return .float(-.infinity) }
            if clean.contains(where: { "eE.".contains($0) }), let value = Double(clean) { return .float(value) }
            if clean.count >= 10, clean.dropFirst(4).first == "-" {
                throw error("dates are not supported in Bosun config files; write '\(word)' as a string")
            }
            throw error("unknown value '\(word)' (strings need quotes)")
        }

        mutating func parseBasicString() throws -> String {
            advance()  // opening quote
            let multiline = peek("\"\"")
            if multiline {
                advance(); advance()
                if current == "\n" { advance() } else if current == "\r", peek("\r\n") { advance(); advance() }
            }
            var result = ""
            while true {
                guard let c = current else { throw error("a string is not closed") }
                if c == "\"" {
                    if !multiline {
                        advance()
                        return result
                    }
                    if peek("\"\"\"") {
                        advance(); advance(); advance()
                        return result
                    }
                }
                if c == "\n" && !multiline { throw error("a string is not closed before the end of the line") }
                if c == "\\" {
                    advance()
                    guard let escaped = current else { throw error("a string is not closed") }
                    switch escaped {
                    case "n": result += "\n"
                    case "t": result += "\t"
                    case "r": result += "\r"
                    case "\"": result += "\""
                    case "\\": result += "\\"
                    case "b": result += "\u{08}"
                    case "f": result += "\u{0C}"
                    case "u", "U":
                        let count = escaped == "u" ? 4 : 8
                        var hex = ""
                        for _ in 0..<count {
                            advance()
                            guard let h = current else { throw error("a \\u escape is cut short") }
                            hex.unicodeScalars.append(h)
                        }
                        guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                            throw error("bad unicode escape \\\(escaped)\(hex)")
                        }
                        result.unicodeScalars.append(scalar)
                    case "\n" where multiline, " " where multiline, "\r" where multiline:
                        // A line-ending backslash trims the newline and the whitespace after it.
                        skipBlankWithoutComments()
                        continue
                    default:
                        throw error("unknown escape '\\\(String(escaped))' in a string")
                    }
                    advance()
                    continue
                }
                result.unicodeScalars.append(c)
                advance()
            }
        }

        mutating func skipBlankWithoutComments() {
            while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" { advance() }
        }

        mutating func parseLiteralString() throws -> String {
            advance()
            let multiline = peek("''")
            if multiline {
                advance(); advance()
                if current == "\n" { advance() }
            }
            var result = ""
            while true {
                guard let c = current else { throw error("a string is not closed") }
                if c == "'" {
                    if !multiline {
                        advance()
                        return result
                    }
                    if peek("'''") {
                        advance(); advance(); advance()
                        return result
                    }
                }
                if c == "\n" && !multiline { throw error("a string is not closed before the end of the line") }
                result.unicodeScalars.append(c)
                advance()
            }
        }

        func peek(_ expected: String) -> Bool {
            var offset = index
            for scalar in expected.unicodeScalars {
                guard offset < text.count, text[offset] == scalar else { return false }
                offset += 1
            }
            return true
        }

        mutating func parseArray() throws -> TOMLValue {
            advance()
            var items: [TOMLValue] = []
            while true {
                skipBlank()
                if current == "]" {
                    advance()
                    return .array(items)
                }
                items.append(try parseValue())
                skipBlank()
                if current == "," {
                    advance()
                } else if current == "]" {
                    advance()
                    return .array(items)
                } else {
                    throw error("expected ',' or ']' in an array")
                }
            }
        }

        mutating func parseInlineTable() throws -> TOMLValue {
            advance()
            var table: [String: TOMLValue] = [:]
            skipSpaces()
            if current == "}" {
                advance()
                return .table(table)
            }
            while true {
                let key = try parseKey()
                skipSpaces()
                guard current == "=" else { throw error("expected '=' in an inline table") }
                advance()
                skipSpaces()
                try Self.insert(&table, path: key, value: try parseValue(), line: line)
                skipSpaces()
                if current == "," {
                    advance()
                } else if current == "}" {
                    advance()
                    return .table(table)
                } else {
                    throw error("expected ',' or '}' in an inline table")
                }
            }
        }

        static func ensureTable(_ table: inout [String: TOMLValue], path: [String], line: Int) throws {
            guard let first = path.first else { return }
            var child: [String: TOMLValue]
            switch table[first] {
            case nil: child = [:]
            case .table(let existing): child = existing
            default: throw TOMLError(line: line, message: "'\(first)' is already a value, not a table")
            }
            try ensureTable(&child, path: Array(path.dropFirst()), line: line)
            table[first] = .table(child)
        }

        static func insert(_ table: inout [String: TOMLValue], path: [String], value: TOMLValue, line: Int) throws {
            guard let first = path.first else { return }
            if path.count == 1 {
                guard table[first] == nil else {
                    throw TOMLError(line: line, message: "the key '\(first)' is defined twice")
                }
                table[first] = value
                return
            }
            var child: [String: TOMLValue]
            switch table[first] {
            case nil: child = [:]
            case .table(let existing): child = existing
            default: throw TOMLError(line: line, message: "'\(first)' is already a value, not a table")
            }
            try insert(&child, path: Array(path.dropFirst()), value: value, line: line)
            table[first] = .table(child)
        }
    }
}
