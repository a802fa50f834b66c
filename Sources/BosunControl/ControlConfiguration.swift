import Foundation

public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Everything `bosun-control` can be told. Defaults suit one development machine.
public struct ControlConfiguration: Sendable {
    public var databaseURL: DatabaseURL
    /// Redis, for readiness and (from the worker issue on) heartbeats; optional for the API itself.
    public var redisURL: String?
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes: Int = 1 << 20
    public var databaseMaxConnections: Int = 20

    public var leaseDuration: Duration = .seconds(60)
    public var leaseRenewInterval: Duration = .seconds(15)
    /// Longest a poll may wait before it returns 204.
    public var pollMaxWait: Duration = .seconds(30)
    /// How often waiting polls re-check the queue without a wake-up (the fallback when NOTIFY is lost).
    public var pollFallbackInterval: Duration = .seconds(2)
    /// How often the sweeper looks for expired leases.
    public var sweepInterval: Duration = .seconds(1)
    public var maxAttempts: Int = 3
    public var workerTokenTTL: Duration = .seconds(3600)
    /// How long a validated credential stays in the in-process cache.
    public var credentialCacheTTL: Duration = .seconds(30)

    public var heartbeatLightInterval: Double = 10
    public var heartbeatFullInterval: Double = 60
    public var heartbeatKeyPrefix: String = "bosun"
    /// How often the worker sweeper looks for lost workers.
    public var workerSweepInterval: Duration = .seconds(2)
    /// A light heartbeat key lives this long (about three intervals); a worker silent for longer is lost.
    public var heartbeatTTL: Double { heartbeatLightInterval * 2.5 }

    public var llmBaseURL: String?
    public var llmDefaultModel: String?
    public var llmFallbacks: [String] = []
    /// The control API's own key for the gateway (the state analyzer); workers hold their own.
    public var llmAPIKey: String?
    /// The state analyzer's model; defaults to `llmDefaultModel`. Without a gateway URL and a
    /// model the rules decide every turn alone.
    public var analyzerModel: String?
    /// How long the analyzer may think before the rules' fallback stands.
    public var analyzerBudget: Duration = .seconds(3)
    /// `false` turns the analyzer off even when a gateway is configured.
    public var analyzerEnabled: Bool = true

    /// An external OPA decision URL (its data API, e.g. `http://opa:8181/v1/data/bosun/execution`);
    /// when set, execution decisions are OPA's instead of the embedded evaluator's.
    public var opaURL: String?
    /// How long a tool call may wait for a person's approval before it counts as denied.
    public var approvalTTL: Duration = .seconds(3600)
    /// How long OPA may take; a slower answer denies.
    public var opaTimeout: Duration = .milliseconds(500)

    /// Shared secret for HS256 JWTs; nil disables them.
    public var jwtHS256Secret: String?
    /// PEM public keys for RS256 / ES256 JWTs.
    public var jwtPublicKeysPEM: [String] = []
    /// Required `iss` claim, when set.
    public var jwtIssuer: String?

    public init(databaseURL: DatabaseURL) {
        self.databaseURL = databaseURL
    }
}

