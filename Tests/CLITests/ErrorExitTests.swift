import BosunProtocol
import BosunTestSupport
import Foundation
import Testing

/// The exit codes scripts rely on, and the configuration sources.
@Suite struct ErrorExitTests {
    @Test func notFoundIsExit3() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let cli = CLI(tenant: tenant)
        let missing = UUID().uuidString.lowercased()
        for arguments in [["agents", "show", missing], ["agents", "show", "no-such-agent"], ["executions", "show", missing]] {
            let result = try await cli.run(arguments)
            #expect(result.exitCode == 3, "\(arguments): \(result)")
            #expect(result.stderr.hasPrefix("bosun: "), "\(result)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func badKeyIsExit4() async throws {
        let server = try await TestServer.shared()
        let result = try await CLI(server: server, apiKey: "bsn_not_a_real_key").run("agents", "list")
        #expect(result.exitCode == 4, "\(result)")
        #expect(result.stderr.hasPrefix("bosun: "))
    }

    @Test func tooWeakKeyIsExit4() async throws {
        let tenant = try await Tenant.create(on: try await TestServer.shared())
        let userKey = try await tenant.createKey(scope: .user)
        // Listing keys needs admin.
        let result = try await CLI(server: try await TestServer.shared(), apiKey: userKey).run("keys", "list")
        #expect(result.exitCode == 4, "\(result)")
    }

    @Test func unreachableControlAPIIsExit6() async throws {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let result = try await CLIProcess.run(
            ["agents", "list", "--control-url", "http://127.0.0.1:1", "--api-key", "k"])
        #expect(result.exitCode == 6, "\(result)")
        #expect(result.stderr.contains("cannot reach the control API at http://127.0.0.1:1"))
    }

    @Test func missingKeySaysTheThreeWaysToGiveOne() async throws {
        let result = try await CLIProcess.run(["agents", "list"])
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stderr.contains("--api-key"))
        #expect(result.stderr.contains("BOSUN_API_KEY"))
        #expect(result.stderr.contains(".config/bosun/config.toml"))
    }

    @Test func usageErrorsExit2() async throws {
        let missingArgument = try await CLIProcess.run(["run", "--api-key", "k"])
        #expect(missingArgument.exitCode == 2, "\(missingArgument)")
        let unknownOption = try await CLIProcess.run(["agents", "list", "--no-such-option"])
        #expect(unknownOption.exitCode == 2, "\(unknownOption)")
        let badLevel = try await CLIProcess.run(
            ["policies", "create", "-f", try temporaryFile("p.yaml", "name: p\nlevel: galaxy\nrules: {}\n"), "--api-key", "k"])
        #expect(badLevel.exitCode == 2, "\(badLevel)")
        #expect(badLevel.stderr.contains("'level' must be one of organization, environment, team, agent"))
    }

    @Test func helpDocumentsTheExitCodes() async throws {
        let help = try await CLIProcess.run(["--help"])
        #expect(help.exitCode == 0)
        for line in ["3   not found", "4   not allowed", "6   control API unreachable", "12  waiting for input or approval"] {
            #expect(help.stdout.contains(line), "\(line) missing from:\n\(help.stdout)")
        }
    }

    @Test func configFileThenEnvironmentThenFlags() async throws {
        let server = try await TestServer.shared()
        let tenant = try await Tenant.create(on: server)
        let key = try #require(tenant.admin.token)
        let config = try temporaryFile(
            "config.toml", "# bosun CLI\ncontrol_url = \"\(server.baseURL)\"\napi_key = \"\(key)\"\n")

        // The file alone is enough.
        let fromFile = try await CLIProcess.run(["queues"], environment: ["BOSUN_CONFIG": config])
        #expect(fromFile.exitCode == 0, "\(fromFile)")
        #expect(fromFile.stdout.contains(tenant.queueId.uuidString.lowercased()))

        // The environment beats the file.
        let envBeatsFile = try await CLIProcess.run(
            ["queues"], environment: ["BOSUN_CONFIG": config, "BOSUN_CONTROL_URL": "http://127.0.0.1:1"])
        #expect(envBeatsFile.exitCode == 6, "\(envBeatsFile)")

        // A flag beats the environment.
        let flagBeatsEnv = try await CLIProcess.run(
            ["queues", "--control-url", server.baseURL],
            environment: ["BOSUN_CONFIG": config, "BOSUN_CONTROL_URL": "http://127.0.0.1:1"])
        #expect(flagBeatsEnv.exitCode == 0, "\(flagBeatsEnv)")
        let badFlagKey = try await CLIProcess.run(["queues", "--api-key", "bsn_wrong"], environment: ["BOSUN_CONFIG": config])
        #expect(badFlagKey.exitCode == 4, "\(badFlagKey)")

        // The default location under HOME.
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-home-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(
            at: home.appendingPathComponent(".config/bosun"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: config, toPath: home.appendingPathComponent(".config/bosun/config.toml").path)
        let fromHome = try await CLIProcess.run(["queues"], environment: ["HOME": home.path])
        #expect(fromHome.exitCode == 0, "\(fromHome)")
    }
}
