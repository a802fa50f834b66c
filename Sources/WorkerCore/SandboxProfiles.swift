import Foundation
import Logging
import Sandbox

/// The sandbox profiles this worker has compiled, by name: each is compiled and written once,
/// then shared by every task that names it. An unknown or invalid profile is an error for that
/// task (it fails for good), never a fallback to a weaker sandbox.
actor SandboxProfiles {
    let installation: SandboxInstallation
    /// Where compiled programs are written: `<work_dir>/.sandbox`, private to the worker.
    let directory: String
    let logger: Logger
    private var prepared: [String: PreparedSandbox] = [:]

    init(installation: SandboxInstallation, workDirectory: String, logger: Logger) {
        self.installation = installation
        self.directory = URL(fileURLWithPath: workDirectory).appendingPathComponent(".sandbox").path
        self.logger = logger
    }

    func prepare(_ name: String) throws -> PreparedSandbox {
        if let ready = prepared[name] { return ready }
        let ready = try PreparedSandbox.prepare(name, installation: installation, directory: directory)
        if ready.bpfFile == nil {
            logger.warning(
                "sandbox profile has NO syscall filter: tools run with limits only",
                metadata: ["bosun.sandbox.profile": "\(name)"])
        }
        prepared[name] = ready
        return ready
    }
}
