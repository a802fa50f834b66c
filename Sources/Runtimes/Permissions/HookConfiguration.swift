import BosunProtocol
import Foundation

/// Hooks in Claude Code's settings shape (the value of `hooks` in settings.json):
///
///     {"PreToolUse": [{"matcher": "Bash|Write",
///                      "hooks": [{"type": "command", "command": "./check.sh", "timeout": 60}]}],
///      "PostToolUse": [...]}
///
/// `matcher` is a regular expression that must match the whole tool name (`Bash|Write`,
/// `mcp__github__.*`); empty, `*` or absent matches every tool. `timeout` is in seconds. Other
/// events are accepted and ignored; a hook whose type is not `command` is skipped with a warning.
public struct HookConfiguration: Sendable, Decodable {
    public struct MatcherGroup: Sendable, Decodable {
        public var matcher: String?
        public var hooks: [HookCommand]
        private let regex: Regex?

        private struct Regex: @unchecked Sendable {
            // NSRegularExpression is immutable and documented as thread-safe.
            let expression: NSRegularExpression
        }

        public init(matcher: String?, hooks: [HookCommand]) throws {
            self.matcher = matcher
            self.hooks = hooks
            regex = try Self.compile(matcher)
        }

        enum CodingKeys: String, CodingKey {
            case matcher, hooks
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            matcher = try container.decodeIfPresent(String.self, forKey: .matcher)
            hooks = try container.decodeIfPresent([HookCommand].self, forKey: .hooks) ?? []
            do {
                regex = try Self.compile(matcher)
            } catch {
                throw DecodingError.dataCorruptedError(
                    forKey: .matcher, in: container,
                    debugDescription: "hook matcher \(matcher.map { "\"\($0)\"" } ?? "") is not a valid regular expression")
            }
        }

        private static func compile(_ matcher: String?) throws -> Regex? {
            guard let matcher, !matcher.isEmpty, matcher != "*" else { return nil }
            return Regex(expression: try NSRegularExpression(pattern: "^(?:" + matcher + ")$"))
        }

        public func matches(tool: String) -> Bool {
            guard let regex else { return true }
            return regex.expression.firstMatch(in: tool, range: NSRange(location: 0, length: tool.utf16.count)) != nil
        }
    }

    public struct HookCommand: Sendable, Decodable, Equatable {
        public var type: String
        public var command: String?
        /// Seconds; `HookRunner.defaultTimeout` when absent.
        public var timeout: Double?

        public init(command: String, timeout: Double? = nil) {
            self.type = "command"
            self.command = command
            self.timeout = timeout
        }
    }

    public var preToolUse: [MatcherGroup]
    public var postToolUse: [MatcherGroup]

    public init(preToolUse: [MatcherGroup] = [], postToolUse: [MatcherGroup] = []) {
        self.preToolUse = preToolUse
        self.postToolUse = postToolUse
    }

    /// From settings JSON (the `hooks` object).
    public init(json: JSONValue) throws {
        self = try JSONDecoder().decode(HookConfiguration.self, from: JSONEncoder().encode(json))
    }

    private struct EventKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: EventKey.self)
        func groups(_ event: HookEvent) throws -> [MatcherGroup] {
            try container.decodeIfPresent([MatcherGroup].self, forKey: EventKey(stringValue: event.rawValue)) ?? []
        }
        preToolUse = try groups(.preToolUse)
        postToolUse = try groups(.postToolUse)
    }

    /// The hooks `event` runs for `tool`, in order, each command once.
    public func hooks(for event: HookEvent, tool: String) -> [HookCommand] {
        let groups = event == .preToolUse ? preToolUse : postToolUse
        var seen: Set<String> = []
        var result: [HookCommand] = []
        for group in groups where group.matches(tool: tool) {
            for hook in group.hooks where seen.insert("\(hook.type)\u{0}\(hook.command ?? "")").inserted {
                result.append(hook)
            }
        }
        return result
    }

    public var isEmpty: Bool { preToolUse.isEmpty && postToolUse.isEmpty }
}
