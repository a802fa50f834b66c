import Foundation
import Testing

@testable import BosunSystem

struct NvidiaSMITests {
    @Test func locatesOnTheSearchPath() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        #expect(NvidiaSMI.locate(explicitPath: nil, searchPath: "/nonexistent:\(fake.directory)") == fake.path)
        #expect(NvidiaSMI.locate(explicitPath: nil, searchPath: "/nonexistent") == nil)
        // A directory of that name is not the tool.
        #expect(NvidiaSMI.locate(explicitPath: nil, searchPath: fake.directory + "/..") == nil)
    }

    @Test func explicitPathMustBeExecutable() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        #expect(NvidiaSMI.locate(explicitPath: fake.path, searchPath: nil) == fake.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fake.path)
        #expect(NvidiaSMI.locate(explicitPath: fake.path, searchPath: nil) == nil)
        #expect(NvidiaSMI.locate(explicitPath: fake.directory, searchPath: nil) == nil)
    }

    @Test func failureSummaryPrefersStandardError() {
        let output = NvidiaSMI.Output(exitStatus: 2, standardOutput: "usage...\n", standardError: "\nInvalid combination of input arguments.\n")
        #expect(output.failureSummary == "exit status 2: Invalid combination of input arguments.")
        #expect(NvidiaSMI.Output(exitStatus: nil, standardOutput: "", standardError: "").failureSummary == "killed by a signal")
    }
}
