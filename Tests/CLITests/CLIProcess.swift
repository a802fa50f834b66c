import BosunTestSupport
import Foundation

/// One run of the built `bosun` binary: its exit code and what it printed.
struct CLIResult: Sendable, CustomStringConvertible {
    var exitCode: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(exitCode)\n--- stdout:\n\(stdout)\n--- stderr:\n\(stderr)" }
}

/// Runs `bosun` as a user would: a child process with its own environment (no BOSUN_* from the
/// test run, HOME in a fresh directory so no real config file is read) and standard input that
/// is not a terminal.
enum CLIProcess {
    /// The directory holding the built executables: the test bundle sits beside them.
    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["BOSUN_TEST_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("bosun").path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }

    static func run(
        _ arguments: [String], environment extra: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> CLIResult {
        try await runProgram(
            binDirectory.appendingPathComponent("bosun").path, arguments, environment: extra, stdin: nil, timeout: timeout)
    }

    static func runProgram(
        _ program: String, _ arguments: [String], environment extra: [String: String], stdin: String?,
        timeout: Duration
    ) async throws -> CLIResult {
        let id = UUID().uuidString.prefix(8)
        let temp = FileManager.default.temporaryDirectory
        let outURL = temp.appendingPathComponent("bosun-cli-\(id).out")
        let errURL = temp.appendingPathComponent("bosun-cli-\(id).err")
        let home = temp.appendingPathComponent("bosun-cli-home-\(id)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
            try? FileManager.default.removeItem(at: home)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BOSUN_") }
        environment["HOME"] = home.path
        environment.merge(extra) { _, new in new }
        process.environment = environment
        process.standardInput = try stdin.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let end = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > end {
                process.terminate()
                process.waitUntilExit()
                let partial = CLIResult(
                    exitCode: -1, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                    stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
                throw TestFailure("bosun \(arguments.joined(separator: " ")) did not finish in \(timeout):\n\(partial)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return CLIResult(
            exitCode: process.terminationStatus, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}

/// `bosun` bound to one control API and key, the way a user's environment would set them.
struct CLI: Sendable {
    var controlURL: String
    var apiKey: String

    init(server: TestServer, apiKey: String) {
        controlURL = server.baseURL
        self.apiKey = apiKey
    }

    init(controlURL: String, apiKey: String) {
        self.controlURL = controlURL
        self.apiKey = apiKey
    }

    init(tenant: Tenant) {
        controlURL = tenant.admin.baseURL
        apiKey = tenant.admin.token ?? ""
    }

    func run(_ arguments: String..., timeout: Duration = .seconds(60)) async throws -> CLIResult {
        try await run(arguments, timeout: timeout)
    }

    func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> CLIResult {
        try await CLIProcess.run(
            arguments, environment: ["BOSUN_CONTROL_URL": controlURL, "BOSUN_API_KEY": apiKey], timeout: timeout)
    }

    /// Runs with `--json` and parses standard output.
    func json(_ arguments: String...) async throws -> Any {
        let result = try await run(arguments + ["--json"])
        guard result.exitCode == 0 else { throw TestFailure("bosun \(arguments) --json failed: \(result)") }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])
    }
}

/// A file in a fresh temporary directory, for `-f FILE`.
func temporaryFile(_ name: String, _ contents: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bosun-cli-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// The UUID after `label` in the CLI's output (`execution <id>`, `id: <id>`).
func uuid(after label: String, in text: String) throws -> UUID {
    for line in text.split(whereSeparator: \.isNewline) {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix(label) else { continue }
        let rest = trimmed.dropFirst(label.count).trimmingCharacters(in: .whitespaces)
        if let id = UUID(uuidString: String(rest.prefix(36))) { return id }
    }
    throw TestFailure("no UUID after '\(label)' in:\n\(text)")
}

/// The `key: value` lines of a block, up to the first blank line.
func keyValues(_ text: String) -> [String: String] {
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.isEmpty { break }
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return fields
}

extension CLIProcess {
    /// Runs `bosun` with a terminal (a pty from util-linux `script`) as its standard input,
    /// output and error, typing `input` into it. Returns the terminal's transcript as stdout.
    static func runInTerminal(
        _ arguments: [String], input: String, environment: [String: String], timeout: Duration = .seconds(60)
    ) async throws -> CLIResult {
        let binary = binDirectory.appendingPathComponent("bosun").path
        let command = ([binary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            .joined(separator: " ")
        let inputFile = try temporaryFile("typed.txt", input)
        // -q quiet, -e the child's exit code, -f flush at once, -c the command; no transcript file.
        return try await runProgram(
            "/usr/bin/script", ["-qefc", command, "/dev/null"], environment: environment, stdin: inputFile,
            timeout: timeout)
    }
}
