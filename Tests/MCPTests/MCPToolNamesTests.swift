import Testing
@testable import MCP

@Suite struct MCPToolNamesTests {
    @Test func plainNamesFollowClaudeCodeScheme() {
        let names = MCPToolNames([(server: "time", tool: "get_current_time")])
        #expect(names.exposedName(server: "time", tool: "get_current_time") == "mcp__time__get_current_time")
        #expect(names.resolve("mcp__time__get_current_time") == .init(server: "time", tool: "get_current_time"))
    }

    @Test func illegalCharactersAreReplaced() {
        let names = MCPToolNames([(server: "my.server", tool: "do thing/now")])
        #expect(names.exposedName(server: "my.server", tool: "do thing/now") == "mcp__my_server__do_thing_now")
    }

    @Test func longNamesAreCutWithAStableHash() throws {
        let tool = String(repeating: "x", count: 100)
        let first = try #require(MCPToolNames([(server: "s", tool: tool)]).exposedName(server: "s", tool: tool))
        let second = MCPToolNames([(server: "a", tool: "b"), (server: "s", tool: tool)]).exposedName(server: "s", tool: tool)
        #expect(first.count == 64)
        #expect(first == second)
        #expect(first.wholeMatch(of: /[a-zA-Z0-9_-]{1,64}/) != nil)
    }

    @Test func collisionsGetDistinctHashedNamesAndMapBack() throws {
        let pairs = [(server: "s", tool: "a.b"), (server: "s", tool: "a_b"), (server: "s", tool: "a b")]
        let names = MCPToolNames(pairs)
        let reversed = MCPToolNames(pairs.reversed())
        let exposed = pairs.compactMap { names.exposedName(server: $0.server, tool: $0.tool) }
        #expect(Set(exposed).count == 3)
        for (pair, name) in zip(pairs, exposed) {
            #expect(name.hasPrefix("mcp__s__a_b_"))
            #expect(name.count <= 64)
            #expect(names.resolve(name) == .init(server: pair.server, tool: pair.tool))
            #expect(reversed.exposedName(server: pair.server, tool: pair.tool) == name)
        }
    }

    @Test func unknownNameDoesNotResolve() {
        #expect(MCPToolNames([(server: "s", tool: "t")]).resolve("mcp__s__u") == nil)
    }
}
