import Foundation

/// Where a document that is not JSON goes wrong, for error messages. JSONDecoder on Linux only
/// says "The given data was not valid JSON."; JSONSerialization names the character.
enum JSONSyntax {
    static func problem(in data: Data) -> String {
        if data.isEmpty { return "the document is empty" }
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            guard let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String else {
                return "\(error)"
            }
            return located(detail, in: data)
        }
        return "the document is not valid JSON"
    }

    /// "... around character N." gets the line and column of that character.
    static func located(_ detail: String, in data: Data) -> String {
        let trimmed = detail.hasSuffix(".") ? String(detail.dropLast()) : detail
        guard let range = trimmed.range(of: "around character "),
            let offset = Int(trimmed[range.upperBound...]), offset >= 0, offset <= data.count
        else { return trimmed }
        var line = 1
        var column = 1
        for byte in data.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return "\(trimmed) (line \(line), column \(column))"
    }
}
