import ArgumentParser
import BosunProtocol
import BosunSystem
import Foundation
import Glibc
import Logging
import MCP

/// `tools/call` round trips: Bosun's MCP client against the Python `mcp` SDK's client, on the
/// same Python echo server (scripts/bench/mcp_echo_server.py), one run each. Prints median, p99
/// and each client's own CPU per call (getrusage of the client process; the server is a child).
struct MCPBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp", abstract: "tools/call round trip and client CPU: Bosun's MCP client vs the Python SDK's.")

    @Option(help: "Calls to time (after 50 warm-up calls).")
    var calls: Int = 1000

    @Option(help: "The echo server (an MCP server with an `echo` tool).")
    var server: String = "scripts/bench/mcp_echo_server.py"

    @Option(help: "The Python SDK client benchmark; empty to skip the comparison.")
    var pythonClient: String = "scripts/bench/mcp_client_bench.py"

    @Option(help: "Protocol: 'auto' probes the stateless 2026-07-28 revision first; 'session' uses initialize (as the Python client does).")
    var protocolMode: String = "session"

    func validate() throws {
        guard ["auto", "session"].contains(protocolMode) else { throw ValidationError("--protocol-mode must be auto or session") }
        guard calls >= 100 else { throw ValidationError("--calls must be at least 100") }
    }

    func run() async throws {
        ProcessGroupLauncher.ignoreSIGPIPE()
        var logger = Logger(label: "bosun-bench-mcp")
        logger.logLevel = .error
        var configuration = MCPServerSupervisor.Configuration()
        configuration.connection.probeStatelessRevision = protocolMode == "auto"
        let supervisor = MCPServerSupervisor(
            server: MCPServerConfig(name: "echo", command: "python3", args: [server]),
            baseEnvironment: MCPToolbox.defaultBaseEnvironment, configuration: configuration, logger: logger)
        let connection = try await supervisor.connection()
        print("server: \(server) (protocol \(await connection.protocolVersion ?? "?"))")
        _ = try await supervisor.listTools()
        for _ in 0..<50 { _ = try await supervisor.callTool("echo", arguments: ["text": "warm"]) }

        var samples: [Double] = []
        samples.reserveCapacity(calls)
        let cpuBefore = Self.cpuSeconds()
        for index in 0..<calls {
            let start = ContinuousClock.now
            let result = try await supervisor.callTool("echo", arguments: ["text": .string("hello \(index)")])
            samples.append((ContinuousClock.now - start).milliseconds)
            guard result.renderedText == "hello \(index)" else {
                throw ValidationError("the echo server answered \(result.renderedText)")
            }
        }
        let cpu = Self.cpuSeconds() - cpuBefore
        await supervisor.stop()
        samples.sort()
        let bosun = (
            median: samples[samples.count / 2], p99: samples[min(samples.count - 1, samples.count * 99 / 100)],
            cpu: cpu / Double(calls) * 1e6
        )
        print(String(format: "bosun client:      median %.3f ms, p99 %.3f ms, client CPU %.0f us/call", bosun.median, bosun.p99, bosun.cpu))

        guard !pythonClient.isEmpty else { return }
        let child = try ChildProcess.spawn(
            executable: "/usr/bin/env", arguments: ["python3", pythonClient, server, String(calls)],
            environment: ProcessInfo.processInfo.environment, workingDirectory: nil)
        let output = await child.output()
        guard output.status == .exited(0),
            let line = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n").last,
            let python = try? JSONDecoder().decode([String: Double].self, from: Data(line.utf8)),
            let median = python["median_ms"], let p99 = python["p99_ms"], let pythonCPU = python["cpu_us_per_call"]
        else {
            print("python SDK client: failed (\(String(decoding: output.stderr, as: UTF8.self).suffix(300)))")
            throw ExitCode(1)
        }
        print(String(format: "python SDK client: median %.3f ms, p99 %.3f ms, client CPU %.0f us/call", median, p99, pythonCPU))
        print(String(format: "bosun / python: median %.2fx, p99 %.2fx, client CPU %.2fx", bosun.median / median, bosun.p99 / p99, bosun.cpu / pythonCPU))
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
    }
}
