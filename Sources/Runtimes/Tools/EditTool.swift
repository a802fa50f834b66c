import BosunProtocol
import Foundation
import Glibc
import LLM

/// Claude Code's `Edit`: exact string replacement in a text file. `old_string` must occur
/// exactly once unless `replace_all` is set; matching is byte for byte (no Unicode
/// normalisation, CR LF stays CR LF). An empty `old_string` creates a file that does not exist
/// yet (or fills an empty one) with `new_string`.
public struct EditTool: BuiltInTool {
    /// Lines of context shown around the first change.
    static let snippetContext = 3

    public init() {}

    public var isReadOnly: Bool { false }

    public var spec: ToolSpec {
        ToolSpec(
            name: "Edit",
            description: """
                Replaces exact text in a file of the workspace. old_string must match the file exactly \
                (including indentation) and must occur exactly once, unless replace_all is true, which \
                replaces every occurrence. Read the file first. With an empty old_string, creates a new \
                file containing new_string.
                """,
            inputSchema: [
                "type": "object",
                "properties": [
                    "file_path": ["type": "string", "description": "The path of the file to modify"],
                    "old_string": ["type": "string", "description": "The text to replace"],
                    "new_string": [
                        "type": "string",
                        "description": "The text to replace it with (must be different from old_string)",
                    ],
                    "replace_all": [
                        "type": "boolean", "default": false,
                        "description": "Replace all occurrences of old_string (default false)",
                    ],
                ],
                "required": ["file_path", "old_string", "new_string"],
                "additionalProperties": false,
            ])
    }

    func perform(_ arguments: ToolArguments, in context: ToolContext) async throws -> ToolOutput {
        let filePath = try arguments.string("file_path")
        let oldString = try arguments.string("old_string")
        let newString = try arguments.string("new_string")
        let replaceAll = try arguments.optionalBool("replace_all") ?? false
        guard oldString != newString else {
            throw ToolFailure("old_string and new_string are the same; there is nothing to change")
        }
        let workspace = context.workspace
        return try await BlockingIO.run { _ in
            let path = try workspace.resolve(filePath, forWriting: true)
            let shown = workspace.relativePath(of: path) ?? filePath
            guard FileAccess.kind(of: path) != nil else {
                guard oldString.isEmpty else { throw ToolFailure("File does not exist: \(filePath)") }
                try FileAccess.createParentDirectories(of: path, display: filePath)
                try FileAccess.write(Data(newString.utf8), to: path, display: filePath)
                return .success("Created \(shown) with \(newString.utf8.count) bytes.")
            }
            let data = try FileAccess.read(path, display: filePath, maxBytes: ReadTool.maxFileBytes)
            if FileAccess.isBinary(data) { throw ToolFailure("\(filePath) is a binary file; Edit changes text files only") }
            if oldString.isEmpty {
                guard data.isEmpty else {
                    throw ToolFailure("old_string is empty but \(filePath) is not; give the text to replace")
                }
                try FileAccess.write(Data(newString.utf8), to: path, display: filePath)
                return .success("Wrote \(newString.utf8.count) bytes to the empty file \(shown).")
            }
            let haystack = [UInt8](data)
            let needle = Array(oldString.utf8)
            let matches = Self.occurrences(of: needle, in: haystack)
            if matches.isEmpty {
                throw ToolFailure("old_string was not found in \(filePath); it must match the file exactly, including whitespace")
            }
            if matches.count > 1, !replaceAll {
                throw ToolFailure(
                    "old_string occurs \(matches.count) times in \(filePath); add surrounding lines to make it "
                        + "unique, or set replace_all to true to replace every occurrence")
            }
            let replacement = Array(newString.utf8)
            var result: [UInt8] = []
            result.reserveCapacity(haystack.count + matches.count * (replacement.count - needle.count))
            var position = 0
            for start in matches {
                result.append(contentsOf: haystack[position..<start])
                result.append(contentsOf: replacement)
                position = start + needle.count
            }
            result.append(contentsOf: haystack[position...])
            try FileAccess.write(Data(result), to: path, display: filePath)

            let count = matches.count
            let summary = "Edited \(shown): replaced \(count) occurrence\(count == 1 ? "" : "s") of old_string."
            let snippet = Self.snippet(result, changeStart: matches[0], changeLength: replacement.count)
            return .success(summary + "\n" + snippet)
        }
    }

    /// Start offsets of the non-overlapping occurrences of `needle`, left to right.
    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        guard !needle.isEmpty, needle.count <= haystack.count else { return [] }
        var found: [Int] = []
        haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pin in
                let base = hay.baseAddress!
                let first = Int32(pin[0])
                var offset = 0
                // memchr finds candidates for the first byte, memcmp confirms them.
                while offset + pin.count <= hay.count,
                      let hit = memchr(base + offset, first, hay.count - offset - pin.count + 1)
                {
                    let start = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(hit, pin.baseAddress!, pin.count) == 0 {
                        found.append(start)
                        offset = start + pin.count
                    } else {
                        offset = start + 1
                    }
                }
            }
        }
        return found
    }

    /// The edited region, numbered like Read, with a few lines around it.
    static func snippet(_ content: [UInt8], changeStart: Int, changeLength: Int) -> String {
        let firstLine = content[..<changeStart].reduce(0) { $0 + ($1 == 10 ? 1 : 0) } + 1
        let changedLines = content[changeStart..<(changeStart + changeLength)].reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        var lines = String(decoding: content, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if content.last == 10 { lines.removeLast() }
        guard !lines.isEmpty else { return "(the file is now empty)" }
        let from = max(1, firstLine - snippetContext)
        let to = min(lines.count, firstLine + changedLines + snippetContext)
        guard from <= to else { return "" }
        return (from...to).map { ReadTool.numbered($0, lines[$0 - 1]) }.joined().trimmingTrailingNewlines
    }
}
