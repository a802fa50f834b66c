import Testing

@testable import Runtimes

@Suite struct SearchExclusionsTests {
    @Test func grepAndGlobOverTheRootSkipFilesReadRulesDenyOrAsk() async throws {
        let scratch = try ScratchWorkspace()
        try scratch.write("src/app.swift", "token = 1\n")
        try scratch.write("secrets/key.pem", "token = 2\n")
        try scratch.write("config/.env", "token = 3\n")
        try scratch.write("notes/private.md", "token = 4\n")
        let policy = try PermissionPolicy(
            mode: .bypassPermissions, ask: ["Read(notes/private.md)"], deny: ["Read(secrets/**)", "Read(*.env)", "Bash(rm *)"])
        var context = scratch.context()
        context.searchExclusions = policy.searchExclusions

        // The call itself is allowed: its path is the root.
        #expect(policy.evaluate(tool: "Grep", isReadOnly: true, arguments: ["pattern": "token"], workspace: scratch.workspace).isAllowed)
        let grep = await GrepTool()(["pattern": "token", "output_mode": "content"], in: context)
        #expect(grep == .success("src/app.swift:1:token = 1"))
        let glob = await GlobTool()(["pattern": "**/*"], in: context)
        #expect(glob == .success("src/app.swift"))

        // Without exclusions everything shows.
        let open = await GrepTool()(["pattern": "token"], in: scratch.context())
        #expect(open.text.hasPrefix("Found 4 files"))
        #expect(SearchExclusions.none.isEmpty)
    }
}
