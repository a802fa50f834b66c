import Foundation
import Glibc
import Testing

@testable import Sandbox

/// Real processes under the real helper (STYLE rule 11).
@Suite struct SandboxCommandTests {
    static let alwaysDeny = [
        "ptrace", "process_vm_readv", "process_vm_writev", "keyctl", "add_key", "request_key", "unshare", "setns",
        "clone_newns", "clone_newcgroup", "clone_newuts", "clone_newipc", "clone_newuser", "clone_newpid", "clone_newnet",
        "mount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "bpf",
        "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load",
        "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at", "reboot",
        "ioctl_tiocsti", "ioctl_tiocsti_high_bits",
    ]

    @Test func argumentsForDefaultProfile() throws {
        let compiled = try CompiledProfile(try loadProfile("default"))
        let args = SandboxCommand(helper: "/h", compiled: compiled, workspace: "/w", command: ["bash", "-c", "x"]).arguments
        #expect(args.first == "/h")
        #expect(args.suffix(4) == ["--", "bash", "-c", "x"])
        #expect(args.contains("--bpf-fd") && args.contains("--writable") && args.contains("/w") && args.contains("/tmp"))
        #expect(!args.contains("--no-seccomp") && !args.contains("$WORKSPACE"))
        let trusted = SandboxCommand(
            helper: "/h", compiled: try CompiledProfile(try loadProfile("trusted")), workspace: "/w", command: ["true"])
        #expect(trusted.arguments.contains("--no-seccomp") && !trusted.arguments.contains("--bpf-fd"))
    }

    @Test func probeUnsandboxedShowsCallsAreNotRefusedByTheKernelWithEPERM() throws {
        // Baseline: without a filter the probe's calls fail with other errnos or succeed, so the
        // EPERMs below come from the filter.
        let result = try runSandboxed("trusted", [TestPaths.probe])
        let lines = probeLines(result)
        #expect(lines.count > Self.alwaysDeny.count)
        for name in Self.alwaysDeny {
            #expect(lines[name]?.errno != EPERM, "\(name) already fails with EPERM without a filter: \(String(describing: lines[name]))")
        }
    }

    @Test func defaultDeniesEveryAlwaysDenySyscall() throws {
        let result = try runSandboxed("default", [TestPaths.probe])
        #expect(result.termination == .exited(0), "\(result.stderrText)")
        let lines = probeLines(result)
        for name in Self.alwaysDeny {
            #expect(lines[name] == ProbeLine(name: name, ret: -1, errno: EPERM), "\(name)")
        }
        #expect(lines["clone3"] == ProbeLine(name: "clone3", ret: -1, errno: ENOSYS))
        // Not over-broad: ordinary calls still work.
        #expect(lines["clone_plain"]?.ret == 0)
        #expect(lines["ioctl_tcgets"]?.errno == EBADF)
        for name in ["socketpair_unix", "socket_unix", "socket_inet", "socket_inet6"] {
            #expect(lines[name]?.ret == 0, "\(name)")
        }
    }

    @Test(arguments: [
        ["bash", "-c", "echo ok"], ["python3", "-c", "print(1)"], ["git", "--version"],
        ["bash", "-c", "ls / | head -1 && sort /etc/passwd | wc -l && echo data > out.txt && cat out.txt"],
    ])
    func ordinaryToolsWorkUnderDefault(command: [String]) throws {
        let result = try runSandboxed("default", command)
        #expect(result.termination == .exited(0), "\(command): \(result.stderrText)")
        #expect(!result.stdout.isEmpty)
    }

    @Test func strictRefusesNetworkSocketsButNotUnixOnes() throws {
        let inet = try runSandboxed("strict", ["python3", "-c", "import socket; socket.socket()"])
        #expect(inet.termination == .exited(1))
        #expect(inet.stderrText.contains("PermissionError"), "\(inet.stderrText)")
        let unix = try runSandboxed(
            "strict", ["python3", "-c", "import socket; a, b = socket.socketpair(); a.send(b'x'); print(b.recv(1))"])
        #expect(unix.termination == .exited(0), "\(unix.stderrText)")
        #expect(unix.stdoutText == "b'x'\n")
        let lines = probeLines(try runSandboxed("strict", [TestPaths.probe]))
        #expect(lines["socket_inet"]?.errno == EACCES)
        #expect(lines["socket_inet6"]?.errno == EACCES)
        #expect(lines["socket_netlink"]?.errno == EACCES)
        #expect(lines["socket_unix"]?.ret == 0)
        #expect(lines["socketpair_unix"]?.ret == 0)
        #expect(lines["ptrace"]?.errno == EPERM)
    }

