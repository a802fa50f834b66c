import BosunProtocol
import Foundation
import LLM

/// Claude Code's `Write`: replaces or creates a file, creating missing parent directories
/// inside the workspace.
public struct WriteTool: BuiltInTool {
    public init() {}

    public var isReadOnly: Bool { false }

    public var spec: ToolSpec {
        ToolSpec(
            name: "Write",
            description: """
                Writes a file in the workspace, replacing it if it exists. file_path is absolute (inside \
                the workspace) or relative to the workspace root; missing parent directories are created. \
                Prefer Edit for changing part of an existing file.
                """,
            inputSchema: [
                "type": "object",
                "properties": [
                    "file_path": ["type": "string", "description": "The path of the file to write"],
                    "content": ["type": "string", "description": "The content to write to the file"],
                ],
                "required": ["file_path", "content"],
                "additionalProperties": false,
            ])
    }

    func perform(_ arguments: ToolArguments, in context: ToolContext) async throws -> ToolOutput {
        let filePath = try arguments.string("file_path")
        let content = try arguments.string("content")
        let workspace = context.workspace
        return try await BlockingIO.run { _ in
            let path = try workspace.resolve(filePath, forWriting: true)
            if path == workspace.realRoot || FileAccess.isDirectory(path) {
                throw ToolFailure("\(filePath) is a directory; give the path of a file")
            }
            let existed = FileAccess.kind(of: path) != nil
            try FileAccess.createParentDirectories(of: path, display: filePath)
            let data = Data(content.utf8)
            try FileAccess.write(data, to: path, display: filePath)
            let shown = workspace.relativePath(of: path) ?? filePath
            return .success("Wrote \(data.count) bytes to \(shown) (\(existed ? "replaced the existing file" : "new file")).")
        }
    }
}
