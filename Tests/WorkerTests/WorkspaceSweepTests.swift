import Foundation
import Logging
import Testing

@testable import WorkerCore

/// `WorkerDaemon.sweepStaleWorkspaces`: workspaces stay between turns, stale ones go.
@Suite struct WorkspaceSweepTests {
    @Test func onlyWorkspacesUnusedForADayAreRemoved() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let executions = root.appendingPathComponent("executions")
        let fresh = executions.appendingPathComponent("fresh").path
        let stale = executions.appendingPathComponent("stale").path
        for path in [fresh, stale] {
            try FileManager.default.createDirectory(atPath: path + "/src", withIntermediateDirectories: true)
        }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-2 * 86400)], ofItemAtPath: stale)
        WorkerDaemon.sweepStaleWorkspaces(in: root.path, logger: Logger(label: "sweep-test"))
        #expect(FileManager.default.fileExists(atPath: fresh))
        #expect(!FileManager.default.fileExists(atPath: stale))
    }
}
