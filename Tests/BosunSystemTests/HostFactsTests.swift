import Foundation
import Testing

@testable import BosunSystem

struct HostFactsTests {
    @Test func readsPrettyNameFromOSRelease() {
        let debian = """
            PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
            NAME="Debian GNU/Linux"
            VERSION_ID="12"

            """
        #expect(HostFacts.parseOSRelease(debian) == "Debian GNU/Linux 12 (bookworm)")
        #expect(HostFacts.parseOSRelease("NAME=Alpine\nPRETTY_NAME='Alpine Linux v3.19'\n") == "Alpine Linux v3.19")
        #expect(HostFacts.parseOSRelease("PRETTY_NAME=Unquoted\n") == "Unquoted")
        #expect(HostFacts.parseOSRelease("NAME=\"No pretty name\"\n") == nil)
    }

    @Test func collectsThisHost() throws {
        let gpu = GPUDevice(uuid: "GPU-1", name: "NVIDIA A100-SXM4-40GB")
        let facts = HostFacts.collect(gpus: [gpu])

        #expect(!facts.hostname.isEmpty)
        #expect(facts.kernel == KernelFile.readValue("/proc/sys/kernel/osrelease"))
        #expect(!facts.architecture.isEmpty)
        #expect(facts.cpuCount >= 1)
        #expect(facts.gpus == [gpu])
        if let quota = facts.cpuQuotaCores { #expect(quota > 0) }

        let memTotal = try #require(KernelFile.read("/proc/meminfo").flatMap(SystemSampler.parseMeminfo)).totalBytes
        #expect(facts.memoryBytes > 0)
        #expect(facts.memoryBytes <= memTotal)

        if let osRelease = KernelFile.read("/etc/os-release").flatMap(HostFacts.parseOSRelease) {
            #expect(facts.os == osRelease)
        }
    }

    @Test func encodesSnakeCaseKeys() throws {
        let facts = HostFacts(
            hostname: "gpu-7", os: "Ubuntu 22.04.4 LTS", kernel: "5.15.0-105-generic", architecture: "x86_64",
            cpuCount: 64, memoryBytes: 540_000_000_000, cpuQuotaCores: 32, gpus: []
        )
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(facts)) as? [String: Any])
        #expect(json["cpu_count"] as? Int == 64)
        #expect(json["memory_bytes"] as? Int == 540_000_000_000)
        #expect(json["cpu_quota_cores"] as? Double == 32)
        #expect(try JSONDecoder().decode(HostFacts.self, from: JSONEncoder().encode(facts)) == facts)
    }
}