    @Test func foreignArchitecturesAreKilled() throws {
        #if arch(x86_64)
        let plain = try runSandboxed("trusted", [TestPaths.probe, "int80"])
        #expect(plain.termination == .exited(0), "int 0x80 works without a filter: \(plain.stdoutText)")
        let plainX32 = try runSandboxed("trusted", [TestPaths.probe, "x32"])
        #expect(plainX32.termination == .exited(0), "x32 call returns (ENOSYS here) without a filter: \(plainX32.stdoutText)")
        for name in ["default", "strict"] {
            let i386 = try runSandboxed(name, [TestPaths.probe, "int80"])
            #expect(i386.termination == .signaled(SIGSYS), "\(name) int80: \(i386.termination) \(i386.stdoutText)")
            let x32 = try runSandboxed(name, [TestPaths.probe, "x32"])
            #expect(x32.termination == .signaled(SIGSYS), "\(name) x32: \(x32.termination) \(x32.stdoutText)")
        }
        #endif
    }

    @Test func fileSizeLimit() throws {
        let result = try runSandboxed("default", ["dd", "if=/dev/zero", "of=big", "bs=4096", "count=4"]) {
            $0.bosun?.rlimits?.fileSizeBytes = 4096
        }
        #expect(result.termination == .signaled(SIGXFSZ), "\(result.termination) \(result.stderrText)")
        let ok = try runSandboxed("default", ["dd", "if=/dev/zero", "of=small", "bs=4096", "count=1"]) {
            $0.bosun?.rlimits?.fileSizeBytes = 4096
        }
        #expect(ok.termination == .exited(0))
    }

    @Test func cpuLimit() throws {
        let start = Date()
        let result = try runSandboxed("default", ["bash", "-c", "while :; do :; done"]) { $0.bosun?.rlimits?.cpuSeconds = 1 }
        #expect(result.termination == .signaled(SIGXCPU) || result.termination == .signaled(SIGKILL), "\(result.termination)")
        #expect(Date().timeIntervalSince(start) < 20)
    }

    @Test func openFilesLimit() throws {
        let result = try runSandboxed("default", ["python3", "-c", "import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE))"]) {
            $0.bosun?.rlimits?.openFiles = 64
        }
        #expect(result.stdoutText == "(64, 64)\n", "\(result.stderrText)")
    }

