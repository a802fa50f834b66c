import AsyncHTTPClient
import BosunProtocol
import Foundation
import LLM
import Logging

/// How this worker reaches the LLM gateway. The control API names the gateway at registration
/// (`llm.base_url`, default model, fallbacks); the worker holds the key and may override the URL,
/// so a key never travels through the control plane.
public struct LLMAccess: Sendable {
    public var httpClient: HTTPClient
    public var apiKey: String?
    /// Used instead of the registration's `llm.base_url` when set (`BOSUN_LLM_BASE_URL`).
    public var baseURLOverride: String?
    public var pricing: PricingTable
    public var requestTimeout: Duration
    public var maxRetries: Int
    public var retryBaseDelay: Duration
    public var retryMaxDelay: Duration

    public init(
        httpClient: HTTPClient = .shared, apiKey: String? = nil, baseURLOverride: String? = nil,
        pricing: PricingTable = PricingTable(), requestTimeout: Duration = .seconds(120), maxRetries: Int = 3,
        retryBaseDelay: Duration = .milliseconds(500), retryMaxDelay: Duration = .seconds(20)
    ) {
        self.httpClient = httpClient
        self.apiKey = apiKey
        self.baseURLOverride = baseURLOverride
        self.pricing = pricing
        self.requestTimeout = requestTimeout
        self.maxRetries = maxRetries
        self.retryBaseDelay = retryBaseDelay
        self.retryMaxDelay = retryMaxDelay
    }

    /// The gateway for one turn. Fails (not retryable) when no gateway URL is known at all.
    public func gateway(for settings: LLMSettings, logger: Logger) throws -> LLMGateway {
        guard let baseURL = baseURLOverride ?? settings.baseUrl, !baseURL.isEmpty else {
            throw TurnFailure(
                "no LLM gateway is configured: set BOSUN_LLM_BASE_URL on the control API (sent to workers) or on this worker",
                retryable: false)
        }
        let configuration = LLMGatewayConfiguration(
            baseURL: baseURL, apiKey: apiKey, requestTimeout: requestTimeout, maxRetries: maxRetries,
            retryBaseDelay: retryBaseDelay, retryMaxDelay: retryMaxDelay, fallbacks: settings.fallbacks,
            pricing: pricing)
        return LLMGateway(configuration: configuration, httpClient: httpClient, logger: logger)
    }

    /// The agent's model, or the gateway's default when the agent leaves it empty.
    public static func model(for agent: AgentSpec, settings: LLMSettings) throws -> String {
        let model = agent.model.trimmingCharacters(in: .whitespaces)
        if !model.isEmpty { return model }
        if let fallback = settings.defaultModel, !fallback.isEmpty { return fallback }
        throw TurnFailure("the agent has no model and the gateway names no default model", retryable: false)
    }
}

extension LLMError {
    /// A gateway failure as a turn failure. The gateway has already retried and tried the
    /// fallback models; another attempt of the turn later (the ledger keeps its finished tool
    /// calls) can still succeed after an outage, so only a request the gateway refuses as wrong
    /// (4xx other than 408/429, an unbuildable request) fails the turn for good.
    var turnFailure: TurnFailure {
        let status = self.status ?? 0
        let callerError = code == .invalidRequest || ((400..<500).contains(status) && status != 408 && status != 429)
        return TurnFailure("\(self)", retryable: !callerError)
    }
}
