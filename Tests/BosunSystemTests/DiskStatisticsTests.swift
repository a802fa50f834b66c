import Foundation
import Testing

@testable import BosunSystem

struct DiskStatisticsTests {
    @Test func measuresAnExistingDirectory() throws {
        let disk = try #require(DiskStatistics(timeout: .seconds(2)).measure(path: NSTemporaryDirectory()))
        #expect(disk.path == NSTemporaryDirectory())
        #expect(disk.totalBytes > 0)
        #expect(disk.availableBytes <= disk.freeBytes)
        #expect(disk.freeBytes <= disk.totalBytes)
    }

    @Test func missingPathGivesNil() {
        let statistics = DiskStatistics(timeout: .seconds(2))
        #expect(statistics.measure(path: "/nonexistent/\(UUID().uuidString)") == nil)
        // A failed measurement does not leave the probe marked busy.
        #expect(statistics.measure(path: "/") != nil)
    }

    @Test func repeatedMeasurementsAgreeOnSize() throws {
        let statistics = DiskStatistics(timeout: .seconds(2))
        let first = try #require(statistics.measure(path: "/"))
        let second = try #require(statistics.measure(path: "/"))
        #expect(first.totalBytes == second.totalBytes)
    }
}
