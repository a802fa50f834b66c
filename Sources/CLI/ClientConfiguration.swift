import Foundation
import WorkerCore

/// Where the control API is and which key to present. Flags beat the environment, which beats
/// the config file (`$BOSUN_CONFIG`, else `~/.config/bosun/config.toml`).
struct ClientConfiguration: Sendable, Equatable {
    static let defaultControlURL = "http://127.0.0.1:8080"

    var controlURL: String
    var apiKey: String

    static func resolve(controlURL flagURL: String?, apiKey flagKey: String?, environment: [String: String]) throws
        -> ClientConfiguration
    {
        let file = try ConfigFile.load(environment: environment)
        let url = nonEmpty(flagURL) ?? nonEmpty(environment["BOSUN_CONTROL_URL"]) ?? nonEmpty(file?.controlURL)
            ?? defaultControlURL
        guard let key = nonEmpty(flagKey) ?? nonEmpty(environment["BOSUN_API_KEY"]) ?? nonEmpty(file?.apiKey) else {
            throw CLIError(
                """
                no API key: pass --api-key KEY, set BOSUN_API_KEY, or put api_key = "KEY" in \
                \(file?.path ?? ConfigFile.path(environment: environment))
                """, exit: .usage)
        }
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme),
            parsed.host != nil
        else {
            throw CLIError("the control URL '\(url)' is not an http(s) URL", exit: .usage)
        }
        // Paths are appended to it, so a trailing slash would double up.
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        return ClientConfiguration(controlURL: trimmed, apiKey: key)
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}

/// The optional TOML file with `control_url` and `api_key`.
struct ConfigFile: Sendable {
    var path: String
    var controlURL: String?
    var apiKey: String?

    static func path(environment: [String: String]) -> String {
        if let explicit = environment["BOSUN_CONFIG"], !explicit.isEmpty { return explicit }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.config/bosun/config.toml"
    }

    /// The file's settings; nil when there is no file. A file named by `$BOSUN_CONFIG` must exist.
    static func load(environment: [String: String]) throws -> ConfigFile? {
        let path = path(environment: environment)
        let explicit = environment["BOSUN_CONFIG"].map { !$0.isEmpty } ?? false
        guard let data = FileManager.default.contents(atPath: path) else {
            if explicit { throw CLIError("cannot read the config file \(path) (named by BOSUN_CONFIG)", exit: .usage) }
            return nil
        }
        let document: TOMLDocument
        do {
            document = try TOMLDocument(parsing: String(decoding: data, as: UTF8.self))
        } catch {
            throw CLIError("config file \(path): \(error)", exit: .usage)
        }
        return ConfigFile(
            path: path, controlURL: try string(document, "control_url", path),
            apiKey: try string(document, "api_key", path))
    }

    private static func string(_ document: TOMLDocument, _ key: String, _ path: String) throws -> String? {
        switch document.value(at: key) {
        case nil: return nil
        case .string(let text): return text
        default: throw CLIError("config file \(path): '\(key)' must be a string", exit: .usage)
        }
    }
}
