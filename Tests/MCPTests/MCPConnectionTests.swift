import BosunProtocol
import BosunSystem
import Foundation
import Testing
@testable import MCP

@Suite struct MCPConnectionTests {
    @Test func legacyHandshakeProbesDiscoverThenInitializes() async throws {
        let log = TestServers.tempFile("log")
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: log))
        let connection = try await supervisor.connection()
        #expect(await connection.protocolVersion == "2025-11-25")
        await supervisor.stop()
        let methods = TestServers.received(log).compactMap { $0["method"]?.stringValue }
        #expect(Array(methods.prefix(3)) == ["server/discover", "initialize", "notifications/initialized"])
    }

    @Test func statelessRevisionSkipsInitializeAndSendsMeta() async throws {
        let log = TestServers.tempFile("log")
        let supervisor = TestServers.supervisor(TestServers.raw("stateless", log: log))
        let connection = try await supervisor.connection()
        #expect(await connection.protocolVersion == "2026-07-28")
        let tools = try await supervisor.listTools()
        #expect(tools.count == 10)
        await supervisor.stop()
        let messages = TestServers.received(log)
        #expect(!messages.contains { $0["method"]?.stringValue == "initialize" })
        let list = try #require(messages.first { $0["method"]?.stringValue == "tools/list" })
        #expect(list["params"]?["_meta"]?["protocolVersion"]?.stringValue == "2026-07-28")
        #expect(list["params"]?["_meta"]?["io.modelcontextprotocol/protocolVersion"]?.stringValue == "2026-07-28")
    }

    @Test func unsupportedVersionDisconnectsWithClearError() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("bad_version", log: TestServers.tempFile("log"))) {
            $0.maxRestarts = 0
        }
        await #expect {
            try await supervisor.connection()
        } throws: { error in
            (error as? MCPError)?.code == .unsupportedProtocolVersion
                && "\(error)".contains("1999-01-01")
        }
        await supervisor.stop()
    }

    @Test func paginatedToolsListFollowsNextCursor() async throws {
        let log = TestServers.tempFile("log")
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: log))
        let tools = try await supervisor.listTools()
        #expect(tools.map(\.name).prefix(3) == ["echo", "env", "garbage"])
        #expect(tools.count == 10)
        #expect(tools.last?.outputSchema != nil)
        await supervisor.stop()
        let cursors = TestServers.received(log).filter { $0["method"]?.stringValue == "tools/list" }
            .map { $0["params"]?["cursor"]?.stringValue }
        #expect(cursors == [nil, "4", "8"])
    }

    @Test func garbageStdoutIsIgnored() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: TestServers.tempFile("log")))
        let result = try await supervisor.callTool("garbage", arguments: .object([:]))
        #expect(result.renderedText == "after garbage")
        let again = try await supervisor.callTool("echo", arguments: .object(["text": .string("still fine")]))
        #expect(again.renderedText == "still fine")
        let connection = try await supervisor.connection()
        #expect(connection.ignoredLineCount >= 3)
        await supervisor.stop()
    }

    @Test func timeoutSendsCancelledAndFails() async throws {
        let log = TestServers.tempFile("log")
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: log))
        _ = try await supervisor.listTools()
        let started = ContinuousClock.now
        await #expect {
            _ = try await supervisor.callTool("hang", arguments: .object([:]), timeout: .milliseconds(300))
        } throws: { ($0 as? MCPError)?.code == .timedOut }
        // Loose bounds here and below: a loaded 2-core machine is slow, a hang is for ever.
        #expect(ContinuousClock.now - started < .seconds(5))
        // The connection still works afterwards.
        let echo = try await supervisor.callTool("echo", arguments: .object(["text": .string("x")]))
        #expect(echo.renderedText == "x")
        await supervisor.stop()
        let messages = TestServers.received(log)
        let call = try #require(messages.first { $0["params"]?["name"]?.stringValue == "hang" })
        let cancelled = try #require(messages.first { $0["method"]?.stringValue == "notifications/cancelled" })
        #expect(cancelled["params"]?["requestId"] == call["id"])
        #expect(cancelled["params"]?["reason"]?.stringValue?.contains("timed out") == true)
    }

    @Test func cancellingTheCallerSendsCancelled() async throws {
        let log = TestServers.tempFile("log")
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: log))
        _ = try await supervisor.listTools()
        let call = Task { try await supervisor.callTool("hang", arguments: .object([:])) }
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        call.cancel()
        await #expect { _ = try await call.value } throws: { ($0 as? MCPError)?.code == .cancelled }
        #expect(ContinuousClock.now - started < .seconds(2))
        await supervisor.stop()
        let cancelled = TestServers.received(log).first { $0["method"]?.stringValue == "notifications/cancelled" }
        #expect(cancelled?["params"]?["reason"]?.stringValue?.contains("cancelled") == true)
    }

    @Test func progressExtendsTheTimeoutUpToTheHardLimit() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: TestServers.tempFile("log"))) {
            $0.connection.maxProgressTimeout = .milliseconds(900)
        }
        _ = try await supervisor.listTools()
        // 4 progress steps 0.25 s apart with a 0.5 s timeout: only progress keeps it alive.
        let result = try await supervisor.callTool(
            "progress", arguments: .object(["steps": .number(3), "interval": .number(0.25)]), timeout: .milliseconds(500))
        #expect(result.renderedText == "progress done")
        // 40 steps would run 10 s: the 0.9 s hard limit ends it.
        let started = ContinuousClock.now
        await #expect {
            _ = try await supervisor.callTool(
                "progress", arguments: .object(["steps": .number(40), "interval": .number(0.25)]), timeout: .milliseconds(500))
        } throws: { ($0 as? MCPError)?.code == .timedOut }
        #expect(ContinuousClock.now - started < .seconds(5))
        await supervisor.stop()
    }

    @Test func answersServerPingAndRefusesOtherRequests() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: TestServers.tempFile("log")))
        let result = try await supervisor.callTool("ping_client", arguments: .object([:]))
        let answers = try JSONDecoder().decode(JSONValue.self, from: Data(result.renderedText.utf8))
        #expect(answers.arrayValue?[0]["result"] == .object([:]))
        #expect(answers.arrayValue?[1]["error"]?["code"] == .number(-32601))
        await supervisor.stop()
    }

    @Test func listChangedMakesTheNextListAskAgain() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: TestServers.tempFile("log")))
        #expect(try await supervisor.listTools().count == 10)
        #expect(try await supervisor.listTools().count == 10)
        _ = try await supervisor.callTool("list_changed", arguments: .object([:]))
        let connection = try await supervisor.connection()
        #expect(connection.toolsStale)
        #expect(try await supervisor.listTools().contains { $0.name == "added" })
        await supervisor.stop()
    }

    @Test func contentBlocksAreTypedAndUnknownOnesKept() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: TestServers.tempFile("log")))
        let result = try await supervisor.callTool("blocks", arguments: .object([:]))
        #expect(!result.isError)
        #expect(result.content.count == 6)
        #expect(result.content[0] == .text("hello"))
        #expect(result.content[1] == .image(data: "aGVsbG8=", mimeType: "image/png"))
        guard case .unknown(let json) = result.content[5] else {
            Issue.record("unknown block not kept")
            return
        }
        #expect(json["frames"] == .number(3))
        #expect(result.renderedText == """
            hello
            [image: image/png, 5 bytes]
            [audio: audio/wav, 3 bytes]
            [resource link: file:///a.txt (a)]
            [resource: file:///b.txt]
            bee
            [unsupported content block: hologram]
            """)
        await supervisor.stop()
    }

    @Test func structuredContentIsValidatedAgainstOutputSchema() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: TestServers.tempFile("log")))
        let good = try await supervisor.callTool("structured", arguments: .object(["n": .number(4)]))
        #expect(!good.isError)
        #expect(good.structuredContent == .object(["n": .number(4)]))
        let bad = try await supervisor.callTool("structured", arguments: .object(["n": .string("four")]))
        #expect(bad.isError)
        #expect(!bad.schemaViolations.isEmpty)
        #expect(bad.renderedText.contains("does not match its output schema"))
        await supervisor.stop()
    }

    @Test func rpcErrorIsThrownDistinctly() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: TestServers.tempFile("log")))
        await #expect {
            _ = try await supervisor.callTool("no_such_tool", arguments: .object([:]))
        } throws: { error in
            let error = error as? MCPError
            return error?.code == .rpcError && error?.rpcCode == -32602
        }
        await supervisor.stop()
    }

    @Test func crashMidCallFailsAtOnceAndSupervisorRestarts() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: TestServers.tempFile("log")))
        _ = try await supervisor.listTools()
        let started = ContinuousClock.now
        await #expect {
            _ = try await supervisor.callTool("crash", arguments: .object([:]), timeout: .seconds(20))
        } throws: { error in
            (error as? MCPError)?.code == .serverExited && "\(error)".contains("about to crash")
        }
        // At once, not at the call's 20 s timeout.
        #expect(ContinuousClock.now - started < .seconds(5))
        let echo = try await supervisor.callTool("echo", arguments: .object(["text": .string("back")]))
        #expect(echo.renderedText == "back")
        #expect(await supervisor.launchCount == 2)
        await supervisor.stop()
    }

    @Test func supervisorGivesUpAfterBoundedRestarts() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("legacy", log: TestServers.tempFile("log"))) {
            $0.maxRestarts = 2
            $0.initialBackoff = .milliseconds(20)
        }
        for _ in 0..<3 {
            _ = try? await supervisor.callTool("crash", arguments: .object([:]))
        }
        await #expect {
            _ = try await supervisor.callTool("echo", arguments: .object([:]))
        } throws: { ($0 as? MCPError)?.code == .serverFailed }
        #expect(await supervisor.launchCount == 3)
        await supervisor.stop()
    }

    @Test func silentServerTimesOutTheHandshake() async throws {
        let supervisor = TestServers.supervisor(TestServers.raw("silent", log: TestServers.tempFile("log"))) {
            $0.maxRestarts = 0
            $0.connection.requestTimeout = .milliseconds(300)
        }
        let started = ContinuousClock.now
        await #expect {
            try await supervisor.connection()
        } throws: { ($0 as? MCPError)?.code == .timedOut }
        // Python's start-up is part of it and slow on a loaded machine; what matters is that the
        // 300 ms timeout ends the handshake, far from the 30 s default or a hang.
        #expect(ContinuousClock.now - started < .seconds(10))
        await supervisor.stop()
    }

    @Test func secretsReachOnlyTheChildEnvironment() async throws {
        let server = TestServers.raw("legacy", log: TestServers.tempFile("log"), env: ["API_TOKEN": "tok-{{secret.TOKEN}}-x"])
        let supervisor = TestServers.supervisor(server, secrets: ["TOKEN": "s3cret"])
        let result = try await supervisor.callTool("env", arguments: .object(["name": .string("API_TOKEN")]))
        #expect(result.renderedText == "tok-s3cret-x")
        #expect(ProcessInfo.processInfo.environment["API_TOKEN"] == nil)
        await supervisor.stop()

        let missing = TestServers.supervisor(server, secrets: [:])
        await #expect {
            try await missing.connection()
        } throws: { error in
            (error as? MCPError)?.code == .unknownSecret && "\(error)".contains("TOKEN")
        }
        await missing.stop()
    }

    @Test func secretDirectoryReadsOnlyTheNamedFiles() throws {
        let directory = TestServers.tempFile("secrets")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "tok-1\n".write(toFile: directory + "/GITHUB_TOKEN", atomically: true, encoding: .utf8)
        try "line1\nline2".write(toFile: directory + "/multi", atomically: true, encoding: .utf8)
        try Data(count: SecretDirectory.maxValueBytes + 1).write(to: URL(fileURLWithPath: directory + "/huge"))
        let secrets = SecretDirectory(path: directory)
        try secrets.check()
        #expect(try secrets.values(for: ["GITHUB_TOKEN", "multi", "absent", "../etc/passwd", ".hidden"])
            == ["GITHUB_TOKEN": "tok-1", "multi": "line1\nline2"])
        #expect { try secrets.values(for: ["huge"]) } throws: { ($0 as? MCPError)?.code == .unknownSecret }
        #expect { try SecretDirectory(path: directory + "/nope").check() } throws: { _ in true }

        let config = MCPServerConfig(
            name: "gh", command: "x", args: [],
            env: ["A": "{{secret.GITHUB_TOKEN}}", "B": "x-{{ secret.multi }}-{{secret.absent}}", "C": "{{plain}}"])
        #expect(config.referencedSecrets == ["GITHUB_TOKEN", "multi", "absent"])
    }
}
