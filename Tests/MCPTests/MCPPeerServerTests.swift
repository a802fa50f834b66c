import BosunProtocol
import Foundation
import LLM
import Testing
@testable import MCP

/// Real MCP servers nobody here wrote: PyPI's mcp-server-time and mcp-server-git, and a server
/// built on the official `mcp` 2.x SDK.
@Suite struct MCPPeerServerTests {
    @Test func timeServerAnswersGetCurrentTime() async throws {
        let supervisor = TestServers.supervisor(MCPServerConfig(name: "time", command: "mcp-server-time"))
        let tools = try await supervisor.listTools()
        #expect(tools.contains { $0.name == "get_current_time" })
        let result = try await supervisor.callTool(
            "get_current_time", arguments: .object(["timezone": .string("Europe/Berlin")]))
        #expect(!result.isError)
        let answer = try JSONDecoder().decode(JSONValue.self, from: Data(result.renderedText.utf8))
        #expect(answer["timezone"]?.stringValue == "Europe/Berlin")
        #expect(answer["datetime"]?.stringValue?.hasPrefix("20") == true)
        let connection = try await supervisor.connection()
        let version = try #require(await connection.protocolVersion)
        #expect(MCPConnection.acceptedProtocolVersions.contains(version) || version == MCPConnection.statelessProtocolVersion)
        await supervisor.stop()
    }

    @Test func sdkServerOverTheLegacyHandshake() async throws {
        let supervisor = TestServers.supervisor(
            MCPServerConfig(name: "sdk", command: "python3", args: ["\(TestServers.directory)/../../../scripts/bench/mcp_echo_server.py"])
        ) { $0.connection.probeStatelessRevision = false }
        let connection = try await supervisor.connection()
        #expect(await connection.protocolVersion == "2025-11-25")
        let echo = try await supervisor.callTool("echo", arguments: .object(["text": .string("legacy")]))
        #expect(echo.renderedText == "legacy")
        await supervisor.stop()
    }

    @Test func gitServerReportsStatusOfATempRepository() async throws {
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-git-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        git.arguments = ["init", "-q", repo]
        try git.run()
        git.waitUntilExit()
        try "hi\n".write(toFile: repo + "/untracked.txt", atomically: true, encoding: .utf8)

        let supervisor = TestServers.supervisor(
            MCPServerConfig(name: "git", command: "mcp-server-git", args: ["--repository", repo]))
        #expect(try await supervisor.listTools().contains { $0.name == "git_status" })
        let result = try await supervisor.callTool("git_status", arguments: .object(["repo_path": .string(repo)]))
        #expect(!result.isError)
        #expect(result.renderedText.contains("untracked.txt"))
        await supervisor.stop()
    }

    @Test func sdkServerToolsErrorsAndUnknownTool() async throws {
        let supervisor = TestServers.supervisor(
            MCPServerConfig(name: "sdk", command: "python3", args: ["\(TestServers.directory)/../../../scripts/bench/mcp_echo_server.py"]))
        #expect(try await supervisor.connection().protocolVersion == "2026-07-28")
        let tools = try await supervisor.listTools()
        #expect(Set(tools.map(\.name)) == ["echo", "add", "fail"])
        let sum = try await supervisor.callTool("add", arguments: .object(["a": .number(2), "b": .number(3)]))
        #expect(sum.renderedText == "5")
        let failed = try await supervisor.callTool("fail", arguments: .object(["message": .string("boom")]))
        #expect(failed.isError)
        #expect(failed.renderedText.contains("fail"))
        do {
            let unknown = try await supervisor.callTool("nope", arguments: .object([:]))
            // Some SDK versions report an unknown tool as an isError result rather than -32602.
            #expect(unknown.isError)
        } catch let error as MCPError {
            #expect(error.code == .rpcError)
        }
        await supervisor.stop()
    }
}
