import Foundation
import Testing

@testable import BosunSystem

#if canImport(Glibc)
import Glibc
#endif

struct GPUProbeTests {
    /// `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` on a mixed host: two A100s
    /// (one in MIG mode), a T4 without power readings, and a consumer card whose memory
    /// query is refused. Free memory is deliberately not total - used, as on real drivers.
    static let csv = """
        GPU-4d2f7a1e-0b8c-5d1e-9f3a-7c6b5a4d3e2f, NVIDIA A100-SXM4-80GB, 00000000:07:00.0, 81920, 1234, 80164, 37, 41, 88.53, Disabled, 550.54.15
        GPU-8a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9, NVIDIA A100-SXM4-80GB, 00000000:0F:00.0, 81920, 0, 81050, [N/A], 33, 61.20, Enabled, 550.54.15
        GPU-0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5, Tesla T4, 00000000:3B:00.0, 15360, 3, 14928, 0, 29, [Not Supported], [N/A], 550.54.15
        GPU-11223344-5566-7788-99aa-bbccddeeff00, NVIDIA GeForce RTX 3090, 00000000:65:00.0, 24576, [Insufficient Permissions], [Insufficient Permissions], 5, 45, 30.12, [N/A], 550.54.15

        """

    @Test func parsesNvidiaSMIOutputFieldByField() throws {
        let devices = GPUProbe.parseNvidiaSMI(Self.csv)
        try #require(devices.count == 4)

        #expect(devices[0] == GPUDevice(
            uuid: "GPU-4d2f7a1e-0b8c-5d1e-9f3a-7c6b5a4d3e2f",
            name: "NVIDIA A100-SXM4-80GB",
            pciBusID: "00000000:07:00.0",
            memoryTotalMiB: 81920,
            memoryUsedMiB: 1234,
            memoryFreeMiB: 80164,
            utilizationPercent: 37,
            temperatureC: 41,
            powerDrawW: 88.53,
            migMode: "Disabled",
            driverVersion: "550.54.15",
            acceleratorType: "A100",
            isMIGInstance: false
        ))

        // [N/A] utilisation on a MIG-enabled GPU: that field alone is absent.
        #expect(devices[1].utilizationPercent == nil)
        #expect(devices[1].migMode == "Enabled")
        #expect(devices[1].memoryFreeMiB == 81050)

        #expect(devices[2].acceleratorType == "T4")
        #expect(devices[2].powerDrawW == nil)
        #expect(devices[2].migMode == nil)
        #expect(devices[2].utilizationPercent == 0)

        #expect(devices[3].memoryUsedMiB == nil)
        #expect(devices[3].memoryFreeMiB == nil)
        #expect(devices[3].memoryTotalMiB == 24576)
        #expect(devices[3].acceleratorType == nil)
    }

    @Test func skipsLinesThatAreNotDevices() {
        let noisy = """
            WARNING: infoROM is corrupted at gpu 0000:07:00.0

            [N/A], NVIDIA A100-SXM4-80GB, 00000000:07:00.0, 81920, 0, 81050, 0, 30, 60.00, Disabled, 550.54.15
            GPU-1, NVIDIA, A100 with a comma, 00000000:08:00.0, 81920, 0, 81050, 0, 30, 60.00, Disabled, 550.54.15
            """
        let devices = GPUProbe.parseNvidiaSMI(noisy)
        #expect(devices.map(\.uuid) == ["GPU-1"])
        #expect(devices.first?.name == "NVIDIA, A100 with a comma")
        #expect(devices.first?.pciBusID == "00000000:08:00.0")
    }

    // MARK: - Probing

    /// This machine has no GPU and no NVIDIA driver.
    @Test func hostWithoutGPUsReportsNone() async throws {
        let report = await GPUProbe().probe()
        #expect(report.status == .absent)
        #expect(report.devices.isEmpty)
        #expect(report.error == nil)
        #expect(report.source == nil)

        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect(json["status"] as? String == "none")
        #expect(json["probed_at"] != nil)
    }

    @Test func missingConfiguredToolsReportNone() async {
        let probe = GPUProbe(nvidiaSMIPath: "/nonexistent/nvidia-smi", libraryName: FakeNvidiaSMI.missingLibrary)
        let report = await probe.probe()
        #expect(report.status == .absent)
        #expect(await probe.latest == report)
    }

    @Test func nvidiaSMIOutputGivesOK() async throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let report = await GPUProbe(nvidiaSMIPath: fake.path, libraryName: FakeNvidiaSMI.missingLibrary).probe()
        #expect(report.status == .ok)
        #expect(report.source == .nvidiaSMI)
        #expect(report.error == nil)
        #expect(report.devices == GPUProbe.parseNvidiaSMI(Self.csv))
        // The exact query the reference documents, so the column order parse relies on holds.
        #expect(fake.receivedArguments() == [
            "--query-gpu=uuid,name,pci.bus_id,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu,power.draw,mig.mode.current,driver_version",
            "--format=csv,noheader,nounits",
        ])
    }

    @Test(.timeLimit(.minutes(1)))
    func hangingProbeTimesOutKeepsLastDevicesAndKillsTheChild() async throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let probe = GPUProbe(timeout: .milliseconds(500), nvidiaSMIPath: fake.path, libraryName: FakeNvidiaSMI.missingLibrary)

        let good = await probe.probe()
        try #require(good.status == .ok, "\(good.error ?? "")")

        fake.hang()
        let clock = ContinuousClock()
        var report: GPUReport?
        let elapsed = await clock.measure { report = await probe.probe() }
        let stuck = try #require(report)
        // The hung script sleeps 30 s; the bound is loose because a loaded 2-core machine is slow.
        #expect(elapsed < .seconds(5), "returned after \(elapsed)")
        #expect(stuck.status == .unknown)
        #expect(stuck.devices == good.devices)
        #expect(stuck.error?.contains("timed out") == true)

        // The script (and the sleep it started) were killed, not left running for 30 s.
        let pid = try #require(fake.lastPID())
        #expect(await FakeNvidiaSMI.waitUntilGone(pid, within: .seconds(3)))

        // Once the killed probe has returned, probing works again.
        fake.recover()
        #expect(await probe.probe().status == .ok)
    }

    @Test func hangingProbeWithoutHistoryHasNoDevices() async throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        fake.hang()
        let report = await GPUProbe(timeout: .milliseconds(300), nvidiaSMIPath: fake.path, libraryName: FakeNvidiaSMI.missingLibrary).probe()
        #expect(report.status == .unknown)
        #expect(report.devices.isEmpty)
    }

    @Test func failingNvidiaSMIIsUnknownWithItsMessage() async throws {
        let fake = try FakeNvidiaSMI(body: """
            echo "Unable to determine the device handle for GPU0000:07:00.0: Unknown Error"
            exit 15
            """)
        defer { fake.remove() }
        let report = await GPUProbe(nvidiaSMIPath: fake.path, libraryName: FakeNvidiaSMI.missingLibrary).probe()
        #expect(report.status == .unknown)
        #expect(report.source == .nvidiaSMI)
        #expect(report.error?.contains("exit status 15") == true)
        #expect(report.error?.contains("Unable to determine the device handle") == true)
    }

    @Test func nvidiaSMIWithoutADriverIsNone() async throws {
        let fake = try FakeNvidiaSMI(body: """
            echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
            exit 9
            """)
        defer { fake.remove() }
        let report = await GPUProbe(nvidiaSMIPath: fake.path, libraryName: FakeNvidiaSMI.missingLibrary).probe()
        #expect(report.status == .absent)
        #expect(report.error == nil)
    }

    @Test func nvidiaSMIDoesNotInheritTheWorkersDescriptors() async throws {
        // Opened without O_CLOEXEC, like a careless library would.
        let stray = open("/dev/null", O_RDONLY)
        try #require(stray >= 0)
        defer { close(stray) }
        let fake = try FakeNvidiaSMI(body: """
            if [ -e /proc/$$/fd/\(stray) ]; then echo inherited > "$(dirname "$0")/stray"; fi
            exit 6
            """)
        defer { fake.remove() }
        let report = await GPUProbe(nvidiaSMIPath: fake.path, libraryName: FakeNvidiaSMI.missingLibrary).probe()
        #expect(report.status == .absent)
        #expect(report.source == .nvidiaSMI)
        #expect(!FileManager.default.fileExists(atPath: fake.directory + "/stray"))
    }

    @Test func concurrentCallersShareOneProbe() async throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let probe = GPUProbe(nvidiaSMIPath: fake.path, libraryName: FakeNvidiaSMI.missingLibrary)
        async let first = probe.probe()
        async let second = probe.probe()
        let reports = await [first, second]
        #expect(reports.allSatisfy { $0.status == .ok && $0.devices.count == 4 })
    }
}

