import Foundation
import Testing

@testable import BosunSystem

struct GPUDeviceTests {
    @Test(arguments: [
        ("NVIDIA A100-SXM4-40GB", "A100"),
        ("NVIDIA A100-SXM4-80GB MIG 3g.40gb", "A100"),
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("Tesla V100-SXM2-16GB", "V100"),
        ("Tesla T4", "T4"),
        ("NVIDIA L40S", "L40S"),
        ("NVIDIA A10G", "A10G"),
        ("NVIDIA RTX A6000", "RTX"),
    ])
    func acceleratorTypeFollowsRay(name: String, expected: String) {
        #expect(GPUDevice.acceleratorType(forName: name) == expected)
        #expect(GPUDevice(uuid: "GPU-x", name: name).acceleratorType == expected)
    }

    @Test func noAcceleratorTypeFromAFragmentOrASingleWord() {
        // Ray would say "G" here.
        #expect(GPUDevice.acceleratorType(forName: "NVIDIA GeForce RTX 3090") == nil)
        #expect(GPUDevice.acceleratorType(forName: "Graphics") == nil)
        #expect(GPUDevice.acceleratorType(forName: "") == nil)
    }

    @Test func encodesSnakeCaseKeys() throws {
        let device = GPUDevice(
            uuid: "GPU-4d2f7a1e", name: "NVIDIA A100-SXM4-40GB", pciBusID: "00000000:07:00.0",
            memoryTotalMiB: 40960, memoryUsedMiB: 10, memoryFreeMiB: 40326, utilizationPercent: 3,
            temperatureC: 31, powerDrawW: 55.2, migMode: "Disabled", driverVersion: "550.54.15"
        )
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(device)) as? [String: Any])
        #expect(json["pci_bus_id"] as? String == "00000000:07:00.0")
        #expect(json["memory_total_mib"] as? Int == 40960)
        #expect(json["memory_free_mib"] as? Int == 40326)
        #expect(json["utilization_percent"] as? Int == 3)
        #expect(json["temperature_c"] as? Int == 31)
        #expect(json["power_draw_w"] as? Double == 55.2)
        #expect(json["mig_mode"] as? String == "Disabled")
        #expect(json["driver_version"] as? String == "550.54.15")
        #expect(json["accelerator_type"] as? String == "A100")
        #expect(json["is_mig_instance"] as? Bool == false)
        #expect(try JSONDecoder().decode(GPUDevice.self, from: JSONEncoder().encode(device)) == device)
    }
}
