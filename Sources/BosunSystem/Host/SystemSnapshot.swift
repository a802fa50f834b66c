import Foundation

/// Host load at one moment, for the full heartbeat. Sections the host cannot report (no PSI,
/// an unreadable work directory) are nil rather than zero, so the control plane can tell
/// "idle" from "unknown".
public struct SystemSnapshot: Codable, Sendable, Equatable {
    public var takenAt: Date
    public var cpu: CPU
    public var memory: Memory?
    public var load: Load?
    public var pressure: Pressure?
    public var disk: Disk?
    public var process: ProcessUsage

    public init(
        takenAt: Date,
        cpu: CPU,
        memory: Memory?,
        load: Load?,
        pressure: Pressure?,
        disk: Disk?,
        process: ProcessUsage
    ) {
        self.takenAt = takenAt
        self.cpu = cpu
        self.memory = memory
        self.load = load
        self.pressure = pressure
        self.disk = disk
        self.process = process
    }

    enum CodingKeys: String, CodingKey {
        case takenAt = "taken_at"
        case cpu, memory, load, pressure, disk, process
    }

    public struct CPU: Codable, Sendable, Equatable {
        /// Busy share of all online CPUs since the previous sample, 0...100.
        public var percent: Double?
        public var cores: Int
        /// The cgroup's `cpu.max` in cores; nil when unlimited.
        public var quotaCores: Double?

        public init(percent: Double?, cores: Int, quotaCores: Double?) {
            self.percent = percent
            self.cores = cores
            self.quotaCores = quotaCores
        }

        enum CodingKeys: String, CodingKey {
            case percent, cores
            case quotaCores = "quota_cores"
        }
    }

    public struct Memory: Codable, Sendable, Equatable {
        /// MemTotal, lowered to the cgroup limit when that is smaller.
        public var totalBytes: UInt64
        public var availableBytes: UInt64
        public var usedBytes: UInt64
        public var limitBytes: UInt64?
        public var cgroupUsageBytes: UInt64?
        public var percent: Double

        public init(
            totalBytes: UInt64,
            availableBytes: UInt64,
            usedBytes: UInt64,
            limitBytes: UInt64?,
            cgroupUsageBytes: UInt64?,
            percent: Double
        ) {
            self.totalBytes = totalBytes
            self.availableBytes = availableBytes
            self.usedBytes = usedBytes
            self.limitBytes = limitBytes
            self.cgroupUsageBytes = cgroupUsageBytes
            self.percent = percent
        }

        enum CodingKeys: String, CodingKey {
            case totalBytes = "total_bytes"
            case availableBytes = "available_bytes"
            case usedBytes = "used_bytes"
            case limitBytes = "limit_bytes"
            case cgroupUsageBytes = "cgroup_usage_bytes"
            case percent
        }
    }

    public struct Load: Codable, Sendable, Equatable {
        public var one: Double
        public var five: Double
        public var fifteen: Double

        public init(one: Double, five: Double, fifteen: Double) {
            self.one = one
            self.five = five
            self.fifteen = fifteen
        }
    }

    /// Pressure stall information: the share of time tasks waited on a resource, which says
    /// "overloaded" more directly than utilisation does.
    public struct Pressure: Codable, Sendable, Equatable {
        public var cpu: PressureStall?
        public var memory: PressureStall?
        public var io: PressureStall?

        public init(cpu: PressureStall?, memory: PressureStall?, io: PressureStall?) {
            self.cpu = cpu
            self.memory = memory
            self.io = io
        }
    }

    public struct PressureStall: Codable, Sendable, Equatable {
        /// Percent of the last 10 s in which at least one task was stalled.
        public var someAvg10: Double
        public var someAvg60: Double
        /// Percent of the last 10 s in which all non-idle tasks were stalled; absent on
        /// kernels that do not report "full" for this resource.
        public var fullAvg10: Double?

        public init(someAvg10: Double, someAvg60: Double, fullAvg10: Double?) {
            self.someAvg10 = someAvg10
            self.someAvg60 = someAvg60
            self.fullAvg10 = fullAvg10
        }

        enum CodingKeys: String, CodingKey {
            case someAvg10 = "some_avg10"
            case someAvg60 = "some_avg60"
            case fullAvg10 = "full_avg10"
        }
    }

    public struct Disk: Codable, Sendable, Equatable {
        public var path: String
        public var totalBytes: UInt64
        /// What an unprivileged process can still write (excludes root-reserved blocks).
        public var availableBytes: UInt64
        public var freeBytes: UInt64

        public init(path: String, totalBytes: UInt64, availableBytes: UInt64, freeBytes: UInt64) {
            self.path = path
            self.totalBytes = totalBytes
            self.availableBytes = availableBytes
            self.freeBytes = freeBytes
        }

        enum CodingKeys: String, CodingKey {
            case path
            case totalBytes = "total_bytes"
            case availableBytes = "available_bytes"
            case freeBytes = "free_bytes"
        }
    }

    /// The worker process itself, to spot a leaking daemon.
    public struct ProcessUsage: Codable, Sendable, Equatable {
        public var rssBytes: UInt64?
        public var cpuSeconds: Double?
        public var threads: Int?

        public init(rssBytes: UInt64?, cpuSeconds: Double?, threads: Int?) {
            self.rssBytes = rssBytes
            self.cpuSeconds = cpuSeconds
            self.threads = threads
        }

        enum CodingKeys: String, CodingKey {
            case rssBytes = "rss_bytes"
            case cpuSeconds = "cpu_seconds"
            case threads
        }
    }
}
