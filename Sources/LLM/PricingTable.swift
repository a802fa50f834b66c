import BosunProtocol
import Foundation

/// The price of one model, in US dollars per million tokens.
public struct ModelPrice: Codable, Sendable, Equatable {
    /// Input tokens that were neither read from nor written to the prompt cache.
    public var inputPerMtok: Double
    public var outputPerMtok: Double
    public var cacheReadPerMtok: Double
    public var cacheWritePerMtok: Double

    public init(inputPerMtok: Double = 0, outputPerMtok: Double = 0, cacheReadPerMtok: Double = 0, cacheWritePerMtok: Double = 0) {
        self.inputPerMtok = inputPerMtok
        self.outputPerMtok = outputPerMtok
        self.cacheReadPerMtok = cacheReadPerMtok
        self.cacheWritePerMtok = cacheWritePerMtok
    }

    enum CodingKeys: String, CodingKey {
        case inputPerMtok = "input_per_mtok"
        case outputPerMtok = "output_per_mtok"
        case cacheReadPerMtok = "cache_read_per_mtok"
        case cacheWritePerMtok = "cache_write_per_mtok"
    }

    /// A missing price is 0: a table that only knows input and output prices still works.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.inputPerMtok = try c.decodeIfPresent(Double.self, forKey: .inputPerMtok) ?? 0
        self.outputPerMtok = try c.decodeIfPresent(Double.self, forKey: .outputPerMtok) ?? 0
        self.cacheReadPerMtok = try c.decodeIfPresent(Double.self, forKey: .cacheReadPerMtok) ?? 0
        self.cacheWritePerMtok = try c.decodeIfPresent(Double.self, forKey: .cacheWritePerMtok) ?? 0
    }

    /// `usage.inputTokens` are non-cached input; cache reads and writes are counted (and
    /// priced) separately, so no token is billed twice.
    public func cost(of usage: Usage) -> Double {
        let microDollars =
            Double(usage.inputTokens) * inputPerMtok + Double(usage.outputTokens) * outputPerMtok
            + Double(usage.cacheReadTokens) * cacheReadPerMtok + Double(usage.cacheWriteTokens) * cacheWritePerMtok
        return microDollars / 1_000_000
    }
}

/// Model prices by model id. Encoded as a plain JSON object:
/// `{"claude-sonnet-4": {"input_per_mtok": 3, "output_per_mtok": 15, ...}}`.
public struct PricingTable: Codable, Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public var prices: [String: ModelPrice]

    public init(_ prices: [String: ModelPrice] = [:]) {
        self.prices = prices
    }

    public init(dictionaryLiteral elements: (String, ModelPrice)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public init(from decoder: any Decoder) throws {
        self.prices = try decoder.singleValueContainer().decode([String: ModelPrice].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(prices)
    }

    /// The exact id first, then the id without its LiteLLM provider prefix, so one entry
    /// `claude-sonnet-4` prices `anthropic/claude-sonnet-4` too.
    public func price(for model: String) -> ModelPrice? {
        if let price = prices[model] { return price }
        if let slash = model.firstIndex(of: "/") {
            return prices[String(model[model.index(after: slash)...])]
        }
        return nil
    }

    /// 0 for a model the table does not know.
    public func cost(model: String, usage: Usage) -> Double {
        price(for: model)?.cost(of: usage) ?? 0
    }
}

extension PricingTable {
    /// Reads a pricing file: `{"provider/model": {"input_per_mtok": 3, "output_per_mtok": 15, ...}}`.
    public static func load(path: String) throws -> PricingTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PricingTableError(description: "cannot read the pricing file '\(path)'")
        }
        do {
            return try JSONDecoder().decode(PricingTable.self, from: data)
        } catch {
            throw PricingTableError(
                description: "the pricing file '\(path)' is not a JSON object of model -> {input_per_mtok, output_per_mtok, cache_read_per_mtok, cache_write_per_mtok}: \(error)")
        }
    }
}

public struct PricingTableError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
