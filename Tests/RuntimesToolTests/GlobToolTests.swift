import Foundation
import Testing

@testable import Runtimes

@Suite struct GlobToolTests {
    let scratch: ScratchWorkspace
    init() throws { scratch = try ScratchWorkspace() }

    @Test func findsFilesNewestFirstRelativeToTheWorkspace() async throws {
        try scratch.write("src/old.swift", "")
        try scratch.write("src/deep/new.swift", "")
        try scratch.write("src/mid.swift", "")
        try scratch.write("README.md", "")
        scratch.touch("src/old.swift", seconds: 1_000)
        scratch.touch("src/mid.swift", seconds: 2_000)
        scratch.touch("src/deep/new.swift", seconds: 3_000)

        let all = await GlobTool()(["pattern": "**/*.swift"], in: scratch.context())
        #expect(all == .success("src/deep/new.swift\nsrc/mid.swift\nsrc/old.swift"))
        let top = await GlobTool()(["pattern": "*.swift", "path": "src"], in: scratch.context())
        #expect(top == .success("src/mid.swift\nsrc/old.swift"))
        let braces = await GlobTool()(["pattern": "**/*.{md,txt}"], in: scratch.context())
        #expect(braces == .success("README.md"))
        let absolute = await GlobTool()(["pattern": .string(scratch.root + "/src/*.swift")], in: scratch.context())
        #expect(absolute == .success("src/mid.swift\nsrc/old.swift"))
        let none = await GlobTool()(["pattern": "**/*.rs"], in: scratch.context())
        #expect(none == .success("No files found"))
    }

    @Test func skipsGitAndNeverFollowsSymlinkedDirectories() async throws {
        try scratch.write(".git/objects/x.swift", "")
        try scratch.write("a.swift", "")
        try scratch.write(scratch.outside + "/leak.swift", "")
        try scratch.symlink("outside-dir", to: scratch.outside)
        let output = await GlobTool()(["pattern": "**/*.swift"], in: scratch.context())
        #expect(output == .success("a.swift"))
        let escape = await GlobTool()(["pattern": "*", "path": "outside-dir"], in: scratch.context())
        #expect(escape == .error("path outside-dir resolves outside the workspace"))
        let missing = await GlobTool()(["pattern": "*", "path": "nope"], in: scratch.context())
        #expect(missing == .error("Path does not exist: nope"))
        let outsidePattern = await GlobTool()(["pattern": "/etc/*"], in: scratch.context())
        #expect(outsidePattern.isError)
    }

    @Test func capsAt1000Results() async throws {
        for index in 0..<1005 { _ = FileManager.default.createFile(atPath: scratch.root + "/f\(index).txt", contents: nil) }
        let output = await GlobTool()(["pattern": "*.txt"], in: scratch.context(outputCap: 1_000_000))
        let lines = output.text.split(separator: "\n")
        #expect(lines.count == 1001)
        #expect(lines.last == "[results truncated: showing 1000 of 1005 files; use a more specific pattern or path]")
    }
}
