import BosunProtocol
import Foundation
import Yams

/// A resource definition from a file (`-f agent.yaml`): YAML or JSON, told apart by content
/// (a JSON document starts with `{`), read into the JSON object the API takes. The CLI sends
/// the fields as written, so the control API's validation (and its messages) stays the one truth.
enum DefinitionFile {
    static func load(path: String) throws -> [String: JSONValue] {
        let text: String
        if path == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read \(path)", exit: .usage)
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let name = path == "-" ? "standard input" : path
        return try parse(text, name: name)
    }

    static func parse(_ text: String, name: String) throws -> [String: JSONValue] {
        let value: JSONValue
        if text.drop(while: \.isWhitespace).first == "{" {
            do {
                value = try JSONValue(parsing: text)
            } catch {
                throw CLIError("\(name) is not valid JSON: \(error)", exit: .usage)
            }
        } else {
            do {
                value = try yamlValue(try Yams.load(yaml: text))
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError("\(name) is not valid YAML: \(error)", exit: .usage)
            }
        }
        guard let object = value.objectValue else {
            throw CLIError("\(name) must hold a mapping of fields (name, runtime, model, ...)", exit: .usage)
        }
        return object
    }

    /// Yams' values (`load` resolves the YAML core schema) as JSON.
    static func yamlValue(_ any: Any?) throws -> JSONValue {
        switch any {
        case nil, is NSNull: return .null
        case let value as Bool: return .bool(value)
        case let value as Int: return .number(Double(value))
        case let value as Double: return .number(value)
        case let value as String: return .string(value)
        // YAML timestamps and binary have no JSON form; the API takes them as text.
        case let value as Date: return .string(WireCoding.formatDate(value))
        case let value as Data: return .string(value.base64EncodedString())
        case let value as [Any]: return .array(try value.map(yamlValue))
        case let value as [AnyHashable: Any]:
            var object: [String: JSONValue] = [:]
            for (key, item) in value { object["\(key.base)"] = try yamlValue(item) }
            return .object(object)
        default:
            throw CLIError("unsupported YAML value: \(String(describing: any))", exit: .usage)
        }
    }
}
