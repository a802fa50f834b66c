import BosunProtocol
import Foundation
import LLM

/// Claude Code's `Glob`: files whose path (from `path`, default the workspace root) matches a
/// glob, newest first. Symlinks are listed but never followed; `.git` is skipped.
public struct GlobTool: BuiltInTool {
    public static let maxResults = 1000

    public init() {}

    public var isReadOnly: Bool { true }

    public var spec: ToolSpec {
        ToolSpec(
            name: "Glob",
            description: """
                Finds files by name pattern, e.g. "**/*.swift" or "src/**/*.{ts,tsx}". Supports *, **, ?, \
                [abc] and {a,b}. The pattern is matched against paths relative to path (default: the \
                workspace root); `*.ts` matches the top level only, `**/*.ts` any depth. Returns paths \
                relative to the workspace root, most recently modified first, at most \(Self.maxResults).
                """,
            inputSchema: [
                "type": "object",
                "properties": [
                    "pattern": ["type": "string", "description": "The glob pattern to match files against"],
                    "path": [
                        "type": "string",
                        "description": "The directory to search in (default: the workspace root)",
                    ],
                ],
                "required": ["pattern"],
                "additionalProperties": false,
            ])
    }

    func perform(_ arguments: ToolArguments, in context: ToolContext) async throws -> ToolOutput {
        let requestedPattern = try arguments.string("pattern")
        let directoryArgument = try arguments.optionalString("path")
        let workspace = context.workspace
        let exclusions = context.searchExclusions
        return try await BlockingIO.run { cancellation in
            var pattern = requestedPattern
            let directory = try SearchDirectory.resolve(directoryArgument, in: workspace)
            if pattern.hasPrefix("/") {
                // An absolute pattern is taken as relative to the search directory when it
                // starts with it; the model often repeats the directory in the pattern.
                let prefixes = [directory.path, directoryArgument ?? workspace.root].map { $0.hasSuffix("/") ? $0 : $0 + "/" }
                guard let prefix = prefixes.first(where: { pattern.hasPrefix($0) }) else {
                    throw ToolFailure(
                        "pattern \(pattern) is absolute; give a pattern relative to path (\(directoryArgument ?? "the workspace root"))")
                }
                pattern = String(pattern.dropFirst(prefix.count))
            }
            let glob: GlobPattern
            do {
                glob = try GlobPattern(glob: pattern)
            } catch let error as GlobPatternError {
                throw ToolFailure(error.description)
            }
            var start = directory.path
            var startRelative = ""
            for component in glob.literalPrefix {
                start += "/" + component
                startRelative += component + "/"
            }
            guard FileAccess.isDirectory(start) else { return .success("No files found") }

            var found: [FileTree.Entry] = []
            try FileTree.walk(start, cancellation: cancellation) { entry in
                if glob.matches(startRelative + entry.relativePath),
                   !exclusions.excludes(entry.path, tool: "Glob", in: workspace)
                {
                    found.append(entry)
                }
                return true
            }
            guard !found.isEmpty else { return .success("No files found") }
            found.sort { $0.modified != $1.modified ? $0.modified > $1.modified : $0.path < $1.path }
            var lines = found.prefix(Self.maxResults).map { workspace.relativePath(of: $0.path) ?? $0.path }
            if found.count > Self.maxResults {
                lines.append(
                    "[results truncated: showing \(Self.maxResults) of \(found.count) files; use a more specific pattern or path]")
            }
            return .success(lines.joined(separator: "\n").capped(at: context.outputCap))
        }
    }
}
