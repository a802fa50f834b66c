import AsyncHTTPClient
import BosunProtocol
import Foundation
import LLM
import Logging
import MCP
import Runtimes
import Sandbox
import ScriptedLLM
import Testing

/// Collects a turn's events in memory, as the worker's event streamer would deliver them.
actor RecordingEventSink: TurnEventSink {
    private(set) var events: [(type: String, data: JSONValue)] = []
    /// How many `record` calls (durable ledger writes) were made.
    private(set) var recorded = 0

    func emit(_ type: String, _ data: JSONValue) async { events.append((type, data)) }

    func record(_ type: String, _ data: JSONValue) async throws {
        events.append((type, data))
        recorded += 1
    }

    func types() -> [String] { events.map(\.type) }
    func data(_ type: String) -> [JSONValue] { events.filter { $0.type == type }.map(\.data) }
}

/// One turn of a real runtime against the real scripted LLM server over HTTP, in a fresh
/// workspace with real task processes.
struct RuntimeHarness {
    let server: ScriptedLLMServer
    let workspace: String
    let events = RecordingEventSink()
    let processes: TaskProcesses
    /// The real `default` profile and helper: tool processes in these tests run sandboxed, as on a worker.
    let sandbox: PreparedSandbox

    static let logger: Logger = {
        var logger = Logger(label: "runtime-tests")
        logger.logLevel = .critical
        return logger
    }()
    static let pricing: PricingTable = [
        "openai/gpt-4o-mini": ModelPrice(inputPerMtok: 0.15, outputPerMtok: 0.6),
        "anthropic/claude-sonnet-4": ModelPrice(
            inputPerMtok: 3, outputPerMtok: 15, cacheReadPerMtok: 0.3, cacheWritePerMtok: 3.75),
    ]

    /// `script` is the scripted server's JSON script.
    static func start(script: String?, secrets: SecretDirectory? = nil) async throws -> RuntimeHarness {
        let parsed = try script.map { try JSONDecoder().decode(ScriptedLLMScript.self, from: Data($0.utf8)) }
        let server = try await ScriptedLLMServer.start(script: parsed, logger: logger)
        let workspace = FileManager.default.temporaryDirectory
            .appendingPathComponent("bosun-runtime-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        let sandbox = try PreparedSandbox.prepare(
            "default", installation: installation, directory: workspace + "-sandbox")
        return RuntimeHarness(
            server: server, workspace: workspace,
            processes: TaskProcesses(killGrace: .milliseconds(200), secrets: secrets), sandbox: sandbox)
    }

    /// The helper next to the test bundle, the profiles of this checkout.
    static var installation: SandboxInstallation {
        let products = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return SandboxInstallation(
            helper: products.appendingPathComponent("bosun-sandbox").path,
            profilesDirectory: root.appendingPathComponent("sandbox-profiles").path)
    }

    func stop() async {
        await processes.finish()
        await server.stop()
        try? FileManager.default.removeItem(atPath: workspace)
        try? FileManager.default.removeItem(atPath: workspace + "-sandbox")
    }

    var access: LLMAccess {
        LLMAccess(
            httpClient: .shared, apiKey: "sk-test", pricing: Self.pricing, requestTimeout: .seconds(10), maxRetries: 2,
            retryBaseDelay: .milliseconds(20), retryMaxDelay: .milliseconds(200))
    }

    var settings: LLMSettings { LLMSettings(baseUrl: server.url, defaultModel: nil, fallbacks: []) }

    static func agent(
        runtime: String, model: String? = nil, tools: [JSONValue] = [], limits: [String: JSONValue] = [:],
        settings: [String: JSONValue] = [:], instructions: String = "Be brief."
    ) -> AgentSpec {
        AgentSpec(
            id: UUID(), name: "agent", runtime: runtime,
            model: model ?? (runtime == "agno" ? "openai/gpt-4o-mini" : "anthropic/claude-sonnet-4"),
            instructions: instructions, tools: tools, mcpServers: [:], sandboxProfile: "default", limits: limits,
            settings: settings)
    }

    static func assignment(
        agent: AgentSpec, input: JSONValue, turn: Int = 1, attempt: Int = 1, history: [TurnHistory] = [],
        ledger: [JSONValue] = [], policies: [PolicySnapshot] = [], usageSoFar: UsageSoFar? = nil
    ) -> TaskAssignment {
        TaskAssignment(
            id: UUID(), executionId: UUID(), organizationId: UUID(), queueId: UUID(), turn: turn, attempt: attempt,
            maxAttempts: 3, lease: Lease(id: UUID(), expiresAt: Date().addingTimeInterval(60), durationS: 60, renewIntervalS: 20),
            agent: agent, input: input, history: history, ledger: ledger, policies: policies, usageSoFar: usageSoFar)
    }

    func run(_ runtime: any Runtime, _ assignment: TaskAssignment, llm: LLMSettings? = nil) async throws -> TurnResult {
        let context = TurnContext(
            assignment: assignment, workspace: workspace, events: events, processes: processes, llm: llm ?? settings,
            sandbox: sandbox, logger: Self.logger)
        return try await runtime.runTurn(context)
    }

    func requests() async -> [ScriptedLLMRequest] { await server.requests() }
}

extension ChatMessage {
    init(_ json: JSONValue) throws {
        self = try JSONDecoder().decode(ChatMessage.self, from: JSONEncoder().encode(json))
    }
}
