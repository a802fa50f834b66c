import ArgumentParser
import BosunProtocol
import Foundation

/// `bosun executions ...`
struct ExecutionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executions", abstract: "List, inspect, cancel and answer executions.",
        subcommands: [
            ExecutionsList.self, ExecutionsShow.self, ExecutionsFollow.self, ExecutionsCancel.self, ExecutionsReply.self,
            ExecutionsApprove.self, ExecutionsDeny.self,
        ])

    static func parseId(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw CLIError("'\(text)' is not an execution id (a UUID)", exit: .usage)
        }
        return id
    }
}

struct ExecutionsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List executions, newest first.")

    @OptionGroup var client: ClientOptions

    @Option(help: "Only executions with this status (queued, running, waiting_for_input, completed, failed, cancelled).")
    var status: String?

    @Option(help: "Only executions of this agent (name or id).")
    var agent: String?

    @Option(help: "At most this many (1 to 500).")
    var limit: Int = 50

    @Option(help: "Continue a listing from the cursor a previous page printed.")
    var cursor: String?

    func validate() throws {
        guard (1...500).contains(limit) else { throw ValidationError("--limit must be from 1 to 500") }
    }

    func run() async throws {
        let api = try client.client()
        let agentId = try await agent.asyncMap { try await AgentLookup(api: api).id(for: $0) }
        let query = APIPath.query([
            ("status", status), ("agent_id", agentId.map(APIPath.id)), ("limit", String(limit)), ("cursor", cursor),
        ])
        let reply = try await api.get("/api/v1/executions" + query)
        if client.json { return client.output.printJSON(reply.body) }
        let page = try reply.decode(ListReply<ExecutionView>.self)
        let names = try await AgentNames(api: api).all()
        client.output.printTable(
            ["ID", "AGENT", "STATUS", "TURNS", "CREATED", "INPUT"],
            page.items.map {
                [
                    Format.id($0.id), $0.agentId.map { names[$0] ?? Format.id($0) } ?? "-", $0.status,
                    $0.turnCount.map(String.init) ?? "-", Format.date($0.createdAt),
                    Format.short($0.input.map(Format.json) ?? "", limit: 40),
                ]
            }, empty: "no executions")
        if let next = page.nextCursor { Output.write("more: --cursor \(next)\n") }
    }
}

struct ExecutionsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show an execution and its state transitions.",
        discussion: "With --json: the execution's JSON with its transitions added under \"transitions\".")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The execution's id.") var execution: String

    func run() async throws {
        let id = try ExecutionsCommand.parseId(execution)
        let api = try client.client()
        let reply = try await api.get("/api/v1/executions/\(APIPath.id(id))")
        let transitionsReply = try await api.get("/api/v1/executions/\(APIPath.id(id))/transitions")
        if client.json {
            var object = (try? JSONValue(parsing: reply.body))?.objectValue ?? [:]
            object["transitions"] = (try? JSONValue(parsing: transitionsReply.body))?["items"] ?? .array([])
            return client.output.printJSON(Data(JSONValue.object(object).jsonString.utf8))
        }
        let found = try reply.decode(ExecutionView.self)
        let transitions = try transitionsReply.decode(ListReply<StateTransition>.self).items
        let agentName = try await found.agentId.asyncMap { try await AgentNames(api: api).all()[$0] }
        // The execution row has no totals (yet); its turn_completed events do.
        let turnUsage = found.usage == nil ? try await Self.turnUsage(api: api, execution: id) : nil
        client.output.printFields([
            ("id", Format.id(found.id)),
            ("status", found.status + (found.cancelRequested == true && !found.isTerminal ? " (cancel requested)" : "")),
            ("agent", found.agentId.map { id in agentName.flatMap { $0 }.map { "\($0) (\(Format.id(id)))" } ?? Format.id(id) }),
            ("queue", found.queueId.map(Format.id)),
            ("turns", found.turnCount.map(String.init)),
            ("input", found.input.map(Format.json)),
            ("output", found.output),
            ("error", found.error),
            ("usage", found.usage.map(Self.usage) ?? turnUsage.map(\.summary)),
            ("cost", (found.costUsd ?? turnUsage?.costUsd).map { String(format: "$%.6f", $0) }),
            ("created", found.createdAt.map(Format.date)),
            ("updated", found.updatedAt.map(Format.date)),
            ("completed", found.completedAt.map(Format.date)),
        ])
        guard !transitions.isEmpty else { return }
        Output.write("\ntransitions:\n")
        client.output.printTable(
            ["TIME", "TURN", "FROM", "TO", "DECIDER", "REASON"],
            transitions.map {
                [
                    Format.date($0.createdAt), $0.turn.map(String.init) ?? "-", $0.from, $0.to, $0.decider,
                    Format.short($0.reason, limit: 60),
                ]
            }, empty: "")
    }

    /// Usage and cost added up over the execution's `turn_completed` events; nil without any.
    static func turnUsage(api: ControlAPI, execution: UUID) async throws -> UsageTotal? {
        var total = UsageTotal()
        var turns = 0
        var after: Int64 = 0
        // Bounded: a page is up to 1000 events; 50 pages is far more than any execution here.
        for _ in 0..<50 {
            let page = try await api.get(
                "/api/v1/executions/\(APIPath.id(execution))/events?after=\(after)&limit=1000"
            ).decode(ExecutionEventPage.self)
            for event in page.events where event.type == "turn_completed" {
                total.add(UsageTotal(event.data))
                turns += 1
            }
            guard page.events.count == 1000, let next = page.events.last?.seq else { break }
            after = next
        }
        return turns > 0 ? total : nil
    }

    /// `input_tokens 12, output_tokens 30` from a usage object.
    static func usage(_ value: JSONValue) -> String {
        guard let object = value.objectValue else { return Format.json(value) }
        return object.keys.sorted().map { "\($0) \(object[$0].map(Format.json) ?? "")" }.joined(separator: ", ")
    }
}

struct ExecutionsCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel an execution.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The execution's id.") var execution: String

    func run() async throws {
        let id = try ExecutionsCommand.parseId(execution)
        let reply = try await client.client().send(.POST, "/api/v1/executions/\(APIPath.id(id))/cancel")
        if client.json { return client.output.printJSON(reply.body) }
        let found = try reply.decode(ExecutionView.self)
        // A running turn stops at its next lease renewal; until then the status stays running.
        Output.write(
            found.status == ExecutionStatusName.cancelled
                ? "cancelled \(Format.id(id))\n" : "cancel requested for \(Format.id(id)) (now \(found.status))\n")
    }
}

struct ExecutionsReply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reply", abstract: "Answer an execution that waits for input.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The execution's id.") var execution: String
    @Argument(help: "The reply.") var message: String

    func run() async throws {
        let id = try ExecutionsCommand.parseId(execution)
        let reply = try await client.client().post(
            "/api/v1/executions/\(APIPath.id(id))/messages", ExecutionMessageRequest(content: .string(message)))
        if client.json { return client.output.printJSON(reply.body) }
        let found = try reply.decode(ExecutionView.self)
        Output.write("replied to \(Format.id(id)) (now \(found.status))\n")
    }
}

/// Agent names for tables, fetched once.
struct AgentNames: Sendable {
    let api: ControlAPI

    func all() async throws -> [UUID: String] {
        let agents = try await api.get("/api/v1/agents").decode(ListReply<Agent>.self).items
        return Dictionary(agents.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }
}
