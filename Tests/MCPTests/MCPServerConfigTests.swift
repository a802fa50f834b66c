import BosunProtocol
import Foundation
import Testing
@testable import MCP

@Suite struct MCPServerConfigTests {
    @Test func decodesClaudeCodeShape() throws {
        let json = try JSONDecoder().decode(JSONValue.self, from: Data("""
            {"mcpServers": {"time": {"command": "mcp-server-time"},
             "git": {"command": "uvx", "args": ["mcp-server-git"], "env": {"TOKEN": "{{secret.GH}}"}}}}
            """.utf8))
        let servers = try MCPServerConfig.servers(from: json)
        #expect(servers.map(\.name) == ["git", "time"])
        #expect(servers[0].args == ["mcp-server-git"])
        #expect(try servers[0].resolvedEnvironment(secrets: ["GH": "abc"]) == ["TOKEN": "abc"])
    }

    @Test func rejectsMalformedEntries() {
        #expect(throws: MCPError.self) { try MCPServerConfig.servers(from: .object(["x": .object([:])])) }
        #expect(throws: MCPError.self) {
            try MCPServerConfig.servers(from: .object(["x": .object(["command": .string("c"), "args": .string("a")])]))
        }
    }

    @Test func secretSubstitution() throws {
        let config = MCPServerConfig(name: "s", command: "c", env: [
            "A": "{{ secret.ONE }}:{{secret.TWO}}", "B": "{{not a secret}}", "C": "{{unclosed",
        ])
        let env = try config.resolvedEnvironment(secrets: ["ONE": "1", "TWO": "2"])
        #expect(env == ["A": "1:2", "B": "{{not a secret}}", "C": "{{unclosed"])
        #expect { try config.resolvedEnvironment(secrets: ["ONE": "1"]) } throws: { error in
            (error as? MCPError)?.code == .unknownSecret && "\(error)".contains("TWO")
        }
    }
}
