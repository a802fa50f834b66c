import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

@Suite struct KeyCommandTests {
    @Test func createListRevokeThenTheKeyIsRefused() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let cli = CLI(tenant: tenant)
        let name = "ci-\(UUID().uuidString.prefix(6))"

        let created = try await cli.run("keys", "create", "--name", name, "--scope", "user")
        #expect(created.exitCode == 0, "\(created)")
        #expect(created.stderr.contains("shown only this once"))
        let id = try uuid(after: "id:", in: created.stdout)
        let secretLine = try #require(created.stdout.split(separator: "\n").first { $0.hasPrefix("key:") })
        let secret = secretLine.dropFirst("key:".count).trimmingCharacters(in: .whitespaces)
        #expect(!secret.isEmpty)

        // The new key works.
        let withKey = CLI(server: try await TestServer.shared(), apiKey: secret)
        let agents = try await withKey.run("agents", "list")
        #expect(agents.exitCode == 0, "\(agents)")

        let list = try await cli.run("keys", "list")
        #expect(list.exitCode == 0, "\(list)")
        let row = try #require(list.stdout.split(separator: "\n").first { $0.contains(id.uuidString.lowercased()) })
        #expect(row.contains(name) && row.contains("user") && row.contains("active"))
        // Listings never show the secret.
        #expect(!list.stdout.contains(secret))

        let revoked = try await cli.run("keys", "revoke", id.uuidString.lowercased())
        #expect(revoked.exitCode == 0, "\(revoked)")
        let after = try await cli.json("keys", "list") as? [String: Any]
        let item = (after?["items"] as? [[String: Any]])?.first { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) == id }
        #expect(item?["revoked_at"] is String)

        let refused = try await withKey.run("agents", "list")
        #expect(refused.exitCode == 4, "\(refused)")
    }

    @Test func workerKeyNeedsAQueueAndTakesItsName() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let cli = CLI(tenant: tenant)
        let missing = try await cli.run("keys", "create", "--name", "w", "--scope", "worker")
        #expect(missing.exitCode == 2, "\(missing)")
        let queueName = try #require(
            try await tenant.admin.get("/api/v1/queues").decode(ItemList<TaskQueue>.self).items.first?.name)
        let created = try await cli.json("keys", "create", "--name", "w", "--scope", "worker", "--queue", queueName)
            as? [String: Any]
        #expect((created?["queue_id"] as? String).flatMap(UUID.init(uuidString:)) == tenant.queueId)
        #expect((created?["key"] as? String)?.isEmpty == false)
    }
}
