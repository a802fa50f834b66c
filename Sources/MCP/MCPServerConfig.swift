import Foundation
import BosunProtocol

/// One stdio MCP server of an agent, in Claude Code's `mcpServers` shape:
/// `{"name": {"command": "...", "args": [...], "env": {"KEY": "value"}}}`.
///
/// `env` values may reference secrets as `{{secret.NAME}}`; they are resolved per spawn by
/// `resolvedEnvironment(secrets:)` into the child's environment only, never the worker's.
public struct MCPServerConfig: Sendable, Hashable {
    public var name: String
    public var command: String
    public var args: [String]
    public var env: [String: String]

    public init(name: String, command: String, args: [String] = [], env: [String: String] = [:]) {
        self.name = name
        self.command = command
        self.args = args
        self.env = env
    }

    /// Decodes `{"mcpServers": {...}}` or the bare `{...}` map, sorted by server name.
    public static func servers(from json: JSONValue) throws -> [MCPServerConfig] {
        guard var map = json.objectValue else {
            throw MCPError(.invalidConfiguration, "mcpServers must be an object of name -> server")
        }
        if map.count == 1, let inner = map["mcpServers"] {
            guard let innerMap = inner.objectValue else {
                throw MCPError(.invalidConfiguration, "mcpServers must be an object of name -> server")
            }
            map = innerMap
        }
        return try map.keys.sorted().map { name in try server(named: name, from: map[name] ?? .null) }
    }

    /// Decodes one server entry.
    public static func server(named name: String, from json: JSONValue) throws -> MCPServerConfig {
        guard !name.isEmpty else { throw MCPError(.invalidConfiguration, "an MCP server has an empty name") }
        guard let object = json.objectValue else {
            throw MCPError(.invalidConfiguration, "MCP server \(name) must be an object")
        }
        guard let command = object["command"]?.stringValue, !command.isEmpty else {
            throw MCPError(.invalidConfiguration, "MCP server \(name) needs a non-empty string command (only stdio servers are supported)")
        }
        var args: [String] = []
        if let raw = object["args"], raw != .null {
            guard let array = raw.arrayValue else {
                throw MCPError(.invalidConfiguration, "MCP server \(name): args must be an array of strings")
            }
            args = try array.map { item in
                guard let text = item.stringValue else {
                    throw MCPError(.invalidConfiguration, "MCP server \(name): args must be an array of strings")
                }
                return text
            }
        }
        var env: [String: String] = [:]
        if let raw = object["env"], raw != .null {
            guard let map = raw.objectValue else {
                throw MCPError(.invalidConfiguration, "MCP server \(name): env must be an object of strings")
            }
            for (key, value) in map {
                guard let text = value.stringValue else {
                    throw MCPError(.invalidConfiguration, "MCP server \(name): env.\(key) must be a string")
                }
                env[key] = text
            }
        }
        return MCPServerConfig(name: name, command: command, args: args, env: env)
    }

    /// `env` with every `{{secret.NAME}}` replaced from `secrets`. An unknown secret is an
    /// error naming the secret and the variable, never a silently empty value.
    public func resolvedEnvironment(secrets: [String: String]) throws -> [String: String] {
        var resolved: [String: String] = [:]
        for (key, value) in env {
            resolved[key] = try Self.substitute(value, secrets: secrets) { secret in
                MCPError(.unknownSecret, "MCP server \(name): env \(key) references secret \(secret), which this worker does not have")
            }
        }
        return resolved
    }

    static func substitute(
        _ value: String, secrets: [String: String], unknown: (String) -> MCPError
    ) throws -> String {
        var output = ""
        var rest = value[...]
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                output += rest[open.lowerBound...]
                return output
            }
            let inner = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if inner.hasPrefix("secret.") {
                let secret = String(inner.dropFirst("secret.".count))
                guard let replacement = secrets[secret] else { throw unknown(secret) }
                output += replacement
            } else {
                output += rest[open.lowerBound..<close.upperBound]
            }
            rest = rest[close.upperBound...]
        }
        output += rest
        return output
    }
}
