import Foundation
import Logging
import MCP

/// Everything `bosun-worker run` can be told. Defaults suit one host; the control API's
/// registration reply supplies the intervals (heartbeats, leases, polls).
public struct WorkerConfiguration: Sendable, Equatable {
    public var controlURL: URL
    /// A worker-scoped API key (`bsk_...`), bound to `queueId`.
    public var apiKey: String
    public var queueId: UUID
    /// How many tasks run at once.
    public var slots: Int = 1
    public var labels: [String: String] = [:]
    /// Per-task workspaces live under it; the full heartbeat reports its free disk.
    public var workDirectory: String = WorkerConfiguration.defaultWorkDirectory
    /// Reported as the worker's hostname; defaults to the machine's.
    public var name: String?
    public var logLevel: Logger.Level = .info
    public var logFormat: String = "json"
    /// How long a drain (SIGTERM) waits for running tasks before it releases them.
    public var drainTimeout: Duration = .seconds(300)
    /// Take one task, run it, deregister and exit.
    public var once: Bool = false
    /// Runs every turn with `TestRuntime` (tests only: no model, no tools, no sandbox).
    public var testRuntime: Bool = false
    /// Grace between SIGTERM and SIGKILL when a task's processes are stopped.
    public var killGrace: Duration = .seconds(5)
    /// How often a running turn's events go to the control API. Events a turn must have stored
    /// before it goes on (tool calls and their results) go at once whatever this says, and
    /// whatever is still pending when the turn ends rides with the completion.
    public var eventFlushInterval: Duration = .milliseconds(100)
    /// The LLM gateway's base URL; overrides the one the control API names at registration.
    public var llmBaseURL: String?
    /// The key for the LLM gateway. It stays on the worker: the control plane never sees it.
    public var llmAPIKey: String?
    /// A JSON pricing table (USD per million tokens per model) for turn costs.
    public var llmPricingFile: String?
    /// Per-request timeout of one LLM call.
    public var llmTimeout: Duration = .seconds(120)
    /// Retries of one LLM call (connect errors, timeouts, 429, 5xx) before the fallback models.
    public var llmMaxRetries: Int = 3
    /// Files named by secret (`{{secret.NAME}}` in MCP server configs). Defaults to systemd's
    /// `$CREDENTIALS_DIRECTORY` when the unit loads credentials.
    public var secretsDirectory: String?

    public init(controlURL: URL, apiKey: String, queueId: UUID) {
        self.controlURL = controlURL
        self.apiKey = apiKey
        self.queueId = queueId
    }

    public static var defaultWorkDirectory: String {
        getuid() == 0 ? "/var/lib/bosun/work" : FileManager.default.temporaryDirectory.appendingPathComponent("bosun-work").path
    }
}

/// One setting and the three names it goes by: a flag, an environment variable and a TOML key.
/// Errors name the one the value came from, so an operator knows what to fix.
public struct WorkerSetting: Sendable, Hashable {
    public let flag: String
    public let environment: String
    public let toml: String

    public static let controlURL = WorkerSetting(flag: "--control-url", environment: "BOSUN_CONTROL_URL", toml: "control_url")
    public static let apiKey = WorkerSetting(flag: "--api-key", environment: "BOSUN_API_KEY", toml: "api_key")
    public static let queueId = WorkerSetting(flag: "--queue-id", environment: "BOSUN_QUEUE_ID", toml: "queue_id")
    public static let slots = WorkerSetting(flag: "--slots", environment: "BOSUN_WORKER_SLOTS", toml: "slots")
    public static let labels = WorkerSetting(flag: "--label", environment: "BOSUN_WORKER_LABELS", toml: "labels")
    public static let workDirectory = WorkerSetting(
        flag: "--work-dir", environment: "BOSUN_WORKER_WORK_DIR", toml: "work_dir")
    public static let name = WorkerSetting(flag: "--name", environment: "BOSUN_WORKER_NAME", toml: "name")
    public static let logLevel = WorkerSetting(flag: "--log-level", environment: "BOSUN_LOG_LEVEL", toml: "log_level")
    public static let logFormat = WorkerSetting(flag: "--log-format", environment: "BOSUN_LOG_FORMAT", toml: "log_format")
    public static let drainTimeout = WorkerSetting(
        flag: "--drain-timeout", environment: "BOSUN_WORKER_DRAIN_TIMEOUT_S", toml: "drain_timeout_s")
    public static let once = WorkerSetting(flag: "--once", environment: "BOSUN_WORKER_ONCE", toml: "once")
    public static let testRuntime = WorkerSetting(
        flag: "--test-runtime", environment: "BOSUN_WORKER_TEST_RUNTIME", toml: "test_runtime")
    public static let killGrace = WorkerSetting(
        flag: "--kill-grace", environment: "BOSUN_WORKER_KILL_GRACE_S", toml: "kill_grace_s")
    public static let eventFlushInterval = WorkerSetting(
        flag: "--event-flush-interval", environment: "BOSUN_WORKER_EVENT_FLUSH_INTERVAL_S", toml: "event_flush_interval_s")

