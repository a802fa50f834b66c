import BosunProtocol
import Foundation

/// Checks an agent's runtime settings when the agent is saved, so a typo fails at
/// `POST /agents` with a clear message rather than at a worker, turns later. The worker checks
/// again (rule syntax, hook commands) because it is the one that enforces them.
enum AgentSettingsCheck {
    static let permissionModes = ["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk"]
    static let hookEvents = ["PreToolUse", "PostToolUse"]
    static let knownKeys: Set<String> = ["permissions", "hooks", "output_schema"]

    static func validate(_ settings: [String: JSONValue]) throws {
        for key in settings.keys where !knownKeys.contains(key) {
            throw APIError.invalidBody(
                "unknown setting '\(key)'; known settings: \(knownKeys.sorted().joined(separator: ", "))")
        }
        if let permissions = settings["permissions"] {
            guard let object = permissions.objectValue else {
                throw APIError.invalidBody("'settings.permissions' must be an object")
            }
            for (key, value) in object {
                switch key {
                case "defaultMode":
                    guard let mode = value.stringValue, permissionModes.contains(mode) else {
                        throw APIError.invalidBody(
                            "'settings.permissions.defaultMode' must be one of \(permissionModes.joined(separator: ", "))")
                    }
                case "allow", "ask", "deny":
                    guard let rules = value.arrayValue, rules.allSatisfy({ ($0.stringValue ?? "").isEmpty == false }) else {
                        throw APIError.invalidBody(
                            "'settings.permissions.\(key)' must be a list of rules such as \"Bash(git *)\" or \"Edit(src/**)\"")
                    }
                    for rule in rules.compactMap(\.stringValue) where !isRuleShaped(rule) {
                        throw APIError.invalidBody(
                            "permission rule \"\(rule)\" is not 'Tool' or 'Tool(specifier)'")
                    }
                default:
                    throw APIError.invalidBody(
                        "unknown key 'settings.permissions.\(key)' (defaultMode, allow, ask, deny)")
                }
            }
        }
        if let hooks = settings["hooks"] {
            guard let object = hooks.objectValue else { throw APIError.invalidBody("'settings.hooks' must be an object") }
            for (event, matchers) in object {
                guard hookEvents.contains(event) else {
                    throw APIError.invalidBody(
                        "unknown hook event '\(event)' (\(hookEvents.joined(separator: ", ")))")
                }
                guard let list = matchers.arrayValue else {
                    throw APIError.invalidBody("'settings.hooks.\(event)' must be a list of {matcher, hooks}")
                }
                for entry in list {
                    let commands = entry["hooks"]?.arrayValue ?? []
                    guard !commands.isEmpty,
                        commands.allSatisfy({ $0["type"]?.stringValue == "command" && !($0["command"]?.stringValue ?? "").isEmpty })
                    else {
                        throw APIError.invalidBody(
                            "each 'settings.hooks.\(event)' entry needs \"hooks\": [{\"type\": \"command\", \"command\": \"...\"}]")
                    }
                    if let matcher = entry["matcher"]?.stringValue, !matcher.isEmpty, matcher != "*" {
                        guard (try? NSRegularExpression(pattern: matcher)) != nil else {
                            throw APIError.invalidBody("hook matcher '\(matcher)' is not a valid regular expression")
                        }
                    }
                }
            }
        }
        if let schema = settings["output_schema"], schema.objectValue == nil {
            throw APIError.invalidBody("'settings.output_schema' must be a JSON Schema object")
        }
    }

    /// `Tool` or `Tool(specifier)` with a tool name the providers accept.
    static func isRuleShaped(_ rule: String) -> Bool {
        let name: Substring
        if let open = rule.firstIndex(of: "(") {
            guard rule.hasSuffix(")"), rule.index(after: open) < rule.endIndex else { return false }
            name = rule[..<open]
        } else {
            name = Substring(rule)
        }
        return !name.isEmpty && name.count <= 64
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}
