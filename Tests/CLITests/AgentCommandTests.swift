import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

@Suite struct AgentCommandTests {
    static let agentYAML = """
        # An agent as a user writes it.
        name: NAME
        runtime: agno
        model: openai/gpt-4o-mini
        instructions: |
          Be brief.
          Answer in one line.
        tools:
          - name: get_time
        mcp_servers:
          time:
            command: mcp-server-time
        sandbox_profile: strict
        limits:
          max_turns: 3
        """

    @Test func createFromYAMLThenListAndShow() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let cli = CLI(tenant: tenant)
        let name = "yaml-agent-\(UUID().uuidString.prefix(6))"
        let file = try temporaryFile("agent.yaml", Self.agentYAML.replacingOccurrences(of: "NAME", with: name))

        let created = try await cli.run("agents", "create", "-f", file)
        #expect(created.exitCode == 0, "\(created)")
        let id = try uuid(after: "created agent \(name) (", in: created.stdout)

        // The API holds what the YAML said, multi-line string and nested maps included.
        let agent = try await tenant.admin.get("/api/v1/agents/\(id.uuidString.lowercased())").decode(Agent.self)
        #expect(agent.name == name)
        #expect(agent.instructions == "Be brief.\nAnswer in one line.\n")
        #expect(agent.sandboxProfile == "strict")
        #expect(agent.limits["max_turns"] == 3)
        #expect(agent.mcpServers["time"]?["command"] == "mcp-server-time")

        let list = try await cli.run("agents", "list")
        #expect(list.exitCode == 0, "\(list)")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME") == true)
        let row = try #require(lines.first { $0.hasPrefix(name) })
        // Aligned columns: the ID column starts where its header does.
        let header = String(lines[0])
        let idColumn = try #require(header.range(of: "ID")).lowerBound.utf16Offset(in: header)
        #expect(String(row).dropFirst(idColumn).hasPrefix(id.uuidString.lowercased()))
        #expect(row.contains("agno") && row.contains("openai/gpt-4o-mini") && row.contains("strict"))

        let listJSON = try await cli.json("agents", "list") as? [String: Any]
        let items = try #require(listJSON?["items"] as? [[String: Any]])
        #expect(items.contains { $0["name"] as? String == name && ($0["id"] as? String).flatMap(UUID.init(uuidString:)) == id })

        // By name and by id, as a key: value block.
        for reference in [name, id.uuidString.lowercased()] {
            let show = try await cli.run("agents", "show", reference)
            #expect(show.exitCode == 0, "\(show)")
            #expect(show.stdout.contains("name:"))
            #expect(show.stdout.contains(id.uuidString.lowercased()))
            #expect(show.stdout.contains("mcp servers:"))
            #expect(show.stdout.contains("time"))
            #expect(show.stdout.contains("max_turns"))
        }
        let shown = try await cli.json("agents", "show", name) as? [String: Any]
        #expect(shown?["sandbox_profile"] as? String == "strict")
        #expect((shown?["limits"] as? [String: Any])?["max_turns"] as? Int == 3)
    }

    @Test func createFromJSONAndDuplicateIsAConflict() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let cli = CLI(tenant: tenant)
        let name = "json-agent-\(UUID().uuidString.prefix(6))"
        let file = try temporaryFile(
            "agent.json", #"{"name": "\#(name)", "runtime": "claude_code", "model": "anthropic/claude-sonnet-4"}"#)
        let first = try await cli.run("agents", "create", "-f", file, "--json")
        #expect(first.exitCode == 0, "\(first)")
        let created = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        #expect(created?["runtime"] as? String == "claude_code")
        // --json is pretty-printed for people reading script output too.
        #expect(first.stdout.contains("\n  \""))

        let again = try await cli.run("agents", "create", "-f", file)
        #expect(again.exitCode == 5, "\(again)")
        #expect(again.stderr.hasPrefix("bosun: "))
        #expect(again.stderr.contains("already exists"))
    }

    @Test func invalidDefinitionIsRejectedWithTheServersDetail() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let cli = CLI(tenant: tenant)
        let file = try temporaryFile("agent.yaml", "name: x\nruntime: agno\nmodel: m\ncolour: blue\n")
        let result = try await cli.run("agents", "create", "-f", file)
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.stderr.contains("colour"), "\(result)")

        let notYAML = try temporaryFile("agent.yaml", "name: [unclosed\n")
        let bad = try await cli.run("agents", "create", "-f", notYAML)
        #expect(bad.exitCode == 2, "\(bad)")
        #expect(bad.stderr.contains("not valid YAML"))
    }

    @Test func theExampleAgentFileIsAccepted() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/agent.example.yaml").path
        let result = try await CLI(tenant: tenant).run("agents", "create", "-f", example)
        #expect(result.exitCode == 0, "\(result)")
        let agent = try await tenant.admin.get("/api/v1/agents").decode(ItemList<Agent>.self).items.first
        #expect(agent?.name == "trip-planner")
        #expect(agent?.limits["max_turns"] == 5)
    }

    @Test func deleteByName() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let cli = CLI(tenant: tenant)
        let agent = try await tenant.createAgent()
        let deleted = try await cli.run("agents", "delete", agent.name)
        #expect(deleted.exitCode == 0, "\(deleted)")
        let reply = try await tenant.admin.get("/api/v1/agents/\(agent.id.uuidString.lowercased())")
        #expect(reply.status == 404)
        let again = try await cli.run("agents", "delete", agent.name)
        #expect(again.exitCode == 3, "\(again)")
    }
}
