import BosunProtocol
import Foundation

/// Everything the commands print: the API's JSON (pretty) with `--json`, aligned tables and
/// `key: value` blocks otherwise. Errors and progress go to standard error.
struct Output: Sendable {
    var json: Bool

    /// Prints a reply's JSON pretty-printed with sorted keys, as the API sent it.
    func printJSON(_ data: Data) {
        Self.write(Self.pretty(data) + "\n")
    }

    static func pretty(_ data: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
            let text = try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return String(decoding: data, as: UTF8.self) }
        return String(decoding: text, as: UTF8.self)
    }

    /// Prints an aligned table; `empty` instead when there are no rows.
    func printTable(_ headers: [String], _ rows: [[String]], empty: String) {
        guard !rows.isEmpty else {
            Self.write(empty + "\n")
            return
        }
        Self.write(Self.table(headers, rows))
    }

    static func table(_ headers: [String], _ rows: [[String]]) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                // No padding after the last column: no trailing spaces.
                let isLast = index == cells.count - 1
                text += isLast ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }
            return text + "\n"
        }
        return line(headers) + rows.map(line).joined()
    }

    /// Prints `key: value` lines with the values aligned; nil values are left out.
    func printFields(_ fields: [(String, String?)]) {
        Self.write(Self.fields(fields))
    }

    static func fields(_ fields: [(String, String?)]) -> String {
        let present = fields.compactMap { key, value in value.map { (key, $0) } }
        let width = (present.map(\.0.count).max() ?? 0) + 2
        return present.map { key, value in
            let label = (key + ":").padding(toLength: width, withPad: " ", startingAt: 0)
            // Continuation lines of a multi-line value line up under its first line.
            let indented = value.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: width))
            return label + indented + "\n"
        }.joined()
    }

    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Short human forms of values that tables show.
enum Format {
    static func id(_ id: UUID?) -> String { id.map { $0.uuidString.lowercased() } ?? "-" }

    static func date(_ date: Date?) -> String {
        guard let date else { return "-" }
        return Date.ISO8601FormatStyle().format(date)
    }

    /// "4s ago", "3m ago", "2h ago", "5d ago".
    static func age(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "-" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<60: return "\(seconds)s ago"
        case ..<3600: return "\(seconds / 60)m ago"
        case ..<86400: return "\(seconds / 3600)h ago"
        default: return "\(seconds / 86400)d ago"
        }
    }

    /// One line, at most `limit` characters, with an ellipsis when cut.
    static func short(_ text: String, limit: Int = 80) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        guard line.count > limit else { return line }
        return String(line.prefix(limit - 1)) + "…"
    }

    /// Compact JSON text of a value (strings stay bare).
    static func json(_ value: JSONValue) -> String {
        if let text = value.stringValue { return text }
        return value.jsonString
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
