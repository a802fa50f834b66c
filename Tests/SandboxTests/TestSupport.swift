import Foundation
import Testing

@testable import Sandbox

enum TestPaths {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let profiles = packageRoot + "/sandbox-profiles"
    /// The build products directory: the test runner lives next to the executables.
    static let products: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }()
    static let helper = products + "/bosun-sandbox"
    static let probe = products + "/SandboxProbe"
}

/// A fresh workspace directory under /tmp, world-traversable so tests may run as `nobody`.
func makeWorkspace() throws -> String {
    let path = "/tmp/bosun-sandbox-test-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
    return path
}

func loadProfile(_ name: String) throws -> SandboxProfile {
    try SandboxProfile.load(name: name, directory: TestPaths.profiles)
}

/// Runs `command` under the helper with the named profile (after `adjust`).
func runSandboxed(
    _ name: String, _ command: [String], workspace: String? = nil, adjust: (inout SandboxProfile) -> Void = { _ in }
) throws -> SandboxedProcess.Result {
    var profile = try loadProfile(name)
    adjust(&profile)
    let dir = try workspace ?? makeWorkspace()
    let sandbox = SandboxCommand(helper: TestPaths.helper, compiled: try CompiledProfile(profile), workspace: dir, command: command)
    return try sandbox.run()
}

struct ProbeLine: Decodable, Equatable {
    var name: String
    var ret: Int
    var errno: Int32
}

func probeLines(_ result: SandboxedProcess.Result) -> [String: ProbeLine] {
    var lines: [String: ProbeLine] = [:]
    for line in result.stdoutText.split(separator: "\n") {
        if let parsed = try? JSONDecoder().decode(ProbeLine.self, from: Data(line.utf8)) { lines[parsed.name] = parsed }
    }
    return lines
}

enum Layers {
    /// Checked once per test run.
    static let current: SandboxLayers? = try? SandboxLayers.check(helper: TestPaths.helper)
}
