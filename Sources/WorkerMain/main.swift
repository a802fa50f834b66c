import ArgumentParser
import WorkerCore

/// `bosun-worker`: the agent execution daemon. Its work loop arrives with the worker issue;
/// until then the command says so plainly instead of pretending to run.
@main
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bosun-worker",
        abstract: "Bosun's worker daemon (registration, long-poll loop, runtimes). Not implemented yet.")

    func run() throws {
        throw WorkerCore.notImplemented
    }
}
