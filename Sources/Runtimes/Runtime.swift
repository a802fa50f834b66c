import BosunProtocol
import Foundation
import Logging
import Sandbox

/// A way of running one agent turn (`agno`, `claude_code`). The worker owns everything around
/// the turn — lease, events, cancellation, reporting — so a runtime only turns a context into a
/// result. Cancellation arrives as Swift task cancellation; the worker also stops the turn's
/// processes, so a runtime that waits on a child process is woken by its exit.
public protocol Runtime: Sendable {
    /// The runtime name agents use (`AgentSpec.runtime`).
    var name: String { get }
    var version: String { get }
    func runTurn(_ context: TurnContext) async throws -> TurnResult
}

/// A turn that failed; `retryable` says whether another attempt could succeed.
public struct TurnFailure: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let retryable: Bool

    public init(_ message: String, retryable: Bool) {
        self.message = message
        self.retryable = retryable
    }

    public var description: String { message }
}

/// Where a runtime's events go: in order, batched and delivered by the worker.
public protocol TurnEventSink: Sendable {
    /// Queues an event; it is delivered within the flush interval.
    func emit(_ type: String, _ data: JSONValue) async
    /// Queues an event and returns only once the control API has stored it (and everything
    /// before it). The tool ledger uses this: a tool's result is durable before the turn goes on.
    /// Throws when it cannot be delivered (the lease is gone).
    func record(_ type: String, _ data: JSONValue) async throws
}

/// Everything a runtime gets for one turn.
public struct TurnContext: Sendable {
    public let assignment: TaskAssignment
    /// The execution's workspace directory (created by the worker).
    public let workspace: String
    public let events: any TurnEventSink
    public let processes: TaskProcesses
    public let llm: LLMSettings
    /// The agent's sandbox profile, compiled: every tool process (Bash, hooks, MCP servers) runs
    /// under it. `nil` runs them unsandboxed, which only tests of the runtimes themselves do.
    public let sandbox: PreparedSandbox?
    public let logger: Logger

    public init(
        assignment: TaskAssignment, workspace: String, events: any TurnEventSink, processes: TaskProcesses,
        llm: LLMSettings, sandbox: PreparedSandbox?, logger: Logger
    ) {
        self.assignment = assignment
        self.workspace = workspace
        self.events = events
        self.processes = processes
        self.llm = llm
        self.sandbox = sandbox
        self.logger = logger
    }
}
