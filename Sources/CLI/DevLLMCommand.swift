import ArgumentParser
import BosunLogging
import Foundation
import Logging
import ScriptedLLM

/// `bosun dev`: tools for development, tests and demos.
struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tools for development, tests and demos.",
        subcommands: [DevLLMCommand.self])
}

/// `bosun dev llm`: a scripted model provider on real HTTP, in place of LiteLLM, OpenAI or
/// Anthropic where none is reachable. Runs until SIGINT or SIGTERM.
struct DevLLMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm",
        abstract: "Run a scripted LLM server speaking OpenAI's and Anthropic's wire formats.",
        discussion: """
            Serves POST /v1/chat/completions (OpenAI, as LiteLLM's proxy) and POST /v1/messages \
            (Anthropic), streaming and not. Without --script every request gets a short fixed reply. \
            GET /_scripted/requests shows the request log, POST /_scripted/reset clears it and \
            restores the script, POST /_scripted/script replaces the script. One line with the URL \
            goes to standard output; each request is logged as a JSON line on standard error.
            """)

    @Option(help: "Port to listen on (0: a free port, printed on start).")
    var port: Int = 0

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Script of replies (JSON).")
    var script: String?

    @Option(help: "Answer only requests presenting this key (Authorization: Bearer K or x-api-key: K); others get 401.")
    var requireKey: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        BosunLogging.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .info, format: "json")
        let logger = Logger(label: "bosun-scripted-llm")
        // A script error names the file and the problem; it is not a usage error.
        let loaded = try script.map { try ScriptedLLMScript.load(path: $0) }
        let server = try await ScriptedLLMServer.start(
            host: host, port: port, script: loaded, requireKey: requireKey, stopOnSignals: true, logger: logger)
        let line = "scripted LLM listening on \(server.url) (openai: /v1/chat/completions, anthropic: /v1/messages)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        try await server.waitUntilStopped()
    }
}
