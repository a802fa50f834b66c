import BosunProtocol
import Foundation

/// A structured-output answer: the model's text parsed as JSON. Models often wrap it in a
/// ```json fence even when told not to; the JSON inside is what counts.
public enum StructuredAnswer {
    public static func parse(_ text: String) -> JSONValue? {
        JSONValue(jsonText: strippingFence(text))
    }

    static func strippingFence(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("```"), trimmed.hasSuffix("```"), trimmed.count > 6 else { return trimmed }
        var inner = trimmed.dropFirst(3).dropLast(3)
        if let newline = inner.firstIndex(of: "\n") { inner = inner[inner.index(after: newline)...] }
        return inner.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
