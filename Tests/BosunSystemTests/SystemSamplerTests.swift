import Foundation
import Testing

@testable import BosunSystem

struct SystemSamplerTests {
    // MARK: - Parsing captured text

    /// The head of /proc/stat on a two-CPU host, captured.
    static let procStat = """
        cpu  425894 0 64802 3072305 6300 0 1693 309 0 0
        cpu0 200406 0 30390 1552801 652 0 707 164 0 0
        cpu1 225487 0 34412 1519503 5648 0 985 145 0 0
        intr 61011528 0 9 0 0 0 0 0 0 0 0 0

        """

    @Test func cpuTimesCountIdleAndIOWaitAsIdle() throws {
        let times = try #require(SystemSampler.parseCPUTimes(Self.procStat))
        #expect(times.total == 425_894 + 64_802 + 3_072_305 + 6_300 + 1_693 + 309)
        #expect(times.busy == 425_894 + 64_802 + 1_693 + 309)
    }

    @Test func guestTimeIsNotCountedTwice() throws {
        // guest (40) is already inside user (100).
        let times = try #require(SystemSampler.parseCPUTimes("cpu  100 0 50 800 50 0 0 0 40 0\n"))
        #expect(times.total == 1_000)
        #expect(times.busy == 150)
    }

    @Test func cpuPercentIsBetweenTwoSamples() {
        let earlier = SystemSampler.CPUTimes(busy: 1_000, total: 10_000)
        let later = SystemSampler.CPUTimes(busy: 1_250, total: 11_000)
        #expect(SystemSampler.cpuPercent(from: earlier, to: later) == 25)
        #expect(SystemSampler.cpuPercent(from: later, to: later) == nil)
        // Busy going backwards (a CPU went offline) clamps to zero instead of wrapping.
        #expect(SystemSampler.cpuPercent(from: later, to: .init(busy: 1_200, total: 11_100)) == 0)
    }

    @Test func parsesMeminfo() throws {
        let text = """
            MemTotal:       24684084 kB
            MemFree:        22829592 kB
            MemAvailable:   24017636 kB
            Buffers:           16360 kB
            Cached:          1276300 kB

            """
        let info = try #require(SystemSampler.parseMeminfo(text))
        #expect(info.totalBytes == 24_684_084 * 1024)
        #expect(info.availableBytes == 24_017_636 * 1024)

        // Kernels before 3.14 have no MemAvailable.
        let old = try #require(SystemSampler.parseMeminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n"))
        #expect(old.availableBytes == 420 * 1024)
    }

    @Test func memoryIsClampedByTheCgroup() {
        let host = SystemSampler.MemInfo(totalBytes: 64 << 30, availableBytes: 60 << 30)

        let unlimited = SystemSampler.memory(meminfo: host, limitBytes: nil, cgroupUsageBytes: 1 << 30, inactiveFileBytes: nil)
        #expect(unlimited.totalBytes == 64 << 30)
        #expect(unlimited.availableBytes == 60 << 30)
        #expect(unlimited.usedBytes == 4 << 30)
        #expect(unlimited.percent == 6.25)
        #expect(unlimited.cgroupUsageBytes == 1 << 30)

        // 8 GiB limit, 5 GiB charged of which 1 GiB is reclaimable cache: 4 GiB left.
        let limited = SystemSampler.memory(meminfo: host, limitBytes: 8 << 30, cgroupUsageBytes: 5 << 30, inactiveFileBytes: 1 << 30)
        #expect(limited.totalBytes == 8 << 30)
        #expect(limited.availableBytes == 4 << 30)
        #expect(limited.usedBytes == 4 << 30)
        #expect(limited.limitBytes == 8 << 30)
        #expect(limited.percent == 50)

        // A limit above physical memory changes nothing.
        let loose = SystemSampler.memory(meminfo: host, limitBytes: 128 << 30, cgroupUsageBytes: 1 << 30, inactiveFileBytes: 0)
        #expect(loose.totalBytes == 64 << 30)
        #expect(loose.availableBytes == 60 << 30)
    }

    @Test func parsesLoadavg() {
        #expect(SystemSampler.parseLoadavg("0.02 0.06 0.02 1/83 11966\n") == SystemSnapshot.Load(one: 0.02, five: 0.06, fifteen: 0.02))
        #expect(SystemSampler.parseLoadavg("") == nil)
    }

    @Test func parsesPressure() {
        let memory = """
            some avg10=1.66 avg60=2.92 avg300=3.28 total=57766085
            full avg10=1.50 avg60=2.91 avg300=3.26 total=51254098

            """
        #expect(SystemSampler.parsePressure(memory) == SystemSnapshot.PressureStall(someAvg10: 1.66, someAvg60: 2.92, fullAvg10: 1.5))
        // Before 5.13 the cpu file has no "full" line.
        let cpu = "some avg10=0.16 avg60=0.20 avg300=0.07 total=833450317\n"
        #expect(SystemSampler.parsePressure(cpu) == SystemSnapshot.PressureStall(someAvg10: 0.16, someAvg60: 0.2, fullAvg10: nil))
        #expect(SystemSampler.parsePressure("") == nil)
    }

