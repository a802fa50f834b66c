import ArgumentParser
import BosunControl
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `bosun`: the command line for operators and users: agents, runs, executions, workers,
/// queues, keys and policies against the control API, plus benchmarks and development tools.
@main
struct BosunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bosun",
        abstract: "Bosun's command line.",
        discussion: """
            Every API command takes --control-url (or BOSUN_CONTROL_URL, default \
            \(ClientConfiguration.defaultControlURL)) and --api-key (or BOSUN_API_KEY); either may \
            also come from a TOML file ($BOSUN_CONFIG, else ~/.config/bosun/config.toml) with \
            control_url and api_key. Flags beat the environment, which beats the file. --json prints \
            the API's JSON for scripts.

            Exit codes:
              0   success
              1   any other error
              2   usage error (bad arguments, missing API key, unreadable file)
              3   not found (404)
              4   not allowed (401, 403: a wrong, revoked or too weak key)
              5   conflict (409, e.g. replying to an execution that does not wait)
              6   control API unreachable, or it failed (5xx)
              run --follow only:
              10  the execution failed
              11  the execution was cancelled
              12  waiting for input or approval, and stdin is not a terminal
            """,
        subcommands: [
            AgentsCommand.self, RunCommand.self, ExecutionsCommand.self, WorkersCommand.self, QueuesCommand.self,
            KeysCommand.self, PoliciesCommand.self, Bench.self, Dev.self,
        ])

    /// ArgumentParser's own `main`, but with Bosun's exit codes: usage errors exit 2 (not 64),
    /// API errors print `bosun: <detail>` and exit with the code their HTTP status maps to.
    static func main() async {
        // The benchmarks host the control API in this process: run it on the executor
        // bosun-control runs on (BOSUN_CONCURRENCY_EXECUTOR), chosen before any async work.
        if CommandLine.arguments.dropFirst().first == "bench" {
            do {
                try ConcurrencyExecutor.fromEnvironment(ProcessInfo.processInfo.environment).install()
            } catch {
                Output.writeError("bosun: \(error)\n")
                Glibc.exit(CLIExit.usage.rawValue)
            }
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            Output.writeError("bosun: \(error.message)\n")
            Glibc.exit(error.exit.rawValue)
        } catch let request as CLIExitRequest {
            Glibc.exit(request.exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                Output.writeError(fullMessage(for: error) + "\n")
                Glibc.exit(CLIExit.usage.rawValue)
            }
            // Help, version and other clean exits, and errors of the benchmarks and dev tools.
            self.exit(withError: error)
        }
    }
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print numbers (build with -c release for real ones).",
        subcommands: [DispatchBenchmark.self, WorkerBenchmark.self, SandboxBenchmark.self, MCPBenchmark.self, EndToEndBenchmark.self])
}
