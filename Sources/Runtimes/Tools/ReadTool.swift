import BosunProtocol
import Foundation
import LLM

/// Claude Code's `Read`: a text file as `cat -n` prints it (line number right-aligned in six
/// columns, a tab, the line), from `offset` (1-based) for `limit` lines.
public struct ReadTool: BuiltInTool {
    public static let defaultLimit = 2000
    public static let maxLineLength = 2000
    /// Files larger than this are refused whole; Grep or Bash can look at parts of them.
    public static let maxFileBytes = 64 << 20

    public init() {}

    public var isReadOnly: Bool { true }

    public var spec: ToolSpec {
        ToolSpec(
            name: "Read",
            description: """
                Reads a text file from the workspace. file_path is absolute (inside the workspace) or \
                relative to the workspace root. Returns up to \(Self.defaultLimit) lines from the start by \
                default, numbered like `cat -n`; use offset and limit for long files. Lines longer than \
                \(Self.maxLineLength) characters are cut. Directories and binary files are refused; use Glob \
                or Bash `ls` to list a directory.
                """,
            inputSchema: [
                "type": "object",
                "properties": [
                    "file_path": ["type": "string", "description": "The path of the file to read"],
                    "offset": [
                        "type": "integer", "minimum": 1,
                        "description": "The line number to start reading from (1-based). Only for files too large to read at once",
                    ],
                    "limit": [
                        "type": "integer", "minimum": 1,
                        "description": "The number of lines to read. Only for files too large to read at once",
                    ],
                ],
                "required": ["file_path"],
                "additionalProperties": false,
            ])
    }

    func perform(_ arguments: ToolArguments, in context: ToolContext) async throws -> ToolOutput {
        let filePath = try arguments.string("file_path")
        let offset = max(1, try arguments.optionalInt("offset") ?? 1)
        let limit = try arguments.optionalInt("limit") ?? Self.defaultLimit
        guard limit > 0 else { throw ToolArgumentError("limit must be at least 1") }
        let workspace = context.workspace
        let cap = context.outputCap
        return try await BlockingIO.run { _ in
            let path: String
            do {
                path = try workspace.resolve(filePath, forWriting: false)
            } catch let error as WorkspaceError where error.code == .notFound {
                throw ToolFailure("File does not exist: \(filePath)")
            }
            let data = try FileAccess.read(path, display: filePath, maxBytes: Self.maxFileBytes)
            if FileAccess.isBinary(data) {
                throw ToolFailure(
                    "\(filePath) is a binary file (\(data.count) bytes); Read shows text files only")
            }
            return Self.render(String(decoding: data, as: UTF8.self), path: filePath, offset: offset, limit: limit, cap: cap)
        }
    }

    static func render(_ text: String, path: String, offset: Int, limit: Int, cap: Int) -> ToolOutput {
        if text.isEmpty { return .success("The file \(path) exists but is empty.") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if text.hasSuffix("\n") { lines.removeLast() }
        guard offset <= lines.count else {
            return .error("\(path) has \(lines.count) lines; offset \(offset) is past the end")
        }
        var output = ""
        var outputCount = 0
        var last = offset - 1
        var cutByCap = false
        for number in offset...min(lines.count, offset + limit - 1) {
            let line = numbered(number, lines[number - 1])
            let lineCount = line.count
            if outputCount + lineCount > cap, number > offset {
                cutByCap = true
                break
            }
            output += line
            outputCount += lineCount
            last = number
        }
        if last < lines.count {
            let reason = cutByCap ? "the output limit of \(cap) characters was reached" : "limit reached"
            output += "\n[showing lines \(offset)-\(last) of \(lines.count) (\(reason)); "
                + "read more with offset \(last + 1)]"
        } else if output.hasSuffix("\n") {
            output.removeLast()
        }
        return .success(output)
    }

    /// One `cat -n` line: the number right-aligned in six columns, a tab, the text, a newline.
    static func numbered(_ number: Int, _ line: Substring) -> String {
        let digits = String(number)
        let padding = String(repeating: " ", count: max(0, 6 - digits.count))
        var text = String(line)
        if text.count > maxLineLength {
            text = String(text.prefix(maxLineLength)) + " [line truncated]"
        }
        return padding + digits + "\t" + text + "\n"
    }
}
