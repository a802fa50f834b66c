import Foundation
import Glibc
import Testing

@testable import BosunSystem

@Suite struct ProcessGroupLauncherTests {
    private func run(
        _ executable: String, _ arguments: [String] = [],
        environment: [String: String] = ProcessFixtures.environment, in directory: String? = nil
    ) async throws -> ChildOutput {
        try await ProcessGroupLauncher.spawn(
            executable: executable, arguments: arguments, environment: environment, workingDirectory: directory
        ).output()
    }

    @Test func capturesExitCodeStdoutAndStderr() async throws {
        let result = try await run("/bin/sh", ["-c", "echo out; echo err >&2; printf 'no newline'; exit 3"])
        #expect(result.status == .exited(3))
        #expect(String(decoding: result.stdout, as: UTF8.self) == "out\nno newline")
        #expect(String(decoding: result.stderr, as: UTF8.self) == "err\n")
        #expect(!result.stdoutTruncated && !result.stderrTruncated)
    }

    @Test func drainsBothStreamsConcurrently() async throws {
        // More than a pipe buffer (64 KiB) on each stream: reading one at a time would deadlock.
        let result = try await run("/bin/sh", ["-c", "head -c 1000000 /dev/zero; head -c 700000 /dev/zero >&2"])
        #expect(result.status == .exited(0))
        #expect(result.stdout.count == 1_000_000)
        #expect(result.stderr.count == 700_000)
    }

    @Test func truncatesCapturedOutputButKeepsDrainingIt() async throws {
        let child = try ProcessGroupLauncher.spawn(
            executable: "/bin/sh", arguments: ["-c", "head -c 500000 /dev/zero; echo done >&2"],
            environment: ProcessFixtures.environment, workingDirectory: nil, maxCapturedBytes: 1000)
        let result = await child.output()
        // The child was not killed by SIGPIPE nor blocked: the pipe was read to the end.
        #expect(result.status == .exited(0))
        #expect(result.stdout.count == 1000)
        #expect(result.stdoutTruncated)
        #expect(String(decoding: result.stderr, as: UTF8.self) == "done\n")
        #expect(!result.stderrTruncated)
    }

