import BosunProtocol
import Foundation
import Testing
@testable import MCP

@Suite struct MCPToolboxTests {
    @Test func listsAndCallsToolsAcrossServers() async throws {
        let toolbox = MCPToolbox(
            servers: [
                MCPServerConfig(name: "time", command: "mcp-server-time"),
                TestServers.raw("legacy", log: TestServers.tempFile("log"), name: "raw.one"),
                MCPServerConfig(name: "broken", command: "/nonexistent/server"),
            ],
            logger: TestServers.logger)
        await toolbox.start()
        #expect(await toolbox.failures["broken"]?.code == .launchFailed)
        let tools = await toolbox.tools()
        let names = tools.map(\.name)
        #expect(names.contains("mcp__time__get_current_time"))
        #expect(names.contains("mcp__raw_one__echo"))
        #expect(names.allSatisfy { $0.wholeMatch(of: /[a-zA-Z0-9_-]{1,64}/) != nil })

        let echo = await toolbox.call("mcp__raw_one__echo", arguments: .object(["text": .string("hi")]))
        #expect(echo.text == "hi" && !echo.isError)
        let unknown = await toolbox.call("mcp__raw_one__nope", arguments: .object([:]))
        #expect(unknown.isError)
        let rpc = await toolbox.call("mcp__raw_one__structured", arguments: .object(["n": .string("x")]))
        #expect(rpc.isError)
        await toolbox.stop()
        let afterStop = await toolbox.call("mcp__raw_one__echo", arguments: .object(["text": .string("hi")]))
        #expect(afterStop.isError)
    }
}
