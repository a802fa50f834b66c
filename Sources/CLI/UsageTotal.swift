import BosunProtocol
import Foundation

/// Token counts and cost from `turn_completed` events (`usage` + `cost_usd`), added up.
struct UsageTotal: Sendable, Equatable {
    var inputTokens = 0.0
    var outputTokens = 0.0
    var costUsd = 0.0

    init() {}

    init(_ turn: JSONValue) {
        inputTokens = turn["usage"]?["input_tokens"]?.numberValue ?? 0
        outputTokens = turn["usage"]?["output_tokens"]?.numberValue ?? 0
        costUsd = turn["cost_usd"]?.numberValue ?? 0
    }

    mutating func add(_ other: UsageTotal) {
        inputTokens += other.inputTokens
        outputTokens += other.outputTokens
        costUsd += other.costUsd
    }

    var summary: String {
        "\(Format.number(inputTokens)) tokens in, \(Format.number(outputTokens)) out"
            + (costUsd > 0 ? String(format: ", $%.4f", costUsd) : "")
    }
}
