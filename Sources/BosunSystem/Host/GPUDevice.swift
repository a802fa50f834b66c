import Foundation

/// One GPU, or one MIG instance, as a probe saw it.
///
/// Key devices by `uuid` (or `pciBusID`), never by position: indices can change at boot.
/// Fields a driver does not report for this device (utilisation on MIG instances, power on
/// some boards, anything when permissions are missing) are nil.
public struct GPUDevice: Codable, Sendable, Equatable {
    public var uuid: String
    public var name: String
    /// e.g. "00000000:07:00.0"; MIG instances carry their parent's.
    public var pciBusID: String?
    public var memoryTotalMiB: Int?
    public var memoryUsedMiB: Int?
    /// As the driver reports it: total minus used is not free, since the driver reserves some.
    public var memoryFreeMiB: Int?
    public var utilizationPercent: Int?
    public var temperatureC: Int?
    public var powerDrawW: Double?
    /// "Enabled" or "Disabled", as nvidia-smi spells it; nil on GPUs without MIG.
    public var migMode: String?
    public var driverVersion: String?
    /// The routing type, as Ray's `accelerator_type`: "A100", "H100", "V100".
    public var acceleratorType: String?
    public var isMIGInstance: Bool

    public init(
        uuid: String,
        name: String,
        pciBusID: String? = nil,
        memoryTotalMiB: Int? = nil,
        memoryUsedMiB: Int? = nil,
        memoryFreeMiB: Int? = nil,
        utilizationPercent: Int? = nil,
        temperatureC: Int? = nil,
        powerDrawW: Double? = nil,
        migMode: String? = nil,
        driverVersion: String? = nil,
        acceleratorType: String? = nil,
        isMIGInstance: Bool = false
    ) {
        self.uuid = uuid
        self.name = name
        self.pciBusID = pciBusID
        self.memoryTotalMiB = memoryTotalMiB
        self.memoryUsedMiB = memoryUsedMiB
        self.memoryFreeMiB = memoryFreeMiB
        self.utilizationPercent = utilizationPercent
        self.temperatureC = temperatureC
        self.powerDrawW = powerDrawW
        self.migMode = migMode
        self.driverVersion = driverVersion
        self.acceleratorType = acceleratorType ?? Self.acceleratorType(forName: name)
        self.isMIGInstance = isMIGInstance
    }

    enum CodingKeys: String, CodingKey {
        case uuid, name
        case pciBusID = "pci_bus_id"
        case memoryTotalMiB = "memory_total_mib"
        case memoryUsedMiB = "memory_used_mib"
        case memoryFreeMiB = "memory_free_mib"
        case utilizationPercent = "utilization_percent"
        case temperatureC = "temperature_c"
        case powerDrawW = "power_draw_w"
        case migMode = "mig_mode"
        case driverVersion = "driver_version"
        case acceleratorType = "accelerator_type"
        case isMIGInstance = "is_mig_instance"
    }

    /// Ray's rule, so task requests written for Ray route the same way: the run of upper-case
    /// letters and digits that starts the second word ("NVIDIA A100-SXM4-40GB" -> "A100",
    /// "Tesla V100-SXM2-16GB" -> "V100"). Unlike Ray, a run cut short by a lower-case letter
    /// ("NVIDIA GeForce RTX 3090" would give "G") yields nil instead of a fragment.
    public static func acceleratorType(forName name: String) -> String? {
        let characters = Array(name)
        var index = 0
        let isWord: (Character) -> Bool = { $0.isLetter || $0.isNumber || $0 == "_" }
        while index < characters.count, isWord(characters[index]) { index += 1 }
        guard index > 0 else { return nil }
        let spaceStart = index
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        guard index > spaceStart else { return nil }
        let typeStart = index
        while index < characters.count,
              characters[index].isASCII,
              characters[index].isUppercase || characters[index].isNumber {
            index += 1
        }
        guard index > typeStart else { return nil }
        if index < characters.count, characters[index].isLowercase { return nil }
        return String(characters[typeStart..<index])
    }
}
