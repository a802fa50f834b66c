import BosunProtocol
import Foundation
import Glibc
import Testing

@testable import Runtimes

@Suite struct WriteToolTests {
    let scratch: ScratchWorkspace
    init() throws { scratch = try ScratchWorkspace() }

    @Test func createsParentDirectoriesAndReportsBytes() async throws {
        let output = await WriteTool()(["file_path": "deep/er/new.txt", "content": "héllo\n"], in: scratch.context())
        #expect(output == .success("Wrote 7 bytes to deep/er/new.txt (new file)."))
        #expect(scratch.read("deep/er/new.txt") == "héllo\n")
    }

    @Test func replacesAnExistingFileAndKeepsItsMode() async throws {
        let path = try scratch.write("run.sh", "old")
        chmod(path, 0o755)
        let output = await WriteTool()(["file_path": .string(path), "content": "new"], in: scratch.context())
        #expect(output.text.contains("replaced the existing file"))
        #expect(scratch.read("run.sh") == "new")
        var info = stat()
        stat(path, &info)
        #expect(info.st_mode & 0o777 == 0o755)
    }

    @Test func refusesEscapesDirectoriesAndDanglingLinksOutside() async throws {
        try scratch.symlink("dangling", to: scratch.outside + "/planted.txt")
        try scratch.symlink("escape", to: scratch.outside)
        try FileManager.default.createDirectory(atPath: scratch.root + "/dir", withIntermediateDirectories: true)
        let context = scratch.context()

        let viaDangling = await WriteTool()(["file_path": "dangling", "content": "x"], in: context)
        #expect(viaDangling == .error("path dangling resolves outside the workspace"))
        #expect(!scratch.exists(scratch.outside + "/planted.txt"))

        let viaDirectory = await WriteTool()(["file_path": "escape/sub/planted.txt", "content": "x"], in: context)
        #expect(viaDirectory.isError)
        #expect(!scratch.exists(scratch.outside + "/sub"))

        let parent = await WriteTool()(["file_path": "../outside/planted.txt", "content": "x"], in: context)
        #expect(parent == .error("path ../outside/planted.txt resolves outside the workspace"))

        let directory = await WriteTool()(["file_path": "dir", "content": "x"], in: context)
        #expect(directory.isError && directory.text.contains("is a directory"))

        let missing = await WriteTool()(["file_path": "a.txt"], in: context)
        #expect(missing == .error("Invalid arguments for Write: content is required"))
    }
}
