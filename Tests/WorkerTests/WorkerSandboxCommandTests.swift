import Foundation
import Testing

/// `bosun-worker sandbox check | run`, the real binary.
@Suite struct WorkerSandboxCommandTests {
    func worker(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = WorkerProcess.binDirectory.appendingPathComponent("bosun-worker")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BOSUN_") }
        environment["BOSUN_SANDBOX_PROFILES"] = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("sandbox-profiles").path
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }

    @Test func checkReportsTheLayers() throws {
        let check = try worker(["sandbox", "check", "--json"])
        #expect(check.status == 0, "\(check.stderr)")
        let layers = try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any]
        #expect(layers?["seccomp"] as? Bool == true)
        #expect(layers?["noNewPrivs"] as? Bool == true || layers?["no_new_privs"] as? Bool == true)
    }

    @Test func runPassesOutputAndStatusThroughAndRefusesWhatTheProfileDenies() throws {
        let ok = try worker(["sandbox", "run", "--", "sh", "-c", "echo hello; echo oops >&2; exit 3"])
        #expect(ok.status == 3)
        #expect(ok.stdout == "hello\n")
        #expect(ok.stderr == "oops\n")
        let denied = try worker(
            ["sandbox", "run", "--profile", "strict", "--", "python3", "-c", "import socket; socket.socket()"])
        #expect(denied.status == 1)
        #expect(denied.stderr.contains("PermissionError"))
        let unknown = try worker(["sandbox", "run", "--profile", "no-such-profile", "--", "true"])
        #expect(unknown.status == 78)
        #expect(unknown.stderr.contains("unknown profile \"no-such-profile\""))
    }
}