    public static let llmBaseURL = WorkerSetting(
        flag: "--llm-base-url", environment: "BOSUN_LLM_BASE_URL", toml: "llm_base_url")
    public static let llmAPIKey = WorkerSetting(flag: "--llm-api-key", environment: "BOSUN_LLM_API_KEY", toml: "llm_api_key")
    public static let llmPricingFile = WorkerSetting(
        flag: "--llm-pricing", environment: "BOSUN_LLM_PRICING_FILE", toml: "llm_pricing_file")
    public static let llmTimeout = WorkerSetting(
        flag: "--llm-timeout", environment: "BOSUN_LLM_TIMEOUT_S", toml: "llm_timeout_s")
    public static let llmMaxRetries = WorkerSetting(
        flag: "--llm-max-retries", environment: "BOSUN_LLM_MAX_RETRIES", toml: "llm_max_retries")

    public static let secretsDirectory = WorkerSetting(
        flag: "--secrets-dir", environment: "BOSUN_SECRETS_DIR", toml: "secrets_dir")

    public static let all: [WorkerSetting] = [
        controlURL, apiKey, queueId, slots, labels, workDirectory, name, logLevel, logFormat, drainTimeout, once,
        testRuntime, killGrace, eventFlushInterval, llmBaseURL, llmAPIKey, llmPricingFile, llmTimeout, llmMaxRetries, secretsDirectory,
    ]
}

extension WorkerConfiguration {
    /// Where one raw value came from.
    struct Source {
        var text: String
        var origin: String
    }

