import Foundation
import BosunProtocol

/// A tool call's arguments object with typed accessors. Models sometimes send numbers and
/// booleans as strings (`"limit": "50"`); those are accepted. `null` counts as absent.
struct ToolArguments: Sendable {
    let tool: String
    let values: [String: JSONValue]

    init(_ json: JSONValue, tool: String) throws(ToolArgumentError) {
        self.tool = tool
        switch json {
        case .object(let object): values = object.filter { !$0.value.isNull }
        case .null: values = [:]
        default: throw ToolArgumentError("the arguments must be a JSON object")
        }
    }

    subscript(key: String) -> JSONValue? { values[key] }

    func string(_ key: String) throws(ToolArgumentError) -> String {
        guard let value = try optionalString(key) else { throw ToolArgumentError("\(key) is required") }
        return value
    }

    func optionalString(_ key: String) throws(ToolArgumentError) -> String? {
        guard let value = values[key] else { return nil }
        guard case .string(let string) = value else { throw ToolArgumentError("\(key) must be a string") }
        return string
    }

    func optionalInt(_ key: String) throws(ToolArgumentError) -> Int? {
        switch values[key] {
        case nil: return nil
        case .number(let number)?:
            guard number.rounded() == number, abs(number) < 1e15 else {
                throw ToolArgumentError("\(key) must be an integer")
            }
            return Int(number)
        case .string(let string)?:
            guard let number = Int(string.trimmingCharacters(in: .whitespaces)) else {
                throw ToolArgumentError("\(key) must be an integer")
            }
            return number
        default: throw ToolArgumentError("\(key) must be an integer")
        }
    }

    func optionalBool(_ key: String) throws(ToolArgumentError) -> Bool? {
        switch values[key] {
        case nil: return nil
        case .bool(let flag)?: return flag
        case .string("true")?: return true
        case .string("false")?: return false
        default: throw ToolArgumentError("\(key) must be true or false")
        }
    }
}
