import Foundation
import Testing

@testable import Runtimes

@Suite struct WorkspaceTests {
    @Test func relativeAndAbsolutePathsInsideResolveToTheRealPath() throws {
        let scratch = try ScratchWorkspace()
        try scratch.write("src/a.txt", "a")
        let workspace = scratch.workspace
        #expect(try workspace.resolve("src/a.txt", forWriting: false) == scratch.root + "/src/a.txt")
        #expect(try workspace.resolve(scratch.root + "/src/a.txt", forWriting: false) == scratch.root + "/src/a.txt")
        #expect(try workspace.resolve("./src/../src/./a.txt", forWriting: false) == scratch.root + "/src/a.txt")
        #expect(try workspace.resolve(".", forWriting: false) == scratch.root)
        #expect(try workspace.resolve("new/dir/file.txt", forWriting: true) == scratch.root + "/new/dir/file.txt")
    }

    @Test func trailingAndRepeatedSlashesAreNormalised() throws {
        let scratch = try ScratchWorkspace()
        try scratch.write("src/a.txt", "a")
        #expect(try scratch.workspace.resolve("src//a.txt/", forWriting: false) == scratch.root + "/src/a.txt")
        #expect(try scratch.workspace.resolve("src///", forWriting: false) == scratch.root + "/src")
        #expect(throws: WorkspaceError.outside("src/../../outside///")) {
            try scratch.workspace.resolve("src/../../outside///", forWriting: false)
        }
    }

    @Test func dotDotOutOfTheRootIsRefused() throws {
        let scratch = try ScratchWorkspace()
        try scratch.write(scratch.outside + "/secret.txt", "secret")
        for path in ["../outside/secret.txt", "src/../../outside/secret.txt", "../../../../etc/passwd"] {
            let error = #expect(throws: WorkspaceError.self) { try scratch.workspace.resolve(path, forWriting: false) }
            #expect(error?.code == .outsideWorkspace)
            #expect(error?.message == "path \(path) resolves outside the workspace")
        }
        // Writing too, and a name that only starts like the root.
        #expect(throws: WorkspaceError.outside("../ws-sibling/x")) {
            try scratch.workspace.resolve("../ws-sibling/x", forWriting: true)
        }
    }

    @Test func absolutePathsOutsideAreRefused() throws {
        let scratch = try ScratchWorkspace()
        for path in ["/etc/passwd", scratch.outside, scratch.root + "-other/file", "/"] {
            #expect(throws: WorkspaceError.outside(path)) { try scratch.workspace.resolve(path, forWriting: false) }
            #expect(throws: WorkspaceError.outside(path)) { try scratch.workspace.resolve(path, forWriting: true) }
        }
    }

    @Test func symlinkToAFileOutsideIsRefusedForReadingAndWriting() throws {
        let scratch = try ScratchWorkspace()
        try scratch.symlink("passwd", to: "/etc/passwd")
        #expect(throws: WorkspaceError.outside("passwd")) { try scratch.workspace.resolve("passwd", forWriting: false) }
        #expect(throws: WorkspaceError.outside("passwd")) { try scratch.workspace.resolve("passwd", forWriting: true) }
    }

    @Test func symlinkedDirectoryPointingOutsideIsRefused() throws {
        let scratch = try ScratchWorkspace()
        try scratch.write(scratch.outside + "/secret.txt", "secret")
        try scratch.symlink("escape", to: scratch.outside)
        #expect(throws: WorkspaceError.outside("escape/secret.txt")) {
            try scratch.workspace.resolve("escape/secret.txt", forWriting: false)
        }
        #expect(throws: WorkspaceError.outside("escape/new.txt")) {
            try scratch.workspace.resolve("escape/new.txt", forWriting: true)
        }
        #expect(throws: WorkspaceError.outside("escape/deeper/new.txt")) {
            try scratch.workspace.resolve("escape/deeper/new.txt", forWriting: true)
        }
    }

    @Test func danglingSymlinkPointingOutsideIsRefusedForWriting() throws {
        let scratch = try ScratchWorkspace()
        try scratch.symlink("dangling", to: scratch.outside + "/created-by-write.txt")
        #expect(throws: WorkspaceError.outside("dangling")) { try scratch.workspace.resolve("dangling", forWriting: true) }
        // A chain of links ending outside, relative targets included.
        try scratch.symlink("hop", to: "dangling")
        #expect(throws: WorkspaceError.outside("hop")) { try scratch.workspace.resolve("hop", forWriting: true) }
    }

    @Test func symlinksInsideTheWorkspaceAreFollowed() throws {
        let scratch = try ScratchWorkspace()
        try scratch.write("real/file.txt", "x")
        try scratch.symlink("alias", to: "real")
        try scratch.symlink("dangling-inside", to: "real/not-yet.txt")
        #expect(try scratch.workspace.resolve("alias/file.txt", forWriting: false) == scratch.root + "/real/file.txt")
        #expect(try scratch.workspace.resolve("dangling-inside", forWriting: true) == scratch.root + "/real/not-yet.txt")
        #expect(throws: WorkspaceError.self) { try scratch.workspace.resolve("dangling-inside", forWriting: false) }
    }

    @Test func aRootReachedThroughASymlinkStillWorks() throws {
        let scratch = try ScratchWorkspace()
        try scratch.write("a.txt", "a")
        let link = scratch.base + "/link-to-ws"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: scratch.root)
        let workspace = try Workspace(root: link)
        #expect(workspace.realRoot == scratch.root)
        #expect(try workspace.resolve("a.txt", forWriting: false) == scratch.root + "/a.txt")
        #expect(try workspace.resolve(link + "/a.txt", forWriting: false) == scratch.root + "/a.txt")
    }

    @Test func symlinkLoopsAndBadPathsFailClearly() throws {
        let scratch = try ScratchWorkspace()
        try scratch.symlink("loop-a", to: "loop-b")
        try scratch.symlink("loop-b", to: "loop-a")
        let loop = #expect(throws: WorkspaceError.self) { try scratch.workspace.resolve("loop-a", forWriting: true) }
        #expect(loop?.code == .symlinkLoop)
        let empty = #expect(throws: WorkspaceError.self) { try scratch.workspace.resolve("", forWriting: false) }
        #expect(empty?.code == .invalidPath)
        let missing = #expect(throws: WorkspaceError.self) { try scratch.workspace.resolve("nope.txt", forWriting: false) }
        #expect(missing?.code == .notFound)
        #expect(throws: WorkspaceError.self) { try Workspace(root: scratch.base + "/does-not-exist") }
    }
}