    @Test func processLimit() throws {
        // RLIMIT_NPROC does not bind root (the kernel exempts uid 0), so run the helper as nobody.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            Issue.record("setpriv missing: cannot test RLIMIT_NPROC as a non-root user")
            return
        }
        var profile = try loadProfile("default")
        profile.bosun?.rlimits?.processes = 5
        let workspace = try makeWorkspace()
        let sandbox = SandboxCommand(
            helper: TestPaths.helper, compiled: try CompiledProfile(profile), workspace: workspace,
            command: [TestPaths.probe, "fork", "30"])
        let args = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + sandbox.arguments : sandbox.arguments
        let result = try SandboxedProcess.run(
            executable: args[0], arguments: args, extraFile: (SandboxCommand.bpfFD, sandbox.compiled.program!))
        let fork = probeLines(result)["fork"]
        #expect(fork != nil, "\(result.termination) \(result.stderrText)")
        #expect((fork?.ret ?? 99) < 5)
        #expect(fork?.errno == EAGAIN)
    }

    @Test func networkNoneLeavesOnlyLoopback() throws {
        let result = try runSandboxed("strict", ["cat", "/proc/net/dev"])
        #expect(result.termination == .exited(0), "\(result.stderrText)")
        let interfaces = result.stdoutText.split(separator: "\n").dropFirst(2).compactMap {
            $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces)
        }
        #expect(interfaces == ["lo"], "\(interfaces)")
        let host = try runSandboxed("default", ["cat", "/proc/net/dev"])
        print("network: host interfaces \(host.stdoutText.split(separator: "\n").count - 2), strict interfaces \(interfaces)")
    }

    @Test func landlockConfinesWrites() throws {
        guard let layers = Layers.current, layers.landlock else {
            print("SKIPPED landlockConfinesWrites: SandboxLayers.check() reports Landlock unavailable (\(String(describing: Layers.current)))")
            return
        }
        let outside = "/var/tmp/bosun-landlock-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let workspace = try makeWorkspace()
        let victim = outside + "/victim"
        _ = FileManager.default.createFile(atPath: victim, contents: Data("keep".utf8))
        let script = [
            "echo a > inside.txt && echo b > /tmp/bosun-ll-\(UUID().uuidString.prefix(8)) && echo c > /dev/null && echo ok",
            "echo x > \(outside)/f || echo denied", "mkdir \(outside)/d || echo denied2", "rm -f \(victim) || echo denied3",
            "echo x >> \(victim) || echo denied4", "cat \(victim)",
        ].joined(separator: "; ")
        let result = try runSandboxed("default", ["bash", "-c", script], workspace: workspace)
        #expect(result.stdoutText == "ok\ndenied\ndenied2\ndenied3\ndenied4\nkeep", "\(result.stdoutText) \(result.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: outside + "/f"))
        #expect(!FileManager.default.fileExists(atPath: outside + "/d"))
        #expect(FileManager.default.fileExists(atPath: victim))
        #expect(FileManager.default.fileExists(atPath: workspace + "/inside.txt"))
    }

    @Test func networkNoneFailsClosedWhenNoNamespaceCanBeMade() throws {
        // An inner helper running under the default filter (which denies unshare) cannot make a
        // network namespace: it must exit 126 unless told --network-best-effort.
        let inner = [TestPaths.helper, "--no-seccomp", "--network", "none"]
        let refused = try runSandboxed("default", inner + ["--", "echo", "ran"])
        #expect(refused.termination == .exited(126), "\(refused.stderrText)")
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderrText.hasPrefix("bosun-sandbox: network none: cannot unshare"), "\(refused.stderrText)")
        let lenient = try runSandboxed("default", inner + ["--network-best-effort", "--", "echo", "ran"])
        #expect(lenient.termination == .exited(0))
        #expect(lenient.stdoutText == "ran\n")
        #expect(lenient.stderrText.contains("warning: network namespace unavailable"))
    }

    @Test func networkNoneThroughAUserNamespaceForNonRoot() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            print("SKIPPED networkNoneThroughAUserNamespaceForNonRoot: needs root (to become nobody) and setpriv")
            return
        }
        let args = [
            "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TestPaths.helper, "--no-seccomp",
            "--network", "none", "--", "bash", "-c", "id -u; cat /proc/net/dev",
        ]
        let result = try SandboxedProcess.run(executable: args[0], arguments: args)
        let lines = result.stdoutText.split(separator: "\n")
        if result.termination == .exited(126) {
            // Unprivileged user namespaces are off on this host: the helper refused, as it must.
            #expect(result.stderrText.hasPrefix("bosun-sandbox: network none"))
            print("networkNoneThroughAUserNamespaceForNonRoot: user namespaces refused here; helper failed closed")
            return
        }
        #expect(result.termination == .exited(0), "\(result.stderrText)")
        #expect(lines.first == "65534", "uid kept: \(lines)")
        let interfaces = lines.dropFirst(3).compactMap { $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) }
        #expect(interfaces == ["lo"])
    }

    @Test func joinsTheTaskCgroup() throws {
        guard let layers = Layers.current, let mount = layers.cgroupV2Mount, layers.cgroupV2Writable else {
            print("SKIPPED joinsTheTaskCgroup: no writable cgroup v2 hierarchy (\(String(describing: Layers.current)))")
            return
        }
        let name = "bosun-sandbox-test-\(UUID().uuidString.prefix(8))"
        let dir = mount + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { rmdir(dir) }
        let sandbox = SandboxCommand(
            helper: TestPaths.helper, compiled: try CompiledProfile(try loadProfile("default")), workspace: try makeWorkspace(),
            command: ["cat", "/proc/self/cgroup"], cgroup: dir)
        let result = try sandbox.run()
        #expect(result.termination == .exited(0), "\(result.stderrText)")
        #expect(result.stdoutText.contains("0::/\(name)"), "\(result.stdoutText)")
        let missing = SandboxCommand(
            helper: TestPaths.helper, compiled: try CompiledProfile(try loadProfile("default")), workspace: try makeWorkspace(),
            command: ["echo", "ran"], cgroup: dir + "/no-such-cgroup")
        let refused = try missing.run()
        #expect(refused.termination == .exited(126) && refused.stdout.isEmpty, "\(refused.stderrText)")
    }

    @Test func toolDiesWithItsParent() throws {
        // PR_SET_PDEATHSIG(SIGKILL): an intermediate parent starts the helper and exits.
        let script = "\(TestPaths.helper) --no-seccomp -- sleep 300 </dev/null >/dev/null 2>&1 & echo $!; sleep 0.3"
        let result = try SandboxedProcess.run(executable: "/bin/bash", arguments: ["bash", "-c", script])
        guard let pid = pid_t(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            Issue.record("no pid: \(result.stdoutText) \(result.stderrText)")
            return
        }
        var alive = true
        for _ in 0..<100 where alive {
            usleep(20_000)
            alive = isAlive(pid)
        }
        if alive { kill(pid, SIGKILL) }
        #expect(!alive, "sleep \(pid) outlived its parent")
    }

    @Test func helperRefusesABrokenFilter() throws {
        let garbage: [UInt8] = [0xff, 0xff, 0, 0, 0, 0, 0, 0]  // invalid BPF opcode
        let bad = try SandboxedProcess.run(
            executable: TestPaths.helper, arguments: [TestPaths.helper, "--bpf-fd", "3", "--", "echo", "ran"],
            extraFile: (3, garbage))
        #expect(bad.termination == .exited(126))
        #expect(bad.stderrText.hasPrefix("bosun-sandbox: loading the seccomp filter"), "\(bad.stderrText)")
        #expect(bad.stdout.isEmpty)
        let torn = try SandboxedProcess.run(
            executable: TestPaths.helper, arguments: [TestPaths.helper, "--bpf-fd", "3", "--", "echo", "ran"],
            extraFile: (3, [1, 2, 3]))
        #expect(torn.termination == .exited(126) && torn.stdout.isEmpty, "\(torn.stderrText)")
        let none = try SandboxedProcess.run(executable: TestPaths.helper, arguments: [TestPaths.helper, "--", "echo", "ran"])
        #expect(none.termination == .exited(126) && none.stdout.isEmpty && none.stderrText.contains("no seccomp program"))
        let missing = try runSandboxed("default", ["/nonexistent/tool"])
        #expect(missing.termination == .exited(127), "\(missing.stderrText)")
        let badFlag = try SandboxedProcess.run(
            executable: TestPaths.helper, arguments: [TestPaths.helper, "--no-seccomp", "--rlimit", "cpu=lots", "--", "echo", "ran"])
        #expect(badFlag.termination == .exited(126) && badFlag.stdout.isEmpty)
    }

    @Test func killingTheProcessGroupKillsTheToolAndItsChildren() throws {
        let compiled = try CompiledProfile(try loadProfile("default"))
        let sandbox = SandboxCommand(
            helper: TestPaths.helper, compiled: compiled, workspace: try makeWorkspace(),
            command: ["bash", "-c", "sleep 300 & sleep 300 & (sleep 300 &) ; wait"])
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        let process = try sandbox.spawn(stdin: null, stdout: null, stderr: null)
        var members: [pid_t] = []
        for _ in 0..<100 where members.count < 4 {
            usleep(20_000)
            members = processes(inGroup: process.pid)
        }
        #expect(members.count >= 4, "bash and three sleeps: \(members)")
        #expect(getpgid(process.pid) == process.pid)
        #expect(getsid(process.pid) == process.pid)
        #expect(process.killGroup(SIGKILL))
        #expect(process.wait() == .signaled(SIGKILL))
        var alive = members
        for _ in 0..<100 where !alive.isEmpty {
            usleep(20_000)
            alive = members.filter(isAlive)
        }
        #expect(alive.isEmpty, "still running: \(alive)")
    }

    @Test func theTestProcessItselfIsUnconfined() throws {
        _ = try runSandboxed("default", ["true"])
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        #expect(status.contains("Seccomp:\t0"))
        #expect(status.contains("NoNewPrivs:\t0"))
    }
}

/// Live (non-zombie) processes whose process group is `pgid`.
func processes(inGroup pgid: pid_t) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { pid_t($0) }.filter { pid in
        guard let stat = procStat(pid) else { return false }
        return stat.state != "Z" && stat.pgrp == pgid
    }
}

func isAlive(_ pid: pid_t) -> Bool {
    guard let stat = procStat(pid) else { return false }
    return stat.state != "Z"
}

/// (state, pgrp) from /proc/PID/stat; the command name may contain spaces, so split after ')'.
func procStat(_ pid: pid_t) -> (state: String, pgrp: pid_t)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 3, let pgrp = pid_t(fields[2]) else { return nil }
    return (String(fields[0]), pgrp)
}
