import BosunProtocol
import Foundation
import Testing

@testable import Runtimes

@Suite struct ToolBoxTests {
    @Test func builtInsHaveClaudeCodeNamesAndValidSpecs() throws {
        let box = ToolBox()
        #expect(box.names == ["Read", "Write", "Edit", "Glob", "Grep", "Bash", "TodoWrite"])
        #expect(box.tools.filter(\.isReadOnly).map(\.name) == ["Read", "Glob", "Grep", "TodoWrite"])
        let nameRule = try NSRegularExpression(pattern: "^[a-zA-Z0-9_-]{1,64}$")
        for spec in box.specs {
            #expect(nameRule.firstMatch(in: spec.name, range: NSRange(location: 0, length: spec.name.utf16.count)) != nil)
            #expect(spec.inputSchema["type"] == "object")
            let properties = try #require(spec.inputSchema["properties"]?.objectValue)
            for required in spec.inputSchema["required"]?.arrayValue ?? [] {
                #expect(properties[required.stringValue ?? ""] != nil, "\(spec.name): \(required)")
            }
        }
        #expect(box["Grep"]?.spec.inputSchema["properties"]?["-i"] != nil)
        #expect(box["Bash"]?.spec.inputSchema["properties"]?["timeout"] != nil)
        #expect(box["Nope"] == nil)
    }

    @Test func unknownToolsAndNonObjectArgumentsAreErrors() async throws {
        let scratch = try ScratchWorkspace()
        let box = ToolBox()
        let unknown = await box.run("Nope", [:], in: scratch.context())
        #expect(unknown.isError && unknown.text.hasPrefix("No such tool: Nope."))
        let notObject = await box.run("Read", ["a", "b"], in: scratch.context())
        #expect(notObject == .error("Invalid arguments for Read: the arguments must be a JSON object"))
        // Write then Read through the box, end to end.
        _ = await box.run("Write", ["file_path": "x.txt", "content": "one\ntwo"], in: scratch.context())
        #expect(await box.run("Read", ["file_path": "x.txt"], in: scratch.context()) == .success("     1\tone\n     2\ttwo"))
    }
}
