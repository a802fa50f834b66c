import Foundation
import Testing

@testable import Runtimes

@Suite struct ReadToolTests {
    let scratch: ScratchWorkspace
    init() throws { scratch = try ScratchWorkspace() }

    @Test func numbersLinesLikeCatN() async throws {
        try scratch.write("a.txt", "first\nsecond\n\tthird\n")
        let output = await ReadTool()(["file_path": "a.txt"], in: scratch.context())
        #expect(!output.isError)
        #expect(output.text == "     1\tfirst\n     2\tsecond\n     3\t\tthird")
    }

    @Test func offsetAndLimitSelectLinesAndSayWhatIsLeft() async throws {
        try scratch.write("long.txt", (1...10).map { "line \($0)" }.joined(separator: "\n"))
        let output = await ReadTool()(["file_path": "long.txt", "offset": 4, "limit": 2], in: scratch.context())
        #expect(output.text.hasPrefix("     4\tline 4\n     5\tline 5\n"))
        #expect(output.text.contains("[showing lines 4-5 of 10 (limit reached); read more with offset 6]"))
        // Numbers sent as strings are accepted.
        let tail = await ReadTool()(["file_path": "long.txt", "offset": "9"], in: scratch.context())
        #expect(tail.text == "     9\tline 9\n    10\tline 10")
        let past = await ReadTool()(["file_path": "long.txt", "offset": 50], in: scratch.context())
        #expect(past.isError)
        #expect(past.text.contains("has 10 lines; offset 50 is past the end"))
    }

    @Test func defaultLimitIs2000LinesAndLongLinesAreCut() async throws {
        try scratch.write("big.txt", (1...2500).map { "l\($0)" }.joined(separator: "\n"))
        try scratch.write("wide.txt", String(repeating: "x", count: 2500) + "\nshort")
        let big = await ReadTool()(["file_path": "big.txt"], in: scratch.context())
        #expect(big.text.contains("  2000\tl2000\n"))
        #expect(!big.text.contains("l2001"))
        #expect(big.text.contains("of 2500"))
        let wide = await ReadTool()(["file_path": "wide.txt"], in: scratch.context())
        #expect(wide.text.hasPrefix("     1\t" + String(repeating: "x", count: 2000) + " [line truncated]\n"))
        #expect(wide.text.hasSuffix("     2\tshort"))
    }

    @Test func outputCapStopsAtAWholeLine() async throws {
        try scratch.write("f.txt", (1...100).map { "line number \($0)" }.joined(separator: "\n"))
        let output = await ReadTool()(["file_path": "f.txt"], in: scratch.context(outputCap: 200))
        #expect(!output.isError)
        #expect(output.text.contains("the output limit of 200 characters was reached"))
        #expect(output.text.count < 400)
    }

    @Test func errorsForDirectoriesMissingFilesBinaryFilesAndEscapes() async throws {
        try FileManager.default.createDirectory(atPath: scratch.root + "/dir", withIntermediateDirectories: true)
        try Data([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]).write(to: URL(fileURLWithPath: scratch.root + "/bin.o"))
        try scratch.write("empty.txt", "")
        try scratch.symlink("passwd", to: "/etc/passwd")
        let context = scratch.context()

        let directory = await ReadTool()(["file_path": "dir"], in: context)
        #expect(directory.isError && directory.text.contains("dir is a directory"))
        let missing = await ReadTool()(["file_path": "nope.txt"], in: context)
        #expect(missing == .error("File does not exist: nope.txt"))
        let binary = await ReadTool()(["file_path": "bin.o"], in: context)
        #expect(binary.isError && binary.text.contains("binary file"))
        let empty = await ReadTool()(["file_path": "empty.txt"], in: context)
        #expect(!empty.isError && empty.text.contains("exists but is empty"))
        let escape = await ReadTool()(["file_path": "passwd"], in: context)
        #expect(escape == .error("path passwd resolves outside the workspace"))
        let outside = await ReadTool()(["file_path": "/etc/hostname"], in: context)
        #expect(outside == .error("path /etc/hostname resolves outside the workspace"))
        let noPath = await ReadTool()(["offset": 1], in: context)
        #expect(noPath == .error("Invalid arguments for Read: file_path is required"))
        let badType = await ReadTool()(["file_path": 12], in: context)
        #expect(badType == .error("Invalid arguments for Read: file_path must be a string"))
    }
}
