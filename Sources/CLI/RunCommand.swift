import ArgumentParser
import BosunProtocol
import Foundation

/// `bosun run AGENT "prompt"`: submit an execution, and with --follow watch it to the end.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run an agent on a prompt.",
        discussion: """
            Without --follow it prints the execution's id and status and returns. With --follow it \
            streams the execution's events until it ends: exit code 0 completed, 10 failed, \
            11 cancelled. When the execution waits for input (or for a tool approval) and standard \
            input is a terminal, it asks (reply> or approve? [y/N]) and goes on following; \
            otherwise it exits with 12 and prints the command that answers it.
            """)

    @OptionGroup var client: ClientOptions

    @Argument(help: "The agent's name or id.")
    var agent: String

    @Argument(help: "The prompt: the execution's input.")
    var prompt: String

    @Option(help: "Run on this task queue (id or name): SPECIFIC_QUEUE routing.")
    var queue: String?

    @Option(help: "Run on a queue of this environment (id or name): ENVIRONMENT routing.")
    var environment: String?

    @Option(help: "Submitting twice with the same key starts the execution once.")
    var idempotencyKey: String?

    @Option(help: "What a message sent while a turn runs does: enqueue (default), interrupt or reject.")
    var messageStrategy: MessageStrategy?

    @Flag(help: "Follow the execution's events until it finishes.")
    var follow = false

    func validate() throws {
        if queue != nil && environment != nil { throw ValidationError("give --queue or --environment, not both") }
    }

    func run() async throws {
        let api = try client.client()
        let agentId = try await AgentLookup(api: api).id(for: agent)
        var routing = Routing.auto
        if let queue {
            routing = Routing(strategy: .specificQueue, queueId: try await ResourceLookup(api: api, kind: .queue).id(for: queue))
        } else if let environment {
            routing = Routing(
                strategy: .environment,
                environmentId: try await ResourceLookup(api: api, kind: .environment).id(for: environment))
        }
        let reply = try await api.post(
            "/api/v1/executions",
            CreateExecutionRequest(
                agentId: agentId, input: .string(prompt), routing: routing, idempotencyKey: idempotencyKey,
                messageStrategy: messageStrategy))
        let execution = try reply.decode(ExecutionView.self)
        guard follow else {
            if client.json { return client.output.printJSON(reply.body) }
            return client.output.printFields([("execution", Format.id(execution.id)), ("status", execution.status)])
        }
        // The id first, so a person (or a script reading stderr) can come back to it.
        if client.json {
            Output.writeError("execution \(Format.id(execution.id))\n")
        } else {
            Output.write("execution \(Format.id(execution.id))\n")
        }
        let follower = ExecutionFollower(
            api: api, executionId: execution.id, json: client.json, interactive: Terminal.stdinIsTTY)
        let exit = try await follower.follow()
        if exit != .ok { throw CLIExitRequest(exit: exit) }
    }
}

/// Queues and environments by id or name.
struct ResourceLookup: Sendable {
    enum Kind: String, Sendable {
        case queue = "queues"
        case environment = "environments"

        var noun: String { self == .queue ? "queue" : "environment" }
    }

    struct Named: Decodable, Sendable {
        var id: UUID
        var name: String
    }

    let api: ControlAPI
    let kind: Kind

    func id(for nameOrId: String) async throws -> UUID {
        if let id = UUID(uuidString: nameOrId) { return id }
        let items = try await api.get("/api/v1/\(kind.rawValue)").decode(ListReply<Named>.self).items
        guard let found = items.first(where: { $0.name == nameOrId }) else {
            throw CLIError("no \(kind.noun) named '\(nameOrId)'", exit: .notFound)
        }
        return found.id
    }

    /// id -> name, for tables.
    func names() async throws -> [UUID: String] {
        let items = try await api.get("/api/v1/\(kind.rawValue)").decode(ListReply<Named>.self).items
        return Dictionary(items.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }
}

extension MessageStrategy: ExpressibleByArgument {}
