/// Maps MCP tools to the names models see: `mcp__<server>__<tool>` (Claude Code's scheme),
/// sanitised to `^[a-zA-Z0-9_-]{1,64}$`. A name that is too long, or that collides with another
/// after sanitising, is cut and given a stable hash suffix of the exact (server, tool) pair, so
/// the same set of tools always gets the same names whatever the order. The map back is exact.
public struct MCPToolNames: Sendable {
    public struct Tool: Sendable, Hashable {
        public var server: String
        public var tool: String

        public init(server: String, tool: String) {
            self.server = server
            self.tool = tool
        }
    }

    public static let maxLength = 64
    static let hashLength = 8

    private var byExposed: [String: Tool] = [:]
    private var byTool: [Tool: String] = [:]

    public init(_ tools: [Tool]) {
        let unique = Array(Set(tools)).sorted { ($0.server, $0.tool) < ($1.server, $1.tool) }
        var bases: [Tool: String] = [:]
        var counts: [String: Int] = [:]
        for tool in unique {
            let base = "mcp__" + Self.sanitise(tool.server) + "__" + Self.sanitise(tool.tool)
            bases[tool] = base
            counts[base, default: 0] += 1
        }
        for tool in unique {
            let base = bases[tool] ?? ""
            var name = base
            if base.count > Self.maxLength || counts[base, default: 0] > 1 {
                name = Self.hashed(base, tool: tool, salt: 0)
            }
            var salt = 1
            // A hashed name equal to another tool's plain name: re-hash with a salt until free.
            while byExposed[name] != nil || (name != base && counts[name] != nil) {
                name = Self.hashed(base, tool: tool, salt: salt)
                salt += 1
            }
            byExposed[name] = tool
            byTool[tool] = name
        }
    }

    public init(_ pairs: [(server: String, tool: String)]) {
        self.init(pairs.map { Tool(server: $0.server, tool: $0.tool) })
    }

    /// The exposed name of a tool, if it is in the set.
    public func exposedName(server: String, tool: String) -> String? {
        byTool[Tool(server: server, tool: tool)]
    }

    /// The (server, tool) behind an exposed name.
    public func resolve(_ exposedName: String) -> Tool? {
        byExposed[exposedName]
    }

    public var exposedNames: [String] { byExposed.keys.sorted() }

    /// Every character outside `[a-zA-Z0-9_-]` becomes `_`.
    public static func sanitise(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-": return Character(scalar)
            default: return "_"
            }
        })
    }

    static func hashed(_ base: String, tool: Tool, salt: Int) -> String {
        var hash = fnv1a64(Array(tool.server.utf8) + [0] + Array(tool.tool.utf8))
        if salt > 0 { hash = fnv1a64(Array(String(hash, radix: 16).utf8) + Array(String(salt).utf8)) }
        var suffix = String(hash, radix: 16)
        suffix = String(repeating: "0", count: max(0, 16 - suffix.count)) + suffix
        return String(base.prefix(maxLength - hashLength - 1)) + "_" + String(suffix.prefix(hashLength))
    }

    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
