import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Samples host load for the full heartbeat.
///
/// CPU use only exists between two readings of /proc/stat, so the sampler keeps the previous
/// one; the first is taken at init, which means the first `sample` usually has a percent
/// without waiting. Calls are serialised by a lock: they are cheap file reads, plus a
/// `statvfs` bounded by `diskTimeout`.
public final class SystemSampler: @unchecked Sendable {
    /// Shorter intervals than this give percentages dominated by jiffy rounding.
    static let minimumCPUInterval: Duration = .milliseconds(100)

    private let lock = NSLock()
    private let clock = ContinuousClock()
    private let disk: DiskStatistics
    // All guarded by lock.
    private var previousCPU: CPUTimes?
    private var previousAt: ContinuousClock.Instant
    private var lastPercent: Double?

    public init(diskTimeout: Duration = .seconds(2)) {
        disk = DiskStatistics(timeout: diskTimeout)
        previousCPU = KernelFile.read("/proc/stat").flatMap(Self.parseCPUTimes)
        previousAt = clock.now
    }

    /// Blocks for at most `diskTimeout`, plus up to 100 ms on a first call made right after init.
    public func sample(workDirectory: String) -> SystemSnapshot {
        lock.withLock {
            let controlGroup = ControlGroup.current()
            let cgroupLimit = controlGroup.memoryLimitBytes()
            let memory = KernelFile.read("/proc/meminfo").flatMap(Self.parseMeminfo).map {
                Self.memory(
                    meminfo: $0,
                    limitBytes: cgroupLimit,
                    cgroupUsageBytes: controlGroup.memoryUsageBytes(),
                    inactiveFileBytes: controlGroup.inactiveFileBytes()
                )
            }
            let status = KernelFile.read("/proc/self/status").map(Self.parseStatus)
            let ticks = KernelFile.read("/proc/self/stat").flatMap(Self.parseProcessCPUTicks)
            let ticksPerSecond = sysconf(Int32(_SC_CLK_TCK))

            return SystemSnapshot(
                takenAt: Date(),
                cpu: SystemSnapshot.CPU(
                    percent: cpuPercentLocked(),
                    cores: Self.onlineCores(),
                    quotaCores: controlGroup.cpuQuotaCores()
                ),
                memory: memory,
                load: KernelFile.read("/proc/loadavg").flatMap(Self.parseLoadavg),
                pressure: Self.pressure(read: { KernelFile.read($0) }),
                disk: disk.measure(path: workDirectory),
                process: SystemSnapshot.ProcessUsage(
                    rssBytes: status?.rssBytes,
                    cpuSeconds: ticks.flatMap { ticksPerSecond > 0 ? Double($0) / Double(ticksPerSecond) : nil },
                    threads: status?.threads
                )
            )
        }
    }

    private func cpuPercentLocked() -> Double? {
        if lastPercent == nil, previousCPU != nil {
            let wait = Self.minimumCPUInterval - (clock.now - previousAt)
            if wait > .zero {
                // Once per sampler, on a first call made right after init: a blocking sleep is
                // cheaper than a heartbeat without CPU use.
                let (seconds, attoseconds) = wait.components
                Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
            }
        }
        guard let current = KernelFile.read("/proc/stat").flatMap(Self.parseCPUTimes) else { return nil }
        defer {
            previousCPU = current
            previousAt = clock.now
        }
        guard let previous = previousCPU, let percent = Self.cpuPercent(from: previous, to: current) else {
            // Two reads within one tick: keep the last figure rather than report none.
            return lastPercent
        }
        lastPercent = percent
        return percent
    }

    static func onlineCores() -> Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    // MARK: - CPU

    /// Cumulative jiffies from the aggregate `cpu` line of /proc/stat.
    struct CPUTimes: Sendable, Equatable {
        var busy: UInt64
        var total: UInt64
    }

    static func parseCPUTimes(_ procStat: String) -> CPUTimes? {
        guard let line = procStat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard values.count >= 4 else { return nil }
        // user nice system idle iowait irq softirq steal guest guest_nice. guest and guest_nice
        // are already counted in user and nice, so only the first eight make up the total.
        let counted = values.prefix(8)
        let total = counted.reduce(0, +)
        let idle = values[3] + (values.count > 4 ? values[4] : 0)
        return CPUTimes(busy: total - idle, total: total)
    }

