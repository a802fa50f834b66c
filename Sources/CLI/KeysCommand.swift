import ArgumentParser
import BosunProtocol
import Foundation

/// `bosun keys ...`: API keys (admin only).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list and revoke API keys.",
        subcommands: [KeysCreate.self, KeysList.self, KeysRevoke.self])
}

// The scope type is the wire contract's; parsing it as an argument is this CLI's business.
extension APIKeyScope: ExpressibleByArgument {}

struct KeysCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create an API key; its secret is printed once.")

    @OptionGroup var client: ClientOptions

    @Option(help: "A name to recognise the key by.")
    var name: String

    @Option(help: "admin, user or worker.")
    var scope: APIKeyScope

    @Option(help: "The queue a worker key is bound to (id or name); worker keys only.")
    var queue: String?

    func validate() throws {
        if scope == .worker && queue == nil { throw ValidationError("a worker key needs --queue") }
        if scope != .worker && queue != nil { throw ValidationError("only worker keys take --queue") }
    }

    func run() async throws {
        let api = try client.client()
        let queueId = try await queue.asyncMap { try await ResourceLookup(api: api, kind: .queue).id(for: $0) }
        let reply = try await api.post(
            "/api/v1/api-keys", CreateAPIKeyRequest(name: name, scope: scope, queueId: queueId))
        if client.json { return client.output.printJSON(reply.body) }
        let created = try reply.decode(CreatedAPIKey.self)
        client.output.printFields([
            ("id", Format.id(created.apiKey.id)),
            ("name", created.apiKey.name),
            ("scope", created.apiKey.scope.rawValue),
            ("queue", created.apiKey.queueId.map(Format.id)),
            ("key", created.key),
        ])
        Output.writeError("warning: the key is shown only this once; store it now\n")
    }
}

struct KeysList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List API keys (never their secrets).")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let api = try client.client()
        let reply = try await api.get("/api/v1/api-keys")
        if client.json { return client.output.printJSON(reply.body) }
        let keys = try reply.decode(ListReply<APIKey>.self).items
        let queues = try await ResourceLookup(api: api, kind: .queue).names()
        client.output.printTable(
            ["ID", "NAME", "SCOPE", "PREFIX", "QUEUE", "CREATED", "LAST USED", "STATUS"],
            keys.map {
                [
                    Format.id($0.id), $0.name, $0.scope.rawValue, $0.prefix, $0.queueId.map { queues[$0] ?? Format.id($0) } ?? "-",
                    Format.date($0.createdAt), $0.lastUsedAt.map { Format.age($0) } ?? "never",
                    $0.revokedAt == nil ? "active" : "revoked",
                ]
            }, empty: "no API keys")
    }
}

struct KeysRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an API key at once.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The key's id.") var id: String

    func run() async throws {
        guard let keyId = UUID(uuidString: id) else { throw CLIError("'\(id)' is not a key id (a UUID)", exit: .usage) }
        try await client.client().delete("/api/v1/api-keys/\(APIPath.id(keyId))")
        if client.json { return client.output.printJSON(Data(#"{"revoked":"\#(APIPath.id(keyId))"}"#.utf8)) }
        Output.write("revoked \(APIPath.id(keyId))\n")
    }
}
