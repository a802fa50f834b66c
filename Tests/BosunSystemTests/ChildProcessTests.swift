import Foundation
import Glibc
import Testing

@testable import BosunSystem

@Suite struct ChildProcessTests {
    @Test func terminateGroupLeavesNoOrphans() async throws {
        let directory = try ScratchDirectory()
        let pidFile = directory.path + "/pids"
        let child = try ChildProcess.spawn(
            executable: "/bin/sh",
            arguments: ["-c", "sleep 300 & echo $! >> \(pidFile); sleep 300 & echo $! >> \(pidFile); wait"],
            environment: ProcessFixtures.environment, workingDirectory: nil)
        let sleepers = await ProcessFixtures.pids(in: pidFile, count: 2)
        #expect(sleepers.count == 2)
        #expect(sleepers.allSatisfy { ProcessTable.entry($0)?.processGroup == child.pid })

        let outcome = await child.terminateGroup(grace: .seconds(5))
        #expect(outcome == .exitedAfterSIGTERM)
        #expect(child.exitStatus == .signalled(SIGTERM))
        #expect(!ProcessFixtures.isRunning(child.pid))
        for pid in sleepers {
            #expect(!ProcessFixtures.isRunning(pid), "sleep \(pid) survived")
        }
    }

    @Test func aChildIgnoringSIGTERMIsKilledAfterTheGrace() async throws {
        let child = try ChildProcess.spawn(
            executable: "/bin/sh", arguments: ["-c", "trap '' TERM; sleep 300"],
            environment: ProcessFixtures.environment, workingDirectory: nil)
        // Signal only once the trap is in place, or the shell would die of SIGTERM after all.
        #expect(await ProcessFixtures.eventually { ProcessFixtures.ignores(child.pid, SIGTERM) })

        let started = ContinuousClock.now
        let outcome = await child.terminateGroup(grace: .milliseconds(300))
        let elapsed = ContinuousClock.now - started
        #expect(outcome == .killed)
        #expect(child.exitStatus == .signalled(SIGKILL))
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(5))
    }

    @Test func cancellingTerminationSkipsTheRestOfTheGrace() async throws {
        let child = try ChildProcess.spawn(
            executable: "/bin/sh", arguments: ["-c", "trap '' TERM; sleep 300"],
            environment: ProcessFixtures.environment, workingDirectory: nil)
        #expect(await ProcessFixtures.eventually { ProcessFixtures.ignores(child.pid, SIGTERM) })
        let stopping = Task { await child.terminateGroup(grace: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(100))
        stopping.cancel()
        #expect(await stopping.value == .killed)
        #expect(child.exitStatus == .signalled(SIGKILL))
    }

    @Test func waitDoesNotHangOnAnOrphanHoldingThePipes() async throws {
        let child = try ChildProcess.spawn(
            executable: "/bin/sh", arguments: ["-c", "sleep 300 & echo started"],
            environment: ProcessFixtures.environment, workingDirectory: nil,
            outputDrainTimeout: .milliseconds(200))
        let result = await child.output()
        #expect(result.status == .exited(0))
        #expect(String(decoding: result.stdout, as: UTF8.self) == "started\n")
        // The sleep is still in the group; stopping the group is what ends it.
        #expect(!ProcessTable.livingMembers(ofGroup: child.pid).isEmpty)
        #expect(await child.terminateGroup(grace: .seconds(5)) == .exitedAfterSIGTERM)
        #expect(ProcessTable.livingMembers(ofGroup: child.pid).isEmpty)
    }

    @Test func manyWaitersGetTheSameResult() async throws {
        let child = try ChildProcess.spawn(
            executable: "/bin/sh", arguments: ["-c", "sleep 0.1; echo hi; exit 4"],
            environment: ProcessFixtures.environment, workingDirectory: nil)
        async let first = child.output()
        async let second = child.wait()
        let (output, status) = await (first, second)
        #expect(output.status == .exited(4))
        #expect(status == .exited(4))
        // And after the fact, without suspending for long.
        #expect(await child.output() == output)
    }
}
