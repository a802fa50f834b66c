import Foundation
import Testing

@testable import Runtimes

@Suite struct GrepToolTests {
    let scratch: ScratchWorkspace
    init() throws {
        scratch = try ScratchWorkspace()
        try scratch.write("src/a.swift", "import Foundation\nfunc alpha() {}\n// TODO: beta\n")
        try scratch.write("src/b.ts", "const TODO = 1\nfunction gamma() {}\n")
        try scratch.write("docs/notes.md", "nothing here\n")
        try scratch.write(".git/config", "TODO in git\n")
        try Data([0x54, 0x4f, 0x44, 0x4f, 0x00, 0x01]).write(to: URL(fileURLWithPath: scratch.root + "/blob.bin"))
        scratch.touch("src/a.swift", seconds: 1_000)
        scratch.touch("src/b.ts", seconds: 2_000)
    }

    @Test func filesWithMatchesIsTheDefaultNewestFirst() async {
        let output = await GrepTool()(["pattern": "TODO"], in: scratch.context())
        #expect(output == .success("Found 2 files\nsrc/b.ts\nsrc/a.swift"))
    }

    @Test func contentModeShowsPathLineAndText() async {
        let output = await GrepTool()(["pattern": "func\\w*\\s+\\w+", "output_mode": "content"], in: scratch.context())
        #expect(output == .success("src/a.swift:2:func alpha() {}\nsrc/b.ts:2:function gamma() {}"))
        let noNumbers = await GrepTool()(
            ["pattern": "alpha", "output_mode": "content", "-n": false], in: scratch.context())
        #expect(noNumbers == .success("src/a.swift:func alpha() {}"))
    }

    @Test func countModeCaseInsensitiveGlobAndPath() async {
        let count = await GrepTool()(["pattern": "todo", "-i": true, "output_mode": "count"], in: scratch.context())
        #expect(count == .success("Found 2 matching lines in 2 files\nsrc/a.swift:1\nsrc/b.ts:1"))
        let globbed = await GrepTool()(["pattern": "TODO", "glob": "*.swift"], in: scratch.context())
        #expect(globbed == .success("Found 1 file\nsrc/a.swift"))
        let braces = await GrepTool()(["pattern": "TODO", "glob": "*.{ts,md}"], in: scratch.context())
        #expect(braces == .success("Found 1 file\nsrc/b.ts"))
        let inPath = await GrepTool()(["pattern": "nothing", "path": "docs"], in: scratch.context())
        #expect(inPath == .success("Found 1 file\ndocs/notes.md"))
        let singleFile = await GrepTool()(
            ["pattern": "gamma", "path": "src/b.ts", "output_mode": "content"], in: scratch.context())
        #expect(singleFile == .success("src/b.ts:2:function gamma() {}"))
    }

    @Test func headLimitAndNoMatches() async {
        let limited = await GrepTool()(["pattern": ".", "output_mode": "content", "head_limit": 2], in: scratch.context())
        #expect(limited.text.split(separator: "\n").count == 3)
        #expect(limited.text.hasSuffix("[showing the first 2 of 6 entries (head_limit)]"))
        let none = await GrepTool()(["pattern": "zzz"], in: scratch.context())
        #expect(none == .success("No matches found"))
    }

    @Test func invalidRegexAndBadArgumentsAreClearErrors() async {
        let invalid = await GrepTool()(["pattern": "func(("], in: scratch.context())
        #expect(invalid.isError)
        #expect(invalid.text.hasPrefix("Invalid regular expression \"func((\""))
        let mode = await GrepTool()(["pattern": "x", "output_mode": "lines"], in: scratch.context())
        #expect(mode.isError && mode.text.contains("output_mode must be one of"))
        let escape = await GrepTool()(["pattern": "root", "path": "/etc"], in: scratch.context())
        #expect(escape == .error("path /etc resolves outside the workspace"))
    }

    @Test func doesNotFollowSymlinksOutOfTheWorkspace() async throws {
        try scratch.write(scratch.outside + "/secret.txt", "TODO secret\n")
        try scratch.symlink("link.txt", to: scratch.outside + "/secret.txt")
        try scratch.symlink("linkdir", to: scratch.outside)
        let output = await GrepTool()(["pattern": "secret"], in: scratch.context())
        #expect(output == .success("No matches found"))
    }
}
