import ArgumentParser
import Foundation

/// `bosun executions follow ID`: `run --follow` for an execution that already exists.
struct ExecutionsFollow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow", abstract: "Follow an execution's events until it ends (as run --follow).",
        discussion: "Exit codes as for run --follow: 0 completed, 10 failed, 11 cancelled, 12 waiting and no terminal.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The execution's id.") var execution: String

    func run() async throws {
        let id = try ExecutionsCommand.parseId(execution)
        let follower = ExecutionFollower(
            api: try client.client(), executionId: id, json: client.json, interactive: Terminal.stdinIsTTY)
        let exit = try await follower.follow()
        if exit != .ok { throw CLIExitRequest(exit: exit) }
    }
}
