import ArgumentParser
import Foundation
import Glibc
import Sandbox

/// What the sandbox adds to starting a tool process: `/bin/true` spawned plainly, under
/// `bosun-sandbox` with the `default` and `strict` profiles, and under bubblewrap (when it is
/// installed) with a comparable network cut. Medians of many spawns, printed, not asserted.
struct SandboxBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox", abstract: "Spawn cost of /bin/true: plain, bosun-sandbox default/strict, bwrap.")

    @Option(help: "Spawns per variant.")
    var runs: Int = 200

    @Option(help: "The bosun-sandbox binary (default: next to this one).")
    var helper: String?

    @Option(help: "Directory of the sandbox profiles.")
    var profiles: String = "sandbox-profiles"

    func validate() throws {
        guard runs >= 10 else { throw ValidationError("--runs must be at least 10") }
    }

    func run() throws {
        let helper = helper ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("bosun-sandbox").path
        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: workspace) }

        let plain = try median("plain /bin/true") { try spawnAndWait(["/bin/true"]) }
        var results: [(String, Double)] = []
        for name in ["default", "strict"] {
            let compiled = try CompiledProfile(try SandboxProfile.load(name: name, directory: profiles))
            let command = SandboxCommand(helper: helper, compiled: compiled, workspace: workspace, command: ["/bin/true"])
            let time = try median("bosun-sandbox \(name) /bin/true") {
                try spawnAndWait(command.arguments, extra: compiled.program.map { (SandboxCommand.bpfFD, $0) })
            }
            results.append((name, time - plain))
        }
        for (name, added) in results { print(String(format: "bosun-sandbox %@ adds %.3f ms over a plain spawn", name, added)) }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap") {
            let bwrap = try median("bwrap --unshare-net --ro-bind / / /bin/true") {
                try spawnAndWait(["/usr/bin/bwrap", "--unshare-net", "--ro-bind", "/", "/", "/bin/true"])
            }
            print(String(format: "bwrap --unshare-net adds %.3f ms over a plain spawn", bwrap - plain))
        } else {
            print("bwrap is not installed (apt-get install bubblewrap) - no comparison")
        }
    }

    private func median(_ label: String, _ body: () throws -> Void) throws -> Double {
        for _ in 0..<5 { try body() }
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        samples.sort()
        let median = samples[samples.count / 2]
        print(String(format: "%@: median %.3f ms, p90 %.3f ms (%d spawns)", label, median, samples[samples.count * 9 / 10], runs))
        return median
    }

    private func spawnAndWait(_ arguments: [String], extra: (Int32, [UInt8])? = nil) throws {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        let process = try SandboxedProcess.spawn(
            executable: arguments[0], arguments: arguments, environment: [:], stdin: null, stdout: null, stderr: null,
            extraFile: extra)
        let termination = process.wait()
        guard termination == .exited(0) else {
            throw ValidationError("\(arguments.joined(separator: " ")) ended with \(termination)")
        }
    }
}
