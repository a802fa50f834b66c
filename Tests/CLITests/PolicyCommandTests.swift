import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

@Suite struct PolicyCommandTests {
    @Test func createFromYAMLListShowThenAnExecutionIsDeniedAndDelete() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let cli = CLI(tenant: tenant)
        let agent = try await tenant.createAgent()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).yaml").path
        try """
            name: anthropic-only
            level: organization
            rules:
              models:
                allow: ["anthropic/*"]
              tools:
                deny: [Bash]
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let created = try await cli.json("policies", "create", "-f", file) as? [String: Any]
        let idText = try #require(created?["id"] as? String)
        let id = try #require(UUID(uuidString: idText))

        let list = try await cli.run("policies", "list")
        #expect(list.exitCode == 0, "\(list)")
        #expect(list.stdout.contains("anthropic-only") && list.stdout.contains("organization"))
        let shown = try await cli.json("policies", "show", id.uuidString.lowercased()) as? [String: Any]
        #expect(((shown?["rules"] as? [String: Any])?["tools"] as? [String: Any])?["deny"] as? [String] == ["Bash"])

        // The policy is in force: running the agent (an OpenAI model) is refused, exit 4, rule named.
        let run = try await cli.run("run", agent.name, "hello")
        #expect(run.exitCode == 4, "\(run)")
        #expect(run.stderr.contains("models.allow") || run.stderr.contains("not in the allowed models"), "\(run)")

        // A misspelt rule is refused with the key named.
        try "name: typo\nlevel: organization\nrules: {tools: {dney: [Bash]}}\n".write(toFile: file, atomically: true, encoding: .utf8)
        let typo = try await cli.run("policies", "create", "-f", file)
        #expect(typo.exitCode == 1, "\(typo)")
        #expect(typo.stderr.contains("rules.tools.dney"))

        #expect(try await cli.run("policies", "delete", id.uuidString.lowercased()).exitCode == 0)
        #expect(try await cli.run("policies", "show", id.uuidString.lowercased()).exitCode == 3)
        #expect(try await cli.run("run", agent.name, "hello").exitCode == 0)
    }
}