/// A shell script standing in for nvidia-smi. Acceptable only because this machine has no GPU,
/// so the real tool cannot run here; it prints what the real one prints, can be told to hang
/// like a wedged driver, and records its pid and arguments.
struct FakeNvidiaSMI {
    /// dlopen finds nothing under this name, so the probe goes straight to nvidia-smi.
    static let missingLibrary = "libnvidia-ml-absent-in-tests.so.1"

    let directory: String
    var path: String { directory + "/nvidia-smi" }

    init(body: String? = nil) throws {
        directory = NSTemporaryDirectory() + "bosun-fake-nvidia-smi-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = """
            #!/bin/sh
            echo $$ > '\(directory)/pid'
            printf '%s\\n' "$@" > '\(directory)/arguments'
            if [ -e '\(directory)/hang' ]; then sleep 30; fi
            \(body ?? "cat <<'CSV'\n\(GPUProbeTests.csv)CSV")

            """
        try Self.writeExecutable(script, to: path)
    }

    /// Written through a close-on-exec descriptor: tests run in parallel, and a child another
    /// test spawns meanwhile would otherwise inherit the open file and make exec fail with
    /// ETXTBSY for as long as it lives (`String.write(toFile:)` does not set O_CLOEXEC).
    private static func writeExecutable(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw POSIXError(.EIO) }
    }

    func hang() {
        #expect(FileManager.default.createFile(atPath: directory + "/hang", contents: nil))
    }

    func recover() {
        try? FileManager.default.removeItem(atPath: directory + "/hang")
    }

    func lastPID() -> pid_t? {
        KernelFile.readValue(directory + "/pid").flatMap { pid_t($0) }
    }

    func receivedArguments() -> [String] {
        (KernelFile.read(directory + "/arguments") ?? "").split(separator: "\n").map(String.init)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Our probe reaps its child, so a killed script disappears rather than lingering as a zombie.
    static func waitUntilGone(_ pid: pid_t, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if kill(pid, 0) != 0 && errno == ESRCH { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