    @Test func childGetsExactlyTheScrubbedEnvironment() async throws {
        let worker = ProcessFixtures.environment.merging([
            "NOTIFY_SOCKET": "/run/systemd/notify",
            "WATCHDOG_USEC": "30000000",
            "BOSUN_API_KEY": "bsk_secret",
            "TASK_VISIBLE": "yes",
        ]) { $1 }
        // A bare name is looked up on the child's PATH.
        let result = try await run("env", environment: ChildEnvironment.scrubbed(worker))
        let lines = Set(String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init))
        #expect(lines == ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C", "TASK_VISIBLE=yes"])
    }

    @Test func runsInTheWorkingDirectoryWithRelativeExecutables() async throws {
        let directory = try ScratchDirectory()
        let script = directory.path + "/hello.sh"
        try "#!/bin/sh\npwd\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let result = try await run("./hello.sh", in: directory.path)
        #expect(result.status == .exited(0))
        #expect(String(decoding: result.stdout, as: UTF8.self) == directory.path + "\n")
    }

    @Test func leadsItsOwnProcessGroup() async throws {
        let result = try await run("/bin/sh", ["-c", "cut -d' ' -f5 /proc/$$/stat; echo $$"])
        let fields = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").compactMap { pid_t($0) }
        #expect(fields.count == 2)
        #expect(fields.first == fields.last, "pgid == pid")
        #expect(fields.first != getpgrp())
    }

    @Test func stdinIsDevNullAndNoStrayDescriptorsLeak() async throws {
        // Deliberately without O_CLOEXEC: only closefrom in the child keeps it out.
        let stray = open("/dev/null", O_RDONLY)
        defer { close(stray) }
        let result = try await run("/bin/sh", ["-c", "readlink /proc/$$/fd/0; ls /proc/$$/fd"])
        let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.first == "/dev/null")
        // 0-2, plus whatever the shell opened for itself (ls's pipe is none: ls lists sh's fds).
        let descriptors = Set(lines.dropFirst().compactMap { Int32($0) })
        #expect(descriptors.isSuperset(of: [0, 1, 2]))
        #expect(!descriptors.contains(stray))
        #expect(descriptors.allSatisfy { $0 <= 2 || $0 >= 10 }, "only 0-2 (dash keeps a copy at >= 10): \(descriptors)")
    }

    @Test func resetsSignalDispositionsAndMask() async throws {
        ProcessGroupLauncher.ignoreSIGPIPE()
        #expect(ProcessFixtures.ignores(getpid(), SIGPIPE))
        // Block a signal on this thread for the duration of the spawn: the child must not
        // inherit the mask of whichever thread happened to start it.
        var blocked = sigset_t()
        var previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let child = try ProcessGroupLauncher.spawn(
            executable: "/bin/grep", arguments: ["-E", "^Sig(Ign|Blk)", "/proc/self/status"],
            environment: ProcessFixtures.environment, workingDirectory: nil)
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        let result = await child.output()
        #expect(String(decoding: result.stdout, as: UTF8.self) == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n")
    }

    @Test func reportsWhatCouldNotBeStarted() throws {
        let directory = try ScratchDirectory()
        let missing = #expect(throws: SpawnError.self) {
            try ProcessGroupLauncher.spawn(
                executable: "no-such-command-bosun", arguments: [], environment: ProcessFixtures.environment,
                workingDirectory: nil)
        }
        #expect(missing?.code == .executableNotFound)
        #expect(missing?.description.contains("no-such-command-bosun") == true)

        let noDirectory = #expect(throws: SpawnError.self) {
            try ProcessGroupLauncher.spawn(
                executable: "/bin/true", arguments: [], environment: [:], workingDirectory: "/nonexistent/bosun")
        }
        #expect(noDirectory?.code == .workingDirectoryNotFound)

        let plainFile = directory.path + "/notes.txt"
        try "not a program".write(toFile: plainFile, atomically: true, encoding: .utf8)
        chmod(plainFile, 0o644)
        let notExecutable = #expect(throws: SpawnError.self) {
            try ProcessGroupLauncher.spawn(executable: plainFile, arguments: [], environment: [:], workingDirectory: nil)
        }
        #expect(notExecutable?.code == .executableNotFound)

        // Passes the checks but exec fails: the error comes back from posix_spawn itself.
        let script = directory.path + "/broken.sh"
        try "#!/nonexistent/interpreter\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let execFailure = #expect(throws: SpawnError.self) {
            try ProcessGroupLauncher.spawn(executable: script, arguments: [], environment: [:], workingDirectory: nil)
        }
        #expect(execFailure?.code == .spawnFailed)
        #expect(execFailure?.errno == ENOENT)
    }

    @Test func doesNotSearchRelativePathEntries() throws {
        let directory = try ScratchDirectory()
        let shadow = directory.path + "/true"
        try "#!/bin/sh\nexit 9\n".write(toFile: shadow, atomically: true, encoding: .utf8)
        chmod(shadow, 0o755)
        let path = try ProcessGroupLauncher.resolve("true", searchPath: ".::/bin:/usr/bin", workingDirectory: directory.path)
        #expect(path == "/bin/true" || path == "/usr/bin/true")
    }

    @Test func killGroupReportsAGroupThatIsAlreadyGone() async throws {
        let child = try ProcessGroupLauncher.spawn(
            executable: "/bin/true", arguments: [], environment: [:], workingDirectory: nil)
        #expect(await child.wait() == .exited(0))
        #expect(await ProcessGroupLauncher.killGroup(child.pid, grace: .seconds(1)) == .alreadyGone)
    }

    @Test func killGroupStopsAGroupItDidNotStart() async throws {
        // A group made by setsid rather than by the launcher: killGroup works on any pgid.
        let directory = try ScratchDirectory()
        let pidFile = directory.path + "/pids"
        let child = try ProcessGroupLauncher.spawn(
            executable: "/bin/sh", arguments: ["-c", "setsid sh -c 'echo $$ > \(pidFile); sleep 300 & wait' &"],
            environment: ProcessFixtures.environment, workingDirectory: nil, outputDrainTimeout: .milliseconds(100))
        _ = await child.wait()
        let group = try #require(await ProcessFixtures.pids(in: pidFile, count: 1).first)
        #expect(await ProcessGroupLauncher.killGroup(group, grace: .seconds(5)) == .exitedAfterSIGTERM)
        #expect(!ProcessFixtures.isRunning(group))
        #expect(ProcessTable.livingMembers(ofGroup: group).isEmpty)
    }
}
