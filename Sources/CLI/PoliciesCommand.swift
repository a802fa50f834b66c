import ArgumentParser
import BosunProtocol
import Foundation

/// `bosun policies ...`: declarative policies at organization, environment, team or agent level.
struct PoliciesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policies", abstract: "List, show, create and delete policies.",
        subcommands: [PoliciesList.self, PoliciesShow.self, PoliciesCreate.self, PoliciesDelete.self])
}

struct PoliciesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List policies.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let reply = try await client.client().get("/api/v1/policies")
        if client.json { return client.output.printJSON(reply.body) }
        let policies = try reply.decode(ListReply<PolicyView>.self).items
        client.output.printTable(
            ["ID", "NAME", "LEVEL", "TARGET", "ENABLED", "UPDATED"],
            policies.map {
                [
                    $0.id, $0.name ?? "-", $0.level ?? "-", $0.targetId ?? "-", $0.enabled.map { $0 ? "yes" : "no" } ?? "-",
                    Format.date($0.updatedAt ?? $0.createdAt),
                ]
            }, empty: "no policies")
    }
}

struct PoliciesShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a policy and its rules.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The policy's id.") var id: String

    func run() async throws {
        let reply = try await client.client().get("/api/v1/policies/\(APIPath.segment(id))")
        if client.json { return client.output.printJSON(reply.body) }
        let policy = try reply.decode(PolicyView.self)
        client.output.printFields([
            ("id", policy.id),
            ("name", policy.name),
            ("level", policy.level),
            ("target", policy.targetId ?? (policy.level == "organization" ? "(the organization)" : nil)),
            ("enabled", policy.enabled.map { $0 ? "yes" : "no" }),
            ("created", policy.createdAt.map(Format.date)),
            ("updated", policy.updatedAt.map(Format.date)),
            ("rules", policy.rules.map { Output.pretty(Data($0.jsonString.utf8)) }),
        ])
    }
}

struct PoliciesCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a policy from a YAML or JSON file.",
        discussion: """
            The file holds name, level (organization, environment, team or agent), target_id (none \
            for organization), rules and enabled. Use -f - to read standard input.
            """)

    @OptionGroup var client: ClientOptions

    @Option(name: .shortAndLong, help: "The policy definition (YAML or JSON).")
    var file: String

    func run() async throws {
        let definition = try DefinitionFile.load(path: file)
        if let level = definition["level"]?.stringValue, !PolicyView.levels.contains(level) {
            throw CLIError(
                "'level' must be one of \(PolicyView.levels.joined(separator: ", ")); got '\(level)'", exit: .usage)
        }
        let reply = try await client.client().post("/api/v1/policies", JSONValue.object(definition))
        if client.json { return client.output.printJSON(reply.body) }
        let policy = try reply.decode(PolicyView.self)
        Output.write("created policy \(policy.name ?? "") (\(policy.id))\n")
    }
}

struct PoliciesDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a policy.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "The policy's id.") var id: String

    func run() async throws {
        try await client.client().delete("/api/v1/policies/\(APIPath.segment(id))")
        if client.json { return client.output.printJSON(Data(#"{"deleted":"\#(id)"}"#.utf8)) }
        Output.write("deleted policy \(id)\n")
    }
}
