import BosunProtocol
import BosunSystem
import Foundation
import Logging
@testable import MCP

/// Paths and helpers for the Python test servers in Servers/.
enum TestServers {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Servers").path

    static let logger: Logger = {
        ProcessGroupLauncher.ignoreSIGPIPE()
        var logger = Logger(label: "mcp-tests")
        logger.logLevel = .critical
        return logger
    }()

    static func tempFile(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    static func raw(_ mode: String, log: String, env: [String: String] = [:], name: String = "raw") -> MCPServerConfig {
        MCPServerConfig(name: name, command: "python3", args: ["\(directory)/raw_server.py", mode, log], env: env)
    }

    static func supervisor(
        _ server: MCPServerConfig, secrets: [String: String] = [:], workingDirectory: String? = nil,
        configure: (inout MCPServerSupervisor.Configuration) -> Void = { _ in }
    ) -> MCPServerSupervisor {
        var configuration = MCPServerSupervisor.Configuration()
        configuration.connection.shutdownGrace = .milliseconds(500)
        configure(&configuration)
        return MCPServerSupervisor(
            server: server, secrets: secrets, baseEnvironment: MCPToolbox.defaultBaseEnvironment,
            workingDirectory: workingDirectory, configuration: configuration, logger: logger)
    }

    /// The JSON messages a raw server logged.
    static func received(_ log: String) -> [JSONValue] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }
}
