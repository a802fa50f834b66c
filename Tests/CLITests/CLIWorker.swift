import BosunTestSupport
import Foundation

/// A real `bosun-worker --test-runtime` for the tenant's default queue (after WorkerTests'
/// WorkerProcess, which another test target cannot import).
final class CLIWorker: @unchecked Sendable {
    let process = Process()
    let logURL: URL
    let workDirectory: String

    static func start(for tenant: Tenant) async throws -> CLIWorker {
        let key = try await tenant.createKey(scope: .worker, queue: tenant.queueId)
        let worker = try CLIWorker(controlURL: tenant.admin.baseURL, apiKey: key, queue: tenant.queueId)
        try worker.process.run()
        return worker
    }

    private init(controlURL: String, apiKey: String, queue: UUID) throws {
        let id = UUID().uuidString.prefix(8)
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-cli-worker-\(id).log")
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-cli-work-\(id)").path
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = CLIProcess.binDirectory.appendingPathComponent("bosun-worker")
        process.arguments = ["run", "--test-runtime", "--slots", "1", "--work-dir", workDirectory, "--kill-grace", "1"]
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("BOSUN_") && !$0.key.hasPrefix("NOTIFY_")
        }
        environment["BOSUN_CONTROL_URL"] = controlURL
        environment["BOSUN_API_KEY"] = apiKey
        environment["BOSUN_QUEUE_ID"] = queue.uuidString.lowercased()
        environment["BOSUN_SANDBOX_PROFILES"] = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("sandbox-profiles").path
        process.environment = environment
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Drain, then abort (two SIGTERMs), as an operator stops it; SIGKILL if that fails.
    func stop() async {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            kill(process.processIdentifier, SIGTERM)
            let end = ContinuousClock.now + .seconds(10)
            while process.isRunning && ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        try? FileManager.default.removeItem(atPath: workDirectory)
        try? FileManager.default.removeItem(at: logURL)
    }
}
