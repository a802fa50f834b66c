import BosunProtocol
import Foundation

/// One JSON-RPC 2.0 message as it travels on a stdio line.
enum JSONRPCMessage: Sendable {
    case request(id: JSONValue, method: String, params: JSONValue?)
    case notification(method: String, params: JSONValue?)
    case response(id: JSONValue, result: JSONValue)
    case errorResponse(id: JSONValue, code: Int, message: String, data: JSONValue?)

    /// Parses one line; nil when it is not a JSON-RPC 2.0 message (garbage, a stray print).
    init?(line: Data) {
        guard let first = line.first(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }),
              first == UInt8(ascii: "{"),
              let value = try? JSONValue(parsing: line),
              let object = value.objectValue,
              object["jsonrpc"]?.stringValue == "2.0"
        else { return nil }
        if let method = object["method"]?.stringValue {
            if let id = object["id"], id != .null {
                self = .request(id: id, method: method, params: object["params"])
            } else {
                self = .notification(method: method, params: object["params"])
            }
        } else if let id = object["id"] {
            if let error = object["error"]?.objectValue {
                let code = error["code"]?.numberValue.map { Int(exactly: $0.rounded()) ?? 0 } ?? 0
                self = .errorResponse(
                    id: id, code: code, message: error["message"]?.stringValue ?? "", data: error["data"])
            } else if let result = object["result"] {
                self = .response(id: id, result: result)
            } else {
                return nil
            }
        } else {
            return nil
        }
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["jsonrpc": .string("2.0")]
        switch self {
        case .request(let id, let method, let params):
            object["id"] = id
            object["method"] = .string(method)
            if let params { object["params"] = params }
        case .notification(let method, let params):
            object["method"] = .string(method)
            if let params { object["params"] = params }
        case .response(let id, let result):
            object["id"] = id
            object["result"] = result
        case .errorResponse(let id, let code, let message, let data):
            object["id"] = id
            var error: [String: JSONValue] = ["code": .number(Double(code)), "message": .string(message)]
            if let data { error["data"] = data }
            object["error"] = .object(error)
        }
        return .object(object)
    }

    /// The message as one line: compact JSON (string newlines are escaped) plus "\n".
    func line() -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        json.write(into: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        return Data(bytes)
    }
}
