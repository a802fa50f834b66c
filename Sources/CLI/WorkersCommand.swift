import ArgumentParser
import BosunProtocol
import Foundation

/// `bosun workers [list]`: the registered workers with their live state; `bosun workers drain ID`.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers", abstract: "List workers, or drain one.",
        subcommands: [WorkersList.self, WorkersDrain.self], defaultSubcommand: WorkersList.self)
}

/// `bosun workers drain ID`: the worker takes no new task, finishes the ones it runs, deregisters
/// and exits (the control API tells it through its next poll).
struct WorkersDrain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain", abstract: "Drain a worker: no new tasks; it finishes its running ones and stops.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The worker's id (see `bosun workers`).") var id: String

    func run() async throws {
        guard let workerId = UUID(uuidString: id) else { throw CLIError("'\(id)' is not a worker id (a UUID)", exit: .usage) }
        try await client.client().send(.POST, "/api/v1/workers/\(APIPath.id(workerId))/drain", body: Data("{}".utf8))
        if client.json { return client.output.printJSON(Data(#"{"draining":"\#(APIPath.id(workerId))"}"#.utf8)) }
        Output.write("draining \(APIPath.id(workerId)): it takes no new tasks and stops once its running ones finish\n")
    }
}

/// `bosun workers list` (the default): the registered workers with their live state.
struct WorkersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List workers: queue, state, slots, GPUs, last heartbeat.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let api = try client.client()
        let reply = try await api.get("/api/v1/workers")
        if client.json { return client.output.printJSON(reply.body) }
        let workers = try reply.decode(ListReply<WorkerInfo>.self).items
        let queues = try await ResourceLookup(api: api, kind: .queue).names()
        let now = Date()
        client.output.printTable(
            ["NAME", "ID", "QUEUE", "STATUS", "SLOTS", "GPUS", "HEARTBEAT"],
            workers.map {
                [
                    $0.hostname, Format.id($0.id), queues[$0.queueId] ?? Format.id($0.queueId), Self.status($0),
                    Self.slots($0), Self.gpus($0.fullHeartbeat),
                    Format.age($0.live?.lastHeartbeatAt ?? $0.lastSeenAt, now: now),
                ]
            }, empty: "no workers")
    }

    /// The heartbeat's state (idle, busy, draining) for an active worker, else its registry status.
    static func status(_ worker: WorkerInfo) -> String {
        guard worker.status == "active", let state = worker.live?.state, state != "unknown" else { return worker.status }
        return state
    }

    /// `used/total`: busy slots from the light heartbeat.
    static func slots(_ worker: WorkerInfo) -> String {
        let used = worker.live?.activeTasks ?? worker.live?.freeSlots.map { worker.slots - $0 }
        return "\(used.map(String.init) ?? "?")/\(worker.slots)"
    }

    /// From the latest full heartbeat: `none`, or `2: NVIDIA A100, NVIDIA A100`.
    static func gpus(_ heartbeat: JSONValue?) -> String {
        guard let report = heartbeat?["gpus"] else { return "-" }
        let devices = report["devices"]?.arrayValue ?? []
        if devices.isEmpty { return report["status"]?.stringValue == "unknown" ? "unknown" : "none" }
        let names = devices.map { $0["name"]?.stringValue ?? "?" }
        return "\(devices.count): " + names.joined(separator: ", ")
    }
}

/// `bosun queues`: the organization's task queues.
struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queues", abstract: "List task queues.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let api = try client.client()
        let reply = try await api.get("/api/v1/queues")
        if client.json { return client.output.printJSON(reply.body) }
        let queues = try reply.decode(ListReply<TaskQueue>.self).items
        let environments = try await ResourceLookup(api: api, kind: .environment).names()
        client.output.printTable(
            ["NAME", "ID", "ENVIRONMENT", "DESCRIPTION"],
            queues.map {
                [
                    $0.name, Format.id($0.id), $0.environmentId.map { environments[$0] ?? Format.id($0) } ?? "-",
                    Format.short($0.description ?? "", limit: 50),
                ]
            }, empty: "no queues")
    }
}
