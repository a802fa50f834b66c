import BosunProtocol

/// One content block of a tool result. Unknown or malformed blocks are kept as opaque JSON:
/// a new block type from a newer server must never fail a call.
public enum MCPContentBlock: Sendable, Hashable {
    case text(String)
    /// Base64 `data`.
    case image(data: String, mimeType: String)
    case audio(data: String, mimeType: String)
    case resourceLink(uri: String, name: String?, mimeType: String?)
    /// An embedded resource: `text` or base64 `blob`.
    case resource(uri: String, mimeType: String?, text: String?, blob: String?)
    case unknown(JSONValue)

    public init(json: JSONValue) {
        switch json["type"]?.stringValue {
        case "text":
            if let text = json["text"]?.stringValue { self = .text(text); return }
        case "image":
            if let data = json["data"]?.stringValue, let mime = json["mimeType"]?.stringValue {
                self = .image(data: data, mimeType: mime); return
            }
        case "audio":
            if let data = json["data"]?.stringValue, let mime = json["mimeType"]?.stringValue {
                self = .audio(data: data, mimeType: mime); return
            }
        case "resource_link":
            if let uri = json["uri"]?.stringValue {
                self = .resourceLink(uri: uri, name: json["name"]?.stringValue, mimeType: json["mimeType"]?.stringValue)
                return
            }
        case "resource":
            if let resource = json["resource"], let uri = resource["uri"]?.stringValue {
                self = .resource(
                    uri: uri, mimeType: resource["mimeType"]?.stringValue, text: resource["text"]?.stringValue,
                    blob: resource["blob"]?.stringValue)
                return
            }
        default:
            break
        }
        self = .unknown(json)
    }

    /// The block as the model sees it: text as is, binary content summarised.
    public var renderedText: String {
        switch self {
        case .text(let text):
            return text
        case .image(let data, let mime):
            return "[image: \(mime), \(Self.decodedSize(ofBase64: data)) bytes]"
        case .audio(let data, let mime):
            return "[audio: \(mime), \(Self.decodedSize(ofBase64: data)) bytes]"
        case .resourceLink(let uri, let name, _):
            return "[resource link: \(uri)" + (name.map { " (\($0))" } ?? "") + "]"
        case .resource(let uri, let mime, let text, let blob):
            if let text { return "[resource: \(uri)]\n\(text)" }
            let size = blob.map { ", \(Self.decodedSize(ofBase64: $0)) bytes" } ?? ""
            return "[resource: \(uri)" + (mime.map { ", \($0)" } ?? "") + size + "]"
        case .unknown(let json):
            return "[unsupported content block: \(json["type"]?.stringValue ?? "no type")]"
        }
    }

    /// The size the base64 text decodes to, without decoding it.
    static func decodedSize(ofBase64 text: String) -> Int {
        let bytes = text.utf8.filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
        let padding = bytes.reversed().prefix(2).filter { $0 == UInt8(ascii: "=") }.count
        return bytes.count % 4 == 0 ? bytes.count / 4 * 3 - padding : bytes.count * 3 / 4
    }
}
