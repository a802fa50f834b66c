import Glibc
import Testing

@testable import BosunSystem

@Suite struct ExitStatusTests {
    /// Status words as the kernel builds them: exit code << 8, or the signal number (with 0x80
    /// for a core dump); 0x7f in the low bits is a stop report, 0xffff a continue report.
    @Test func decodesWaitStatusWords() {
        #expect(ExitStatus(waitStatus: 0) == .exited(0))
        #expect(ExitStatus(waitStatus: 3 << 8) == .exited(3))
        #expect(ExitStatus(waitStatus: 255 << 8) == .exited(255))
        #expect(ExitStatus(waitStatus: SIGKILL) == .signalled(SIGKILL))
        #expect(ExitStatus(waitStatus: SIGSEGV | 0x80) == .signalled(SIGSEGV))
        #expect(ExitStatus(waitStatus: (SIGSTOP << 8) | 0x7f) == nil)
        #expect(ExitStatus(waitStatus: 0xffff) == nil)
    }

    @Test func describesItself() {
        #expect(ExitStatus.exited(0).isSuccess)
        #expect(!ExitStatus.exited(1).isSuccess)
        #expect("\(ExitStatus.exited(2))" == "exited with code 2")
        #expect("\(ExitStatus.signalled(SIGTERM))" == "killed by SIGTERM")
        #expect("\(ExitStatus.signalled(40))" == "killed by signal 40")
    }
}
