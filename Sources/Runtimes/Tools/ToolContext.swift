/// What a tool call may use: the workspace, the task's processes (so the worker's cancel stops
/// whatever a tool started), the launcher, the turn's todo list and the limits.
public struct ToolContext: Sendable {
    public var workspace: Workspace
    public var processes: TaskProcesses
    public var launcher: ToolProcessLauncher
    public var todos: TodoList
    /// Bash timeout when the call gives none (Claude Code: 2 minutes).
    public var bashDefaultTimeout: Duration
    /// The largest timeout a Bash call may ask for (Claude Code: 10 minutes); larger ones are
    /// clamped to it.
    public var bashMaxTimeout: Duration
    /// Tool output beyond this many characters is cut, with a note saying how much was left out.
    public var outputCap: Int
    /// Added to the task's environment for Bash commands and hooks.
    public var environment: [String: String]
    /// Files Glob and Grep skip because deny or ask rules scope reading them
    /// (`PermissionPolicy.searchExclusions`).
    public var searchExclusions: SearchExclusions

    public init(
        workspace: Workspace,
        processes: TaskProcesses,
        launcher: ToolProcessLauncher = ToolProcessLauncher(),
        todos: TodoList = TodoList(),
        bashDefaultTimeout: Duration = .seconds(120),
        bashMaxTimeout: Duration = .seconds(600),
        outputCap: Int = 30_000,
        environment: [String: String] = [:],
        searchExclusions: SearchExclusions = .none
    ) {
        self.workspace = workspace
        self.processes = processes
        self.launcher = launcher
        self.todos = todos
        self.bashDefaultTimeout = bashDefaultTimeout
        self.bashMaxTimeout = bashMaxTimeout
        self.outputCap = outputCap
        self.environment = environment
        self.searchExclusions = searchExclusions
    }
}
