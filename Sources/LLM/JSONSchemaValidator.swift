import BosunProtocol
import Foundation

/// Validates a JSON value against a JSON Schema: the subset that structured-output and tool
/// schemas use in practice (type, properties, required, additionalProperties, items, enum,
/// const, numeric and length bounds, pattern, anyOf/oneOf/allOf, local `$ref` to `$defs`).
/// Keywords outside it are ignored rather than guessed at.
public struct JSONSchemaValidator: Sendable {
    public let schema: JSONValue

    public init(schema: JSONValue) {
        self.schema = schema
    }

    /// Every violation, each with the JSON path it is about (`$.items[2].name`); empty when valid.
    public func violations(of value: JSONValue) -> [String] {
        var found: [String] = []
        check(value, against: schema, path: "$", into: &found, depth: 0)
        return found
    }

    public func isValid(_ value: JSONValue) -> Bool { violations(of: value).isEmpty }

    private func check(_ value: JSONValue, against schema: JSONValue, path: String, into found: inout [String], depth: Int) {
        guard depth < 64 else {
            found.append("\(path): schema nesting is too deep")
            return
        }
        if case .bool(let allowed) = schema {
            if !allowed { found.append("\(path): no value is allowed here") }
            return
        }
        guard let rules = schema.objectValue else { return }
        if let reference = rules["$ref"]?.stringValue {
            guard let target = resolve(reference) else {
                found.append("\(path): unresolvable $ref '\(reference)'")
                return
            }
            check(value, against: target, path: path, into: &found, depth: depth + 1)
        }
        if let type = rules["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue].compactMap { $0 }
            if !allowed.isEmpty, !allowed.contains(where: { Self.matches(value, type: $0) }) {
                found.append("\(path): expected \(allowed.joined(separator: " or ")), got \(Self.typeName(value))")
                return
            }
        }
        if let options = rules["enum"]?.arrayValue, !options.contains(where: { Self.equal($0, value) }) {
            found.append("\(path): must be one of \(options.map(\.jsonString).joined(separator: ", "))")
        }
        if let constant = rules["const"], !Self.equal(constant, value) {
            found.append("\(path): must be \(constant.jsonString)")
        }
        switch value {
        case .object(let object):
            checkObject(object, rules: rules, path: path, into: &found, depth: depth)
        case .array(let items):
            if let minimum = rules["minItems"]?.numberValue, Double(items.count) < minimum {
                found.append("\(path): needs at least \(Int(minimum)) items")
            }
            if let maximum = rules["maxItems"]?.numberValue, Double(items.count) > maximum {
                found.append("\(path): allows at most \(Int(maximum)) items")
            }
            if let itemSchema = rules["items"], itemSchema.arrayValue == nil {
                for (index, item) in items.enumerated() {
                    check(item, against: itemSchema, path: "\(path)[\(index)]", into: &found, depth: depth + 1)
                }
            }
        case .string(let text):
            let length = text.count
            if let minimum = rules["minLength"]?.numberValue, Double(length) < minimum {
                found.append("\(path): must be at least \(Int(minimum)) characters")
            }
            if let maximum = rules["maxLength"]?.numberValue, Double(length) > maximum {
                found.append("\(path): must be at most \(Int(maximum)) characters")
            }
            if let pattern = rules["pattern"]?.stringValue, let regex = try? NSRegularExpression(pattern: pattern),
                regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil
            {
                found.append("\(path): does not match the pattern \(pattern)")
            }
        case .number(let number):
            if let minimum = rules["minimum"]?.numberValue, number < minimum {
                found.append("\(path): must be >= \(minimum)")
            }
            if let maximum = rules["maximum"]?.numberValue, number > maximum {
                found.append("\(path): must be <= \(maximum)")
            }
            if let minimum = rules["exclusiveMinimum"]?.numberValue, number <= minimum {
                found.append("\(path): must be > \(minimum)")
            }
            if let maximum = rules["exclusiveMaximum"]?.numberValue, number >= maximum {
                found.append("\(path): must be < \(maximum)")
            }
        default:
            break
        }
        if let all = rules["allOf"]?.arrayValue {
            for sub in all { check(value, against: sub, path: path, into: &found, depth: depth + 1) }
        }
        if let any = rules["anyOf"]?.arrayValue,
            !any.contains(where: { sub in
                var inner: [String] = []
                check(value, against: sub, path: path, into: &inner, depth: depth + 1)
                return inner.isEmpty
            })
        {
            found.append("\(path): matches none of the allowed shapes (anyOf)")
        }
        if let one = rules["oneOf"]?.arrayValue {
            let matching = one.filter { sub in
                var inner: [String] = []
                check(value, against: sub, path: path, into: &inner, depth: depth + 1)
                return inner.isEmpty
            }.count
            if matching != 1 { found.append("\(path): must match exactly one shape (oneOf), matches \(matching)") }
        }
    }

    private func checkObject(
        _ object: [String: JSONValue], rules: [String: JSONValue], path: String, into found: inout [String], depth: Int
    ) {
        let properties = rules["properties"]?.objectValue ?? [:]
        for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
            found.append("\(path): missing required property '\(name)'")
        }
        for (name, member) in object.sorted(by: { $0.key < $1.key }) {
            if let propertySchema = properties[name] {
                check(member, against: propertySchema, path: "\(path).\(name)", into: &found, depth: depth + 1)
            } else if let additional = rules["additionalProperties"] {
                if case .bool(false) = additional {
                    found.append("\(path): unexpected property '\(name)'")
                } else if additional.objectValue != nil {
                    check(member, against: additional, path: "\(path).\(name)", into: &found, depth: depth + 1)
                }
            }
        }
    }

    /// `#/$defs/Name` or `#/definitions/Name` inside this schema.
    private func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        var node = schema
        for part in reference.dropFirst().split(separator: "/") {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let next = node[key] else { return nil }
            node = next
        }
        return node
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
            ("number", .number):
            true
        case ("integer", .number(let number)): number.rounded() == number
        default: false
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .bool: "boolean"
        case .null: "null"
        case .number(let number): number.rounded() == number ? "integer" : "number"
        }
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool { a == b }
}
