import Glibc
import Testing

@testable import BosunSystem

@Suite struct ProcessTableTests {
    @Test func parsesStatLinesWhateverTheCommandName() {
        let plain = "4242 (sleep) S 4200 4200 4100 0 -1 4194304 97 0 0 0 0 0 0 0 20 0 1 0"
        #expect(ProcessTable.parseStat(plain) == .init(pid: 4242, state: "S", parent: 4200, processGroup: 4200))
        // A command name may hold spaces and parentheses; fields count from the last ')'.
        let odd = "77 (a) b (c) Z 1 70 70 0 -1"
        #expect(ProcessTable.parseStat(odd) == .init(pid: 77, state: "Z", parent: 1, processGroup: 70))
        #expect(ProcessTable.parseStat(odd)?.isDead == true)
        #expect(ProcessTable.parseStat("garbage") == nil)
    }

    @Test func seesThisProcess() throws {
        let me = try #require(ProcessTable.entry(getpid()))
        #expect(me.pid == getpid())
        #expect(me.processGroup == getpgrp())
        #expect(ProcessTable.isAlive(getpid()))
        #expect(!ProcessTable.isGroupGone(getpgrp()))
    }
}
