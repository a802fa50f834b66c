import AsyncHTTPClient
import BosunProtocol
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Policy
import PostgresNIO

/// The control API's policy decisions: which policies apply, what they say about a new
/// execution and about a finished turn, and (when configured) what an external OPA server says
/// instead. Every path that cannot decide denies.
struct PolicyGate: Sendable {
    let configuration: ControlConfiguration
    let logger: Logger

    static func decodeSet(_ value: JSONValue) throws -> [PolicySnapshot] {
        if value == .array([]) { return [] }
        return try JSONValue.decode([PolicySnapshot].self, from: value)
    }

    /// Tokens (input + output) and dollars the organization used since midnight UTC.
    static func organizationUsageToday(on connection: PostgresConnection, logger: Logger) async throws
        -> PolicyEvaluator.Usage
    {
        let rows = try await connection.query(
            """
            SELECT COALESCE(sum(COALESCE((usage->>'input_tokens')::bigint, 0)
                              + COALESCE((usage->>'output_tokens')::bigint, 0)), 0)::bigint,
                   COALESCE(sum(cost_usd), 0)::double precision
            FROM turns WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
            """, logger: logger)
        for try await (tokens, cost) in rows.decode((Int64, Double).self) {
            return PolicyEvaluator.Usage(tokens: Int(tokens), costUSD: cost)
        }
        return .zero
    }

    /// Whether a new execution may start. The embedded evaluator checks the model, the sandbox
    /// profile and the organization's daily quotas; with OPA configured, OPA decides on the same
    /// input document (its answer, a timeout or an error: anything but an allow denies).
    func decideExecution(policies: [PolicySnapshot], agent: AgentSpec, input: @autoclosure () -> JSONValue,
                         organizationToday: PolicyEvaluator.Usage?) async -> PolicyDecision
    {
        if let opaURL = configuration.opaURL {
            return await askOPA(url: opaURL, input: input(), policies: policies)
        }
        let evaluator: PolicyEvaluator
        do {
            evaluator = try PolicyEvaluator(policies)
        } catch {
            return .evaluationFailed(error.message)
        }
        let execution = evaluator.execution(model: agent.model, sandboxProfile: agent.sandboxProfile)
        guard execution.isAllowed else { return execution }
        let quotas = evaluator.quotas(execution: .zero, organizationToday: organizationToday)
        guard quotas.isAllowed else { return quotas }
        return execution
    }

    /// POSTs `{"input": ...}` to OPA's data API. The answer's `result` may be a boolean or an
    /// object `{allow, reason?, rule?}`; an undefined result (no `result` key) denies.
    func askOPA(url: String, input: JSONValue, policies: [PolicySnapshot]) async -> PolicyDecision {
        var document = input.objectValue ?? [:]
        document["policies"] = (try? JSONValue(encoding: policies)) ?? .array([])
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: JSONValue.object(["input": .object(document)]).jsonBytes()))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(configuration.opaTimeout.milliseconds64))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                return .evaluationFailed("OPA answered \(response.status.code)", evaluator: "opa")
            }
            let answer = try JSONValue(parsing: Data(buffer: body))
            guard let result = answer["result"] else {
                return .evaluationFailed("OPA's result is undefined (no rule matched the input)", evaluator: "opa")
            }
            let allow = result.boolValue ?? result["allow"]?.boolValue
            guard let allow else {
                return .evaluationFailed("OPA's result has no boolean 'allow'", evaluator: "opa")
            }
            let reason = result["reason"]?.stringValue ?? (allow ? "allowed by OPA" : "denied by OPA")
            return PolicyDecision(
                outcome: allow ? .allow : .deny, rule: result["rule"]?.stringValue ?? "opa", reason: reason,
                evaluator: "opa")
        } catch {
            logger.warning("OPA policy evaluation failed; denying", metadata: ["error": "\(error)"])
            return .evaluationFailed("OPA could not be asked: \(error)", evaluator: "opa")
        }
    }
}

extension Duration {
    var milliseconds64: Int64 { Int64(milliseconds.rounded(.up)) }
}
