import BosunSystem
import Foundation
import Synchronization
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

    @Test func writesKeepTheirOrderWhenThePipeIsFullAndAHandlerGetsEveryEvent() async throws {
        // `cat` echoes lines; 2 MB is far more than a pipe holds, so most of it goes through the
        // writer thread while later small writes queue behind it.
        let child = try spawn("cat")
        let lines = Mutex<[Data]>([])
        let finished = Mutex<(closed: Bool, exited: Bool)>((false, false))
        let big = Data(repeating: UInt8(ascii: "x"), count: 2 << 20) + Data("\n".utf8)
        try child.write(Data("first\n".utf8))
        try child.write(big)
        for index in 0..<50 { try child.write(Data("small \(index)\n".utf8)) }
        child.handleEvents { event in
            switch event {
            case .stdoutLine(let line): lines.withLock { $0.append(line) }
            case .stdoutClosed: finished.withLock { $0.closed = true }
            case .exited: finished.withLock { $0.exited = true }
            case .stderrLine: break
            }
        }
        child.closeStdin()
        #expect(await child.wait() == .exited(0))
        let deadline = ContinuousClock.now + .seconds(10)
        while !finished.withLock({ $0.closed && $0.exited }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let received = lines.withLock { $0 }
        #expect(received.count == 52)
        #expect(received.first == Data("first".utf8))
        #expect(received.dropFirst().first?.count == 2 << 20)
        #expect(received.last == Data("small 49".utf8))
        #expect(received.dropFirst(2).map { String(decoding: $0, as: UTF8.self) } == (0..<50).map { "small \($0)" })
    }

    @Test func terminateGroupStopsAChildThatIgnoresStdin() async throws {
        let child = try spawn("sleep 30")
        #expect(await child.wait(upTo: .milliseconds(100)) == nil)
        let stop = await child.terminateGroup(grace: .seconds(1))
        #expect(stop == .exitedAfterSIGTERM)
        #expect(child.exitStatus != nil)
    }
}