extension ControlConfiguration {
    /// Reads `BOSUN_*` variables. Names every bad setting it finds.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ControlConfiguration {
        guard let database = environment["BOSUN_DATABASE_URL"], !database.isEmpty else {
            throw ConfigurationError("BOSUN_DATABASE_URL is not set (postgres://user:password@host:port/database)")
        }
        var configuration = ControlConfiguration(databaseURL: try DatabaseURL(database))
        try configuration.apply(environment: environment)
        return configuration
    }

    public mutating func apply(environment: [String: String]) throws {
        func seconds(_ name: String) throws -> Duration? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Double(text), value > 0 else {
                throw ConfigurationError("\(name) must be a positive number of seconds, got '\(text)'")
            }
            return .milliseconds(Int64(value * 1000))
        }
        if let url = environment["BOSUN_DATABASE_URL"], !url.isEmpty { databaseURL = try DatabaseURL(url) }
        if let redis = environment["BOSUN_REDIS_URL"], !redis.isEmpty { redisURL = redis }
        if let listen = environment["BOSUN_LISTEN"], !listen.isEmpty {
            (host, port) = try Self.parseListen(listen, setting: "BOSUN_LISTEN")
        }
        if let text = environment["BOSUN_MAX_BODY_BYTES"], !text.isEmpty {
            guard let value = Int(text), value > 0 else {
                throw ConfigurationError("BOSUN_MAX_BODY_BYTES must be a positive integer, got '\(text)'")
            }
            maxBodyBytes = value
        }
        if let value = try seconds("BOSUN_LEASE_DURATION_S") { leaseDuration = value }
        if let value = try seconds("BOSUN_LEASE_RENEW_INTERVAL_S") { leaseRenewInterval = value }
        if let value = try seconds("BOSUN_POLL_MAX_WAIT_S") { pollMaxWait = value }
        if let value = try seconds("BOSUN_SWEEP_INTERVAL_S") { sweepInterval = value }
        if let value = try seconds("BOSUN_WORKER_TOKEN_TTL_S") { workerTokenTTL = value }
        if let value = try seconds("BOSUN_WORKER_SWEEP_INTERVAL_S") { workerSweepInterval = value }
        if let value = try seconds("BOSUN_HEARTBEAT_LIGHT_INTERVAL_S") { heartbeatLightInterval = value.seconds }
        if let value = try seconds("BOSUN_HEARTBEAT_FULL_INTERVAL_S") { heartbeatFullInterval = value.seconds }
        if let text = environment["BOSUN_MAX_ATTEMPTS"], !text.isEmpty {
            guard let value = Int(text), value > 0 else {
                throw ConfigurationError("BOSUN_MAX_ATTEMPTS must be a positive integer, got '\(text)'")
            }
            maxAttempts = value
        }
        if let value = environment["BOSUN_LLM_BASE_URL"], !value.isEmpty { llmBaseURL = value }
        if let value = environment["BOSUN_LLM_DEFAULT_MODEL"], !value.isEmpty { llmDefaultModel = value }
        if let value = environment["BOSUN_LLM_FALLBACKS"], !value.isEmpty {
            llmFallbacks = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let value = environment["BOSUN_LLM_API_KEY"], !value.isEmpty { llmAPIKey = value }
        if let value = environment["BOSUN_OPA_URL"], !value.isEmpty {
            guard let url = URL(string: value), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil,
                url.path.hasPrefix("/v1/data")
            else {
                throw ConfigurationError(
                    "BOSUN_OPA_URL must be an OPA data API URL such as http://127.0.0.1:8181/v1/data/bosun/execution, got '\(value)'")
            }
            opaURL = value
        }
        if let value = try seconds("BOSUN_OPA_TIMEOUT_S") { opaTimeout = value }
        if let value = try seconds("BOSUN_APPROVAL_TTL_S") { approvalTTL = value }
        if let value = environment["BOSUN_ANALYZER_MODEL"], !value.isEmpty { analyzerModel = value }
        if let value = try seconds("BOSUN_ANALYZER_BUDGET_S") { analyzerBudget = value }
        if let text = environment["BOSUN_ANALYZER"], !text.isEmpty {
            switch text.lowercased() {
            case "on", "true", "1": analyzerEnabled = true
            case "off", "false", "0": analyzerEnabled = false
            default: throw ConfigurationError("BOSUN_ANALYZER must be 'on' or 'off', got '\(text)'")
            }
        }
        if let secret = environment["BOSUN_JWT_HS256_SECRET"], !secret.isEmpty {
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError("BOSUN_JWT_HS256_SECRET must be at least 32 bytes")
            }
            jwtHS256Secret = secret
        }
        if let paths = environment["BOSUN_JWT_PUBLIC_KEY_FILES"], !paths.isEmpty {
            jwtPublicKeysPEM = try paths.split(separator: ",").map { path in
                let path = path.trimmingCharacters(in: .whitespaces)
                guard let pem = FileManager.default.contents(atPath: path) else {
                    throw ConfigurationError("BOSUN_JWT_PUBLIC_KEY_FILES: cannot read '\(path)'")
                }
                return String(decoding: pem, as: UTF8.self)
            }
        }
        if let issuer = environment["BOSUN_JWT_ISSUER"], !issuer.isEmpty { jwtIssuer = issuer }
        try validate()
    }

    public func validate() throws {
        guard leaseRenewInterval < leaseDuration else {
            throw ConfigurationError("the lease renew interval must be shorter than the lease duration")
        }
    }

    static func parseListen(_ text: String, setting: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ConfigurationError("\(setting) must be HOST:PORT, got '\(text)'")
        }
        let host = String(text[..<colon])
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}
