import BosunProtocol
import Foundation
import Testing

@testable import LLM

@Suite struct PricingTableTests {
    static let json = #"""
        {"claude-sonnet-4": {"input_per_mtok": 3, "output_per_mtok": 15, "cache_read_per_mtok": 0.3, "cache_write_per_mtok": 3.75},
         "openai/gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}}
        """#

    @Test func decodesSnakeCaseWithMissingPricesAsZero() throws {
        let table = try JSONDecoder().decode(PricingTable.self, from: Data(Self.json.utf8))
        #expect(table.prices["openai/gpt-4o-mini"] == ModelPrice(inputPerMtok: 0.15, outputPerMtok: 0.6))
        #expect(table.prices["claude-sonnet-4"]?.cacheWritePerMtok == 3.75)
        let again = try JSONDecoder().decode(PricingTable.self, from: JSONEncoder().encode(table))
        #expect(again == table)
    }

    @Test func looksUpTheExactIdThenTheIdWithoutItsProvider() throws {
        let table = try JSONDecoder().decode(PricingTable.self, from: Data(Self.json.utf8))
        #expect(table.price(for: "claude-sonnet-4")?.inputPerMtok == 3)
        #expect(table.price(for: "anthropic/claude-sonnet-4")?.inputPerMtok == 3)
        #expect(table.price(for: "openai/gpt-4o-mini")?.inputPerMtok == 0.15)
        #expect(table.price(for: "gpt-4o-mini") == nil)
        #expect(table.cost(model: "unknown/model", usage: Usage(inputTokens: 1_000_000)) == 0)
    }

    @Test func costPricesEachKindOfTokenOnce() throws {
        let table = try JSONDecoder().decode(PricingTable.self, from: Data(Self.json.utf8))
        let usage = Usage(inputTokens: 1000, outputTokens: 500, cacheReadTokens: 10_000, cacheWriteTokens: 2000)
        let dollars: [Double] = [1000 * 3, 500 * 15, 10_000 * 0.3, 2000 * 3.75]
        let expected = dollars.reduce(0, +) / 1_000_000
        #expect(abs(table.cost(model: "anthropic/claude-sonnet-4", usage: usage) - expected) < 1e-12)
    }
}

extension PricingTableTests {
    @Test func loadsAFileAndNamesItWhenItIsBad() throws {
        let directory = FileManager.default.temporaryDirectory
        let good = directory.appendingPathComponent("pricing-\(UUID().uuidString).json").path
        try #"{"anthropic/claude-sonnet-4": {"input_per_mtok": 3, "output_per_mtok": 15}}"#.write(toFile: good, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: good) }
        let table = try PricingTable.load(path: good)
        #expect(table.price(for: "anthropic/claude-sonnet-4")?.outputPerMtok == 15)

        let bad = directory.appendingPathComponent("pricing-\(UUID().uuidString).json").path
        try #"{"m": {"input_per_mtok": "cheap"}}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect(throws: PricingTableError.self) { try PricingTable.load(path: bad) }
        do {
            _ = try PricingTable.load(path: "/nonexistent/pricing.json")
        } catch {
            #expect("\(error)".contains("/nonexistent/pricing.json"))
        }
    }
}
