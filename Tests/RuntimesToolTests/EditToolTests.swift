import Foundation
import Testing

@testable import Runtimes

@Suite struct EditToolTests {
    let scratch: ScratchWorkspace
    init() throws { scratch = try ScratchWorkspace() }

    @Test func replacesAUniqueStringAndShowsTheRegion() async throws {
        try scratch.write("main.swift", "let a = 1\nlet b = 2\nlet c = 3\n")
        let output = await EditTool()(
            ["file_path": "main.swift", "old_string": "let b = 2", "new_string": "let b = 20\nlet bb = 21"],
            in: scratch.context())
        #expect(!output.isError)
        #expect(output.text.hasPrefix("Edited main.swift: replaced 1 occurrence of old_string."))
        #expect(output.text.contains("     2\tlet b = 20\n     3\tlet bb = 21"))
        #expect(scratch.read("main.swift") == "let a = 1\nlet b = 20\nlet bb = 21\nlet c = 3\n")
    }

    @Test func notUniqueWithoutReplaceAllSaysHowMany() async throws {
        try scratch.write("f.txt", "foo bar foo baz foo")
        let refused = await EditTool()(["file_path": "f.txt", "old_string": "foo", "new_string": "qux"], in: scratch.context())
        #expect(refused.isError)
        #expect(refused.text.contains("old_string occurs 3 times in f.txt"))
        #expect(scratch.read("f.txt") == "foo bar foo baz foo")

        let all = await EditTool()(
            ["file_path": "f.txt", "old_string": "foo", "new_string": "qux", "replace_all": true], in: scratch.context())
        #expect(all.text.hasPrefix("Edited f.txt: replaced 3 occurrences"))
        #expect(scratch.read("f.txt") == "qux bar qux baz qux")
    }

    @Test func missingOrUnchangedStringsAreErrors() async throws {
        try scratch.write("f.txt", "hello world")
        let context = scratch.context()
        let missing = await EditTool()(["file_path": "f.txt", "old_string": "absent", "new_string": "x"], in: context)
        #expect(missing.isError && missing.text.contains("old_string was not found in f.txt"))
        let same = await EditTool()(["file_path": "f.txt", "old_string": "hello", "new_string": "hello"], in: context)
        #expect(same == .error("old_string and new_string are the same; there is nothing to change"))
        let noFile = await EditTool()(["file_path": "nope.txt", "old_string": "a", "new_string": "b"], in: context)
        #expect(noFile == .error("File does not exist: nope.txt"))
        #expect(scratch.read("f.txt") == "hello world")
    }

    @Test func matchesBytesExactlyAndKeepsCRLF() async throws {
        try scratch.write("crlf.txt", "one\r\ntwo\r\n")
        let output = await EditTool()(
            ["file_path": "crlf.txt", "old_string": "two\r\n", "new_string": "2\r\n"], in: scratch.context())
        #expect(!output.isError)
        #expect(scratch.read("crlf.txt") == "one\r\n2\r\n")
        // Overlapping candidates: "aaa" in "aaaa" is two overlapping, one non-overlapping match.
        try scratch.write("a.txt", "aaaa")
        let overlap = await EditTool()(["file_path": "a.txt", "old_string": "aa", "new_string": "b"], in: scratch.context())
        #expect(overlap.text.contains("occurs 2 times"))
    }

    @Test func emptyOldStringCreatesANewFile() async throws {
        let output = await EditTool()(
            ["file_path": "new/file.txt", "old_string": "", "new_string": "content"], in: scratch.context())
        #expect(output == .success("Created new/file.txt with 7 bytes."))
        #expect(scratch.read("new/file.txt") == "content")
        let again = await EditTool()(
            ["file_path": "new/file.txt", "old_string": "", "new_string": "other"], in: scratch.context())
        #expect(again.isError)
    }

    @Test func refusesFilesOutsideTheWorkspace() async throws {
        try scratch.write(scratch.outside + "/t.txt", "target")
        try scratch.symlink("t.txt", to: scratch.outside + "/t.txt")
        let output = await EditTool()(["file_path": "t.txt", "old_string": "target", "new_string": "pwned"], in: scratch.context())
        #expect(output == .error("path t.txt resolves outside the workspace"))
        #expect(scratch.read(scratch.outside + "/t.txt") == "target")
    }
}