    /// Builds the configuration from flags (highest), then the environment, then the TOML file.
    /// `flags` maps a setting's flag name (`--slots`) to its value; repeatable flags (`--label`)
    /// arrive joined with commas.
    public static func load(
        flags: [String: String], environment: [String: String], configFile: String? = nil
    ) throws -> WorkerConfiguration {
        var document: TOMLDocument?
        if let configFile {
            guard let data = FileManager.default.contents(atPath: configFile) else {
                throw ConfigurationError("--config: cannot read '\(configFile)'")
            }
            do {
                document = try TOMLDocument(parsing: String(decoding: data, as: UTF8.self))
            } catch let error as TOMLError {
                throw ConfigurationError("\(configFile): \(error)")
            }
            let known = Set(WorkerSetting.all.map(\.toml))
            for key in document?.root.keys.sorted() ?? [] where !known.contains(key) {
                throw ConfigurationError(
                    "\(configFile): unknown setting '\(key)' (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        let file = configFile ?? ""

        func source(_ setting: WorkerSetting) throws -> Source? {
            if let value = flags[setting.flag] { return Source(text: value, origin: setting.flag) }
            if let value = environment[setting.environment], !value.isEmpty {
                return Source(text: value, origin: setting.environment)
            }
            guard let value = document?.value(at: setting.toml) else { return nil }
            let origin = "\(setting.toml) in \(file)"
            switch value {
            case .string(let text): return Source(text: text, origin: origin)
            case .integer(let number): return Source(text: String(number), origin: origin)
            case .float(let number): return Source(text: String(number), origin: origin)
            case .boolean(let flag): return Source(text: String(flag), origin: origin)
            case .table(let table) where setting == .labels:
                var pairs: [String] = []
                for (key, value) in table.sorted(by: { $0.key < $1.key }) {
                    guard case .string(let text) = value else {
                        throw ConfigurationError("\(origin): label '\(key)' must be a string")
                    }
                    pairs.append("\(key)=\(text)")
                }
                return Source(text: pairs.joined(separator: ","), origin: origin)
            default:
                throw ConfigurationError("\(origin) has the wrong type")
            }
        }

        func required(_ setting: WorkerSetting, _ what: String) throws -> Source {
            guard let value = try source(setting) else {
                throw ConfigurationError(
                    "\(setting.environment) is not set (\(what)); pass \(setting.flag), set \(setting.environment) or "
                        + "'\(setting.toml)' in the --config file")
            }
            return value
        }

        let url = try required(.controlURL, "the control API's base URL, e.g. http://127.0.0.1:8080")
        guard let controlURL = URL(string: url.text), let scheme = controlURL.scheme, ["http", "https"].contains(scheme),
            controlURL.host != nil
        else {
            throw ConfigurationError("\(url.origin) must be an http(s) URL such as http://127.0.0.1:8080, got '\(url.text)'")
        }
        let key = try required(.apiKey, "a worker API key from POST /api/v1/api-keys with scope 'worker'")
        guard key.text.hasPrefix("bsk_"), key.text.count >= 36 else {
            throw ConfigurationError("\(key.origin) does not look like a Bosun API key (bsk_...)")
        }
        let queue = try required(.queueId, "the id of the queue this worker serves")
        guard let queueId = UUID(uuidString: queue.text) else {
            throw ConfigurationError("\(queue.origin) must be a queue id (a UUID), got '\(queue.text)'")
        }
        var configuration = WorkerConfiguration(controlURL: controlURL, apiKey: key.text, queueId: queueId)

        if let slots = try source(.slots) {
            guard let value = Int(slots.text), (1...1024).contains(value) else {
                throw ConfigurationError("\(slots.origin) must be a whole number from 1 to 1024, got '\(slots.text)'")
            }
            configuration.slots = value
        }
        if let labels = try source(.labels) {
            configuration.labels = try parseLabels(labels)
        }
        if let directory = try source(.workDirectory) {
            guard directory.text.hasPrefix("/") else {
                throw ConfigurationError("\(directory.origin) must be an absolute path, got '\(directory.text)'")
            }
            configuration.workDirectory = directory.text
        }
        if let name = try source(.name) {
            guard !name.text.isEmpty, name.text.count <= 255 else {
                throw ConfigurationError("\(name.origin) must be 1 to 255 characters")
            }
            configuration.name = name.text
        }
        if let level = try source(.logLevel) {
            guard let value = Logger.Level(rawValue: level.text.lowercased()) else {
                throw ConfigurationError(
                    "\(level.origin) must be one of trace, debug, info, notice, warning, error, critical; got '\(level.text)'")
            }
            configuration.logLevel = value
        }
        if let format = try source(.logFormat) {
            guard ["json", "text"].contains(format.text) else {
                throw ConfigurationError("\(format.origin) must be 'json' or 'text', got '\(format.text)'")
            }
            configuration.logFormat = format.text
        }
        if let timeout = try source(.drainTimeout) {
            configuration.drainTimeout = try seconds(timeout, allowZero: true)
        }
        if let grace = try source(.killGrace) {
            configuration.killGrace = try seconds(grace, allowZero: true)
        }
        if let interval = try source(.eventFlushInterval) {
            let value = try seconds(interval, allowZero: false)
            // Under 10 ms it is a request per event; past a minute a live stream looks dead.
            guard value >= .milliseconds(10), value <= .seconds(60) else {
                throw ConfigurationError("\(interval.origin) must be between 0.01 and 60 seconds, got '\(interval.text)'")
            }
            configuration.eventFlushInterval = value
        }
        if let once = try source(.once) { configuration.once = try boolean(once) }
        if let test = try source(.testRuntime) { configuration.testRuntime = try boolean(test) }
        if let base = try source(.llmBaseURL) {
            guard let url = URL(string: base.text), let scheme = url.scheme, ["http", "https"].contains(scheme),
                url.host != nil
            else {
                throw ConfigurationError("\(base.origin) must be an http(s) URL such as http://127.0.0.1:4000, got '\(base.text)'")
            }
            configuration.llmBaseURL = base.text
        }
        if let key = try source(.llmAPIKey) { configuration.llmAPIKey = key.text }
        if let pricing = try source(.llmPricingFile) {
            guard FileManager.default.isReadableFile(atPath: pricing.text) else {
                throw ConfigurationError("\(pricing.origin): cannot read the pricing file '\(pricing.text)'")
            }
            configuration.llmPricingFile = pricing.text
        }
        if let timeout = try source(.llmTimeout) { configuration.llmTimeout = try seconds(timeout, allowZero: false) }
        if let retries = try source(.llmMaxRetries) {
            guard let value = Int(retries.text), (0...20).contains(value) else {
                throw ConfigurationError("\(retries.origin) must be a whole number from 0 to 20, got '\(retries.text)'")
            }
            configuration.llmMaxRetries = value
        }
        if let secrets = try source(.secretsDirectory) {
            try checkSecretsDirectory(secrets.text, origin: secrets.origin)
            configuration.secretsDirectory = secrets.text
        } else if let credentials = environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty {
            try checkSecretsDirectory(credentials, origin: "CREDENTIALS_DIRECTORY")
            configuration.secretsDirectory = credentials
        }
        return configuration
    }

    static func checkSecretsDirectory(_ path: String, origin: String) throws {
        guard path.hasPrefix("/") else {
            throw ConfigurationError("\(origin) must be an absolute path, got '\(path)'")
        }
        do {
            try SecretDirectory(path: path).check()
        } catch {
            throw ConfigurationError("\(origin): \(error)")
        }
    }

    static func parseLabels(_ source: Source) throws -> [String: String] {
        var labels: [String: String] = [:]
        for pair in source.text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ConfigurationError("\(source.origin) must be key=value pairs separated by commas, got '\(pair)'")
            }
            labels[parts[0]] = parts[1]
        }
        return labels
    }

    static func seconds(_ source: Source, allowZero: Bool) throws -> Duration {
        guard let value = Double(source.text), value.isFinite, allowZero ? value >= 0 : value > 0 else {
            throw ConfigurationError("\(source.origin) must be a number of seconds, got '\(source.text)'")
        }
        return .milliseconds(Int64(value * 1000))
    }

    static func boolean(_ source: Source) throws -> Bool {
        switch source.text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError("\(source.origin) must be true or false, got '\(source.text)'")
        }
    }
}

public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