    static func cpuPercent(from previous: CPUTimes, to current: CPUTimes) -> Double? {
        guard current.total > previous.total else { return nil }
        let total = Double(current.total - previous.total)
        // Counters can step back a little when CPUs go offline; clamp rather than go negative.
        let busy = current.busy >= previous.busy ? Double(current.busy - previous.busy) : 0
        return min(100, max(0, busy / total * 100))
    }

    // MARK: - Memory

    struct MemInfo: Sendable, Equatable {
        var totalBytes: UInt64
        var availableBytes: UInt64
    }

    static func parseMeminfo(_ text: String) -> MemInfo? {
        var kilobytes: [Substring: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            if parts.count >= 2, let value = UInt64(parts[1]) {
                kilobytes[parts[0]] = value
            }
        }
        guard let total = kilobytes["MemTotal"] else { return nil }
        // Kernels before 3.14 lack MemAvailable; free plus reclaimable cache is the old estimate.
        let available = kilobytes["MemAvailable"]
            ?? (kilobytes["MemFree", default: 0] + kilobytes["Buffers", default: 0] + kilobytes["Cached", default: 0])
        return MemInfo(totalBytes: total * 1024, availableBytes: min(available, total) * 1024)
    }

    /// What this process can use: the host's figures clamped by the cgroup, whose limit counts
    /// the working set (usage minus inactive page cache, which the kernel reclaims first).
    static func memory(
        meminfo: MemInfo,
        limitBytes: UInt64?,
        cgroupUsageBytes: UInt64?,
        inactiveFileBytes: UInt64?
    ) -> SystemSnapshot.Memory {
        let total = min(meminfo.totalBytes, limitBytes ?? .max)
        var available = min(meminfo.availableBytes, total)
        if let limitBytes, let cgroupUsageBytes {
            let workingSet = cgroupUsageBytes - min(inactiveFileBytes ?? 0, cgroupUsageBytes)
            available = min(available, limitBytes > workingSet ? limitBytes - workingSet : 0)
        }
        let used = total - available
        return SystemSnapshot.Memory(
            totalBytes: total,
            availableBytes: available,
            usedBytes: used,
            limitBytes: limitBytes,
            cgroupUsageBytes: cgroupUsageBytes,
            percent: total > 0 ? Double(used) / Double(total) * 100 : 0
        )
    }

    // MARK: - Load and pressure

    static func parseLoadavg(_ text: String) -> SystemSnapshot.Load? {
        let fields = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        guard fields.count == 3 else { return nil }
        return SystemSnapshot.Load(one: fields[0], five: fields[1], fifteen: fields[2])
    }

    /// One /proc/pressure file: a "some" line and, for most resources, a "full" line.
    static func parsePressure(_ text: String) -> SystemSnapshot.PressureStall? {
        var lines: [Substring: [Substring: Double]] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let kind = fields.first else { continue }
            var values: [Substring: Double] = [:]
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=", maxSplits: 1)
                if pair.count == 2, let value = Double(pair[1]) { values[pair[0]] = value }
            }
            lines[kind] = values
        }
        guard let some = lines["some"], let avg10 = some["avg10"], let avg60 = some["avg60"] else { return nil }
        return SystemSnapshot.PressureStall(someAvg10: avg10, someAvg60: avg60, fullAvg10: lines["full"]?["avg10"])
    }

    static func pressure(read: (String) -> String?) -> SystemSnapshot.Pressure? {
        func stall(_ resource: String) -> SystemSnapshot.PressureStall? {
            read("/proc/pressure/" + resource).flatMap(parsePressure)
        }
        let pressure = SystemSnapshot.Pressure(cpu: stall("cpu"), memory: stall("memory"), io: stall("io"))
        return pressure.cpu == nil && pressure.memory == nil && pressure.io == nil ? nil : pressure
    }

    // MARK: - This process

    static func parseStatus(_ text: String) -> (rssBytes: UInt64?, threads: Int?) {
        var rss: UInt64?
        var threads: Int?
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\t" })
            guard fields.count >= 2 else { continue }
            switch fields[0] {
            case "VmRSS": rss = UInt64(fields[1]).map { $0 * 1024 }
            case "Threads": threads = Int(fields[1])
            default: break
            }
        }
        return (rss, threads)
    }

    /// utime + stime, in clock ticks, from /proc/<pid>/stat.
    static func parseProcessCPUTicks(_ text: String) -> UInt64? {
        // The command name (field 2) is in parentheses and may itself hold spaces or ")", so
        // count fields from the last ")"; after it, field 3 (state) is index 0.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
    }
}
