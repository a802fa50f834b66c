import BosunSystem
import Foundation
import Testing

@Suite struct InteractiveChildTests {
    init() { ProcessGroupLauncher.ignoreSIGPIPE() }

    private func spawn(_ script: String) throws -> InteractiveChild {
        try InteractiveChild.spawn(
            executable: "/bin/sh", arguments: ["-c", script], environment: ["PATH": "/usr/bin:/bin"],
            workingDirectory: nil)
    }

    @Test func streamsLinesBothWaysAndReportsExit() async throws {
        let child = try spawn("while read line; do echo \"out $line\"; echo \"err $line\" >&2; done; exit 7")
        #expect(getpgid(child.pid) == child.pid)
        try child.write(Data("one\ntwo\n".utf8))
        child.closeStdin()
        var stdout: [String] = []
        var stderr: [String] = []
        var sawClose = false
        var exitedWith7 = false
        for await event in child.events {
            switch event {
            case .stdoutLine(let line): stdout.append(String(decoding: line, as: UTF8.self))
            case .stderrLine(let line): stderr.append(String(decoding: line, as: UTF8.self))
            case .stdoutClosed: sawClose = true
            case .exited(let exit): exitedWith7 = exit == .exited(7)
            }
        }
        #expect(stdout == ["out one", "out two"])
        #expect(stderr == ["err one", "err two"])
        #expect(sawClose)
        #expect(exitedWith7)
        #expect(await child.wait() == .exited(7))
        #expect(throws: SpawnError.self) { try child.write(Data("late\n".utf8)) }
    }

    @Test func terminateGroupStopsAChildThatIgnoresStdin() async throws {
        let child = try spawn("sleep 30")
        #expect(await child.wait(upTo: .milliseconds(100)) == nil)
        let stop = await child.terminateGroup(grace: .seconds(1))
        #expect(stop == .exitedAfterSIGTERM)
        #expect(child.exitStatus != nil)
    }
}