    @Test func pressureIsNilWithoutPSI() {
        #expect(SystemSampler.pressure(read: { _ in nil }) == nil)
        let onlyIO = SystemSampler.pressure(read: { $0 == "/proc/pressure/io" ? "some avg10=1.00 avg60=2.00 avg300=0 total=1\n" : nil })
        #expect(onlyIO == SystemSnapshot.Pressure(cpu: nil, memory: nil, io: .init(someAvg10: 1, someAvg60: 2, fullAvg10: nil)))
    }

    @Test func parsesProcessStatus() {
        let status = "Name:\tbosun-worker\nVmHWM:\t    1764 kB\nVmRSS:\t    1764 kB\nRssAnon:\t     112 kB\nThreads:\t7\n"
        let parsed = SystemSampler.parseStatus(status)
        #expect(parsed.rssBytes == 1_764 * 1024)
        #expect(parsed.threads == 7)
    }

    @Test func parsesProcessCPUTicksPastAnAwkwardCommandName() {
        // utime 13, stime 4 (fields 14 and 15); the name holds a space and a ")".
        let stat = "4242 (we) ird) S 1 4242 4242 0 -1 4194304 103 0 0 0 13 4 0 0 20 0 3 0 1789176 3133440 390 0\n"
        #expect(SystemSampler.parseProcessCPUTicks(stat) == 17)
        let captured = "11968 (cat) R 11959 11959 10772 0 -1 4194304 103 0 0 0 0 0 0 0 20 0 1 0 1789176 3133440 390 0"
        #expect(SystemSampler.parseProcessCPUTicks(captured) == 0)
        #expect(SystemSampler.parseProcessCPUTicks("garbage") == nil)
    }

    // MARK: - This machine

    @Test func sampleOfThisHostIsPlausible() throws {
        let sampler = SystemSampler()
        let snapshot = sampler.sample(workDirectory: NSTemporaryDirectory())

        let percent = try #require(snapshot.cpu.percent, "the first sample has a CPU figure")
        #expect((0...100).contains(percent))
        #expect(snapshot.cpu.cores >= 1)
        if let quota = snapshot.cpu.quotaCores { #expect(quota > 0) }

        let memory = try #require(snapshot.memory)
        #expect(memory.totalBytes > 0)
        #expect(memory.availableBytes <= memory.totalBytes)
        #expect(memory.usedBytes + memory.availableBytes == memory.totalBytes)
        #expect((0...100).contains(memory.percent))
        if let limit = memory.limitBytes { #expect(limit >= memory.totalBytes) }

        let load = try #require(snapshot.load)
        #expect(load.one >= 0 && load.five >= 0 && load.fifteen >= 0)

        if FileManager.default.fileExists(atPath: "/proc/pressure/cpu") {
            let pressure = try #require(snapshot.pressure)
            if let cpu = pressure.cpu { #expect((0...100).contains(cpu.someAvg10)) }
        }

        let disk = try #require(snapshot.disk)
        #expect(disk.totalBytes > 0)
        #expect(disk.availableBytes <= disk.freeBytes)
        #expect(disk.freeBytes <= disk.totalBytes)

        #expect((snapshot.process.rssBytes ?? 0) > 0)
        #expect((snapshot.process.threads ?? 0) >= 1)
        #expect((snapshot.process.cpuSeconds ?? -1) >= 0)

        let second = sampler.sample(workDirectory: NSTemporaryDirectory())
        #expect(second.cpu.percent.map { (0...100).contains($0) } == true)
        #expect(second.takenAt >= snapshot.takenAt)
    }

    @Test func missingWorkDirectoryGivesNoDisk() {
        let snapshot = SystemSampler().sample(workDirectory: "/nonexistent/bosun/\(UUID().uuidString)")
        #expect(snapshot.disk == nil)
        #expect(snapshot.memory != nil)
    }

    @Test func encodesSnakeCaseKeys() throws {
        let snapshot = SystemSampler().sample(workDirectory: "/")
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(snapshot)) as? [String: Any]
        let memory = try #require(json?["memory"] as? [String: Any])
        #expect(memory["total_bytes"] != nil)
        #expect(memory["available_bytes"] != nil)
        #expect(memory["used_bytes"] != nil)
        let disk = try #require(json?["disk"] as? [String: Any])
        #expect(disk["available_bytes"] != nil)
        let process = try #require(json?["process"] as? [String: Any])
        #expect(process["rss_bytes"] != nil)
        #expect(process["cpu_seconds"] != nil)
        #expect(json?["taken_at"] != nil)

        var decoded = try JSONDecoder().decode(SystemSnapshot.self, from: JSONEncoder().encode(snapshot))
        // Dates lose sub-microsecond precision through JSON; everything else must survive.
        #expect(abs(decoded.takenAt.timeIntervalSince(snapshot.takenAt)) < 0.001)
        decoded.takenAt = snapshot.takenAt
        #expect(decoded == snapshot)
    }
}
