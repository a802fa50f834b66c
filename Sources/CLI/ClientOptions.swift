import ArgumentParser
import Foundation

/// The options every API command takes: where the control API is, the key, and the output form.
struct ClientOptions: ParsableArguments {
    @Option(help: "Control API URL (or BOSUN_CONTROL_URL, or control_url in the config file; default \(ClientConfiguration.defaultControlURL)).")
    var controlURL: String?

    @Option(help: "API key (or BOSUN_API_KEY, or api_key in the config file).")
    var apiKey: String?

    @Flag(help: "Print the API's JSON (pretty) instead of tables, for scripts.")
    var json = false

    /// The resolved configuration: flags, then the environment, then the config file.
    func configuration(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ClientConfiguration {
        try ClientConfiguration.resolve(controlURL: controlURL, apiKey: apiKey, environment: environment)
    }

    /// A client for the control API with the resolved configuration.
    func client() throws -> ControlAPI {
        ControlAPI(configuration: try configuration())
    }

    var output: Output { Output(json: json) }
}
