import BosunProtocol
import Foundation
import LLM

/// Claude Code's `Grep`: a regular-expression search (NSRegularExpression syntax, matched per
/// line) over the files below `path`, skipping binary files, symlinks and `.git`.
public struct GrepTool: BuiltInTool {
    public enum OutputMode: String, Sendable, CaseIterable {
        case filesWithMatches = "files_with_matches"
        case content
        case count
    }

    /// Files larger than this are skipped (and counted in a note).
    public static let maxFileBytes = 16 << 20

    public init() {}

    public var isReadOnly: Bool { true }

    public var spec: ToolSpec {
        ToolSpec(
            name: "Grep",
            description: """
                Searches file contents with a regular expression (ICU/NSRegularExpression syntax, matched \
                line by line), e.g. "func\\s+\\w+" or "TODO|FIXME". Filter files with glob (e.g. "*.swift", \
                "src/**/*.{ts,tsx}"). output_mode: "files_with_matches" (default; paths, most recently \
                modified first), "content" (matching lines as path:line:text) or "count" (path:count). \
                Binary files and .git are skipped. Paths are relative to the workspace root.
                """,
            inputSchema: [
                "type": "object",
                "properties": [
                    "pattern": ["type": "string", "description": "The regular expression to search for"],
                    "path": [
                        "type": "string",
                        "description": "The file or directory to search in (default: the workspace root)",
                    ],
                    "glob": [
                        "type": "string",
                        "description": "Only search files matching this glob (e.g. \"*.js\", \"*.{ts,tsx}\")",
                    ],
                    "output_mode": [
                        "type": "string", "enum": ["content", "files_with_matches", "count"],
                        "description": "What to show (default files_with_matches)",
                    ],
                    "-i": ["type": "boolean", "description": "Case-insensitive search"],
                    "-n": ["type": "boolean", "description": "Show line numbers (content mode; default true)"],
                    "head_limit": [
                        "type": "integer", "minimum": 1,
                        "description": "Show only the first N lines or entries of the output",
                    ],
                ],
                "required": ["pattern"],
                "additionalProperties": false,
            ])
    }

    private struct Regex: @unchecked Sendable {
        // NSRegularExpression is immutable and documented as thread-safe.
        let expression: NSRegularExpression
    }

    private struct FileResult {
        var relativePath: String
        var modified: Int64
        /// (line number, line) of each matching line; only kept in content mode.
        var lines: [(Int, Substring)]
        var count: Int
    }

    func perform(_ arguments: ToolArguments, in context: ToolContext) async throws -> ToolOutput {
        let pattern = try arguments.string("pattern")
        let directoryArgument = try arguments.optionalString("path")
        let globArgument = try arguments.optionalString("glob")
        let modeArgument = try arguments.optionalString("output_mode") ?? OutputMode.filesWithMatches.rawValue
        guard let mode = OutputMode(rawValue: modeArgument) else {
            throw ToolArgumentError(
                "output_mode must be one of \(OutputMode.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        let caseInsensitive = try arguments.optionalBool("-i") ?? false
        let showLineNumbers = try arguments.optionalBool("-n") ?? true
        let headLimit = try arguments.optionalInt("head_limit")
        if let headLimit, headLimit < 1 { throw ToolArgumentError("head_limit must be at least 1") }

        let regex: Regex
        do {
            regex = Regex(expression: try NSRegularExpression(
                pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : []))
        } catch {
            throw ToolFailure("Invalid regular expression \(pattern.debugDescription): \(error.localizedDescription)")
        }
        let fileFilter: GlobPattern?
        do {
            fileFilter = try globArgument.map { try GlobPattern(gitignore: $0) }
        } catch let error as GlobPatternError {
            throw ToolFailure(error.description)
        }
        let workspace = context.workspace
        let cap = context.outputCap
        let exclusions = context.searchExclusions

        return try await BlockingIO.run { cancellation in
            let target = try SearchDirectory.resolve(directoryArgument, in: workspace)
            var results: [FileResult] = []
            var skippedLarge = 0

            func search(_ path: String, size: Int, modified: Int64, filterPath: String) throws {
                if let fileFilter, !fileFilter.matches(filterPath) { return }
                if exclusions.excludes(path, tool: "Grep", in: workspace) { return }
                guard size <= Self.maxFileBytes else {
                    skippedLarge += 1
                    return
                }
                guard let data = try? FileAccess.read(path, display: path, maxBytes: Self.maxFileBytes),
                      !FileAccess.isBinary(data)
                else { return }
                let text = String(decoding: data, as: UTF8.self)
                var lines: [(Int, Substring)] = []
                var count = 0
                var number = 0
                for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                    number += 1
                    let string = String(line)
                    let range = NSRange(location: 0, length: string.utf16.count)
                    if regex.expression.firstMatch(in: string, range: range) != nil {
                        count += 1
                        if mode == .content { lines.append((number, line)) }
                    }
                    if number % 4096 == 0 { try cancellation.check() }
                }
                if count > 0 {
                    results.append(FileResult(
                        relativePath: workspace.relativePath(of: path) ?? path, modified: modified, lines: lines,
                        count: count))
                }
            }

            if target.isDirectory {
                try FileTree.walk(target.path, cancellation: cancellation) { entry in
                    if !entry.isSymlink {
                        try search(entry.path, size: entry.size, modified: entry.modified, filterPath: entry.relativePath)
                    }
                    return true
                }
            } else {
                var info = stat()
                _ = stat(target.path, &info)
                try search(
                    target.path, size: Int(info.st_size), modified: 0,
                    filterPath: (target.path as NSString).lastPathComponent)
            }

            guard !results.isEmpty else {
                return .success("No matches found" + Self.skippedNote(skippedLarge))
            }
            var entries: [String]
            var header: String?
            switch mode {
            case .filesWithMatches:
                results.sort { $0.modified != $1.modified ? $0.modified > $1.modified : $0.relativePath < $1.relativePath }
                header = "Found \(results.count) file\(results.count == 1 ? "" : "s")"
                entries = results.map(\.relativePath)
            case .content:
                results.sort { $0.relativePath < $1.relativePath }
                entries = results.flatMap { result in
                    result.lines.map { number, line in
                        let text = line.count > ReadTool.maxLineLength
                            ? String(line.prefix(ReadTool.maxLineLength)) + " [line truncated]" : String(line)
                        return showLineNumbers ? "\(result.relativePath):\(number):\(text)" : "\(result.relativePath):\(text)"
                    }
                }
            case .count:
                results.sort { $0.relativePath < $1.relativePath }
                let total = results.reduce(0) { $0 + $1.count }
                header = "Found \(total) matching line\(total == 1 ? "" : "s") in \(results.count) file\(results.count == 1 ? "" : "s")"
                entries = results.map { "\($0.relativePath):\($0.count)" }
            }
            var note = ""
            if let headLimit, entries.count > headLimit {
                note = "\n[showing the first \(headLimit) of \(entries.count) entries (head_limit)]"
                entries = Array(entries.prefix(headLimit))
            }
            let body = ([header].compactMap { $0 } + entries).joined(separator: "\n")
            return .success((body + note + Self.skippedNote(skippedLarge)).capped(at: cap))
        }
    }

    private static func skippedNote(_ count: Int) -> String {
        count == 0 ? "" : "\n[\(count) file\(count == 1 ? "" : "s") larger than \(maxFileBytes >> 20) MiB skipped]"
    }
}
