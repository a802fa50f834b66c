import BosunProtocol
import LLM

/// A tool the model can call. Built-ins (Read, Write, Edit, Glob, Grep, Bash, TodoWrite) and,
/// later, MCP tools share this shape; both runtimes (`claude_code`, `agno`) use it.
///
/// A tool never throws: every failure (bad arguments, a path outside the workspace, a missing
/// file, a failing command) becomes an `isError` output whose text tells the model what went
/// wrong, so the model can correct itself and the turn goes on.
public protocol AgentTool: Sendable {
    /// Name, description and JSON Schema of the arguments, as sent to the model.
    var spec: ToolSpec { get }
    /// True for tools that change nothing (Read, Glob, Grep, TodoWrite): the permission engine
    /// allows them in every mode unless a deny or ask rule says otherwise.
    var isReadOnly: Bool { get }
    func run(_ arguments: JSONValue, in context: ToolContext) async -> ToolOutput
}

extension AgentTool {
    public var name: String { spec.name }
}

/// The built-ins' shared plumbing: arguments are parsed into `ToolArguments`, and whatever
/// `perform` throws becomes an error output with a message for the model.
protocol BuiltInTool: AgentTool {
    func perform(_ arguments: ToolArguments, in context: ToolContext) async throws -> ToolOutput
}

extension BuiltInTool {
    public func run(_ arguments: JSONValue, in context: ToolContext) async -> ToolOutput {
        do {
            let parsed = try ToolArguments(arguments, tool: spec.name)
            return try await perform(parsed, in: context)
        } catch let error as ToolArgumentError {
            return .error("Invalid arguments for \(spec.name): \(error.message)")
        } catch let error as WorkspaceError {
            return .error(error.message)
        } catch let error as ToolFailure {
            return .error(error.message)
        } catch is CancellationError {
            return .error("\(spec.name) was cancelled")
        } catch {
            return .error("\(spec.name) failed: \(error)")
        }
    }
}
