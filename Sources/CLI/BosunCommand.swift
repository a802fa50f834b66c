import ArgumentParser

/// `bosun`: the command line for operators and users. For now it carries the benchmarks and the
/// development tools (`bosun dev llm`, a scripted model provider); the
/// user-facing commands (agents, run, executions, workers, keys) arrive with the CLI issue.
@main
struct BosunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bosun",
        abstract: "Bosun's command line.",
        subcommands: [Bench.self, Dev.self])
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print numbers (build with -c release for real ones).",
        subcommands: [DispatchBenchmark.self, WorkerBenchmark.self, SandboxBenchmark.self, MCPBenchmark.self])
}
