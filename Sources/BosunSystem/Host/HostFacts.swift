import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the worker advertises about its host at registration, for routing.
///
/// Capacity is what this process may use, not what the machine has: memory and CPU are
/// clamped by the cgroup the worker runs in.
public struct HostFacts: Codable, Sendable, Equatable {
    public var hostname: String
    /// PRETTY_NAME from os-release, e.g. "Debian GNU/Linux 12 (bookworm)".
    public var os: String
    /// The kernel release, e.g. "6.1.0-18-amd64".
    public var kernel: String
    public var architecture: String
    /// Online CPUs; see `cpuQuotaCores` for what the cgroup lets us use of them.
    public var cpuCount: Int
    public var memoryBytes: UInt64
    /// nil when the cgroup sets no CPU quota.
    public var cpuQuotaCores: Double?
    public var gpus: [GPUDevice]

    public init(
        hostname: String,
        os: String,
        kernel: String,
        architecture: String,
        cpuCount: Int,
        memoryBytes: UInt64,
        cpuQuotaCores: Double?,
        gpus: [GPUDevice]
    ) {
        self.hostname = hostname
        self.os = os
        self.kernel = kernel
        self.architecture = architecture
        self.cpuCount = cpuCount
        self.memoryBytes = memoryBytes
        self.cpuQuotaCores = cpuQuotaCores
        self.gpus = gpus
    }

    enum CodingKeys: String, CodingKey {
        case hostname, os, kernel, architecture
        case cpuCount = "cpu_count"
        case memoryBytes = "memory_bytes"
        case cpuQuotaCores = "cpu_quota_cores"
        case gpus
    }

    /// Reads the host now. GPUs come from a `GPUProbe` report, since probing them can take
    /// seconds and must not happen on the caller's thread.
    public static func collect(gpus: [GPUDevice]) -> HostFacts {
        let names = UnameFields.current()
        let controlGroup = ControlGroup.current()
        let memTotal = KernelFile.read("/proc/meminfo").flatMap(SystemSampler.parseMeminfo)?.totalBytes ?? 0
        let limit = controlGroup.memoryLimitBytes()
        // os-release lives in /etc, or only in /usr/lib on some minimal images.
        let os = (KernelFile.read("/etc/os-release") ?? KernelFile.read("/usr/lib/os-release")).flatMap(parseOSRelease)
        return HostFacts(
            hostname: currentHostname() ?? names.nodename,
            os: os ?? names.sysname,
            kernel: names.release,
            architecture: names.machine,
            cpuCount: SystemSampler.onlineCores(),
            memoryBytes: min(memTotal, limit ?? .max),
            cpuQuotaCores: controlGroup.cpuQuotaCores(),
            gpus: gpus
        )
    }

    /// PRETTY_NAME from an os-release file, with shell quoting removed.
    static func parseOSRelease(_ text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            var value = line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            let unescaped = value.replacingOccurrences(of: "\\\"", with: "\"")
            return unescaped.isEmpty ? nil : unescaped
        }
        return nil
    }

    private static func currentHostname() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return nil }
        let name = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? nil : name
    }
}

/// `uname(2)` fields as Swift strings.
private struct UnameFields: Sendable, Equatable {
    var sysname: String
    var nodename: String
    var release: String
    var machine: String

    static func current() -> UnameFields {
        var names = utsname()
        guard uname(&names) == 0 else {
            return UnameFields(sysname: "Linux", nodename: "", release: "", machine: "")
        }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        return UnameFields(
            sysname: field(names.sysname),
            nodename: field(names.nodename),
            release: field(names.release),
            machine: field(names.machine)
        )
    }
}
