import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The NVIDIA Management Library, loaded at run time.
///
/// Linking against libnvidia-ml would make the worker fail to start on CPU-only hosts, so the
/// library is opened with `dlopen` and each entry point looked up by name. This is the only
/// file that calls into it. Calls can block for seconds (or for ever, with a wedged driver):
/// callers run them on a thread of their own, never on a Swift concurrency executor.
struct NVML: @unchecked Sendable {  // C function pointers into a library that is never unloaded
    enum Failure: Error, Equatable {
        /// The library is installed but no kernel driver is loaded: treat like no GPU.
        case driverNotLoaded(String)
        case failed(String)
    }

    typealias Device = OpaquePointer
    private typealias Init = @convention(c) () -> CInt
    private typealias GetCount = @convention(c) (UnsafeMutablePointer<CUnsignedInt>) -> CInt
    private typealias GetHandle = @convention(c) (CUnsignedInt, UnsafeMutablePointer<Device?>) -> CInt
    private typealias GetDeviceString = @convention(c) (Device?, UnsafeMutablePointer<CChar>, CUnsignedInt) -> CInt
    private typealias GetSystemString = @convention(c) (UnsafeMutablePointer<CChar>, CUnsignedInt) -> CInt
    private typealias GetStruct = @convention(c) (Device?, UnsafeMutableRawPointer) -> CInt
    private typealias GetUInt = @convention(c) (Device?, UnsafeMutablePointer<CUnsignedInt>) -> CInt
    private typealias GetTemperature = @convention(c) (Device?, CInt, UnsafeMutablePointer<CUnsignedInt>) -> CInt
    private typealias GetMigMode = @convention(c) (Device?, UnsafeMutablePointer<CUnsignedInt>, UnsafeMutablePointer<CUnsignedInt>) -> CInt
    private typealias GetMigHandle = @convention(c) (Device?, CUnsignedInt, UnsafeMutablePointer<Device?>) -> CInt
    private typealias ErrorString = @convention(c) (CInt) -> UnsafePointer<CChar>?

    // nvmlReturn_t values used here.
    private static let success: CInt = 0
    private static let errorDriverNotLoaded: CInt = 9
    private static let temperatureGPU: CInt = 0
    private static let migEnabled: CUnsignedInt = 1
    // Buffer sizes from nvml.h (the v2 sizes, large enough for every driver since).
    private static let uuidBufferSize: CUnsignedInt = 96
    private static let nameBufferSize: CUnsignedInt = 96
    private static let driverVersionBufferSize: CUnsignedInt = 80
    // nvmlPciInfo_t: char busIdLegacy[16]; five unsigned ints; char busId[32].
    private static let pciInfoSize = 16 + 5 * 4 + 32
    private static let pciBusIDOffset = 16 + 5 * 4

    private let initialize: Init
    private let shutdown: Init
    private let getCount: GetCount
    private let getHandle: GetHandle
    private let getUUID: GetDeviceString
    private let getName: GetDeviceString
    private let getMemoryInfo: GetStruct
    private let getUtilization: GetStruct?
    private let getPCIInfo: GetStruct?
    private let getTemperature: GetTemperature?
    private let getPowerUsage: GetUInt?
    private let getMigMode: GetMigMode?
    private let getMaxMigDeviceCount: GetUInt?
    private let getMigDeviceHandle: GetMigHandle?
    private let getDriverVersion: GetSystemString?
    private let errorString: ErrorString?

    /// The library, or nil when it is not installed or lacks the core entry points.
    static func load(libraryName: String) -> NVML? {
        NVMLCache.shared.library(named: libraryName)
    }

    fileprivate init?(handle: UnsafeMutableRawPointer) {
        func symbol<T>(_ names: String..., as type: T.Type) -> T? {
            for name in names {
                if let address = dlsym(handle, name) { return unsafeBitCast(address, to: type) }
            }
            return nil
        }
        // Versioned names first: the unversioned ones keep old semantics for old callers
        // (nvmlInit v1 fails if any GPU is inaccessible; the v1 count skips such GPUs).
        guard let initialize = symbol("nvmlInit_v2", "nvmlInit", as: Init.self),
              let shutdown = symbol("nvmlShutdown", as: Init.self),
              let getCount = symbol("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount", as: GetCount.self),
              let getHandle = symbol("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex", as: GetHandle.self),
              let getUUID = symbol("nvmlDeviceGetUUID", as: GetDeviceString.self),
              let getName = symbol("nvmlDeviceGetName", as: GetDeviceString.self),
              let getMemoryInfo = symbol("nvmlDeviceGetMemoryInfo", as: GetStruct.self)
        else { return nil }
        self.initialize = initialize
        self.shutdown = shutdown
        self.getCount = getCount
        self.getHandle = getHandle
        self.getUUID = getUUID
        self.getName = getName
        self.getMemoryInfo = getMemoryInfo
        getUtilization = symbol("nvmlDeviceGetUtilizationRates", as: GetStruct.self)
        // Only the v3 entry point fills busId in the layout read below; without it, skip.
        getPCIInfo = symbol("nvmlDeviceGetPciInfo_v3", as: GetStruct.self)
        getTemperature = symbol("nvmlDeviceGetTemperature", as: GetTemperature.self)
        getPowerUsage = symbol("nvmlDeviceGetPowerUsage", as: GetUInt.self)
        getMigMode = symbol("nvmlDeviceGetMigMode", as: GetMigMode.self)
        getMaxMigDeviceCount = symbol("nvmlDeviceGetMaxMigDeviceCount", as: GetUInt.self)
        getMigDeviceHandle = symbol("nvmlDeviceGetMigDeviceHandleByIndex", as: GetMigHandle.self)
        getDriverVersion = symbol("nvmlSystemGetDriverVersion", as: GetSystemString.self)
        errorString = symbol("nvmlErrorString", as: ErrorString.self)
    }

    /// Every GPU and MIG instance. Blocking; see the type's comment.
    func devices() -> Result<[GPUDevice], Failure> {
        let status = initialize()
        guard status == Self.success else {
            let message = "nvmlInit: \(describe(status))"
            return .failure(status == Self.errorDriverNotLoaded ? .driverNotLoaded(message) : .failed(message))
        }
        // NVML counts init/shutdown pairs, so this never tears down another user's session.
        defer { _ = shutdown() }

        var count: CUnsignedInt = 0
        let countStatus = getCount(&count)
        guard countStatus == Self.success else {
            return .failure(.failed("nvmlDeviceGetCount: \(describe(countStatus))"))
        }
        let driverVersion = getDriverVersion.flatMap { get in
            readString(capacity: Self.driverVersionBufferSize) { get($0, $1) }
        }

        var devices: [GPUDevice] = []
        for index in 0..<count {
            var handle: Device?
            let handleStatus = getHandle(index, &handle)
            guard handleStatus == Self.success, handle != nil else {
                return .failure(.failed("nvmlDeviceGetHandleByIndex(\(index)): \(describe(handleStatus))"))
            }
            guard var device = describeDevice(handle, driverVersion: driverVersion) else {
                return .failure(.failed("nvmlDeviceGetUUID(\(index)) failed"))
            }
            device.pciBusID = pciBusID(handle)
            device.utilizationPercent = utilization(handle)
            if let getTemperature {
                var celsius: CUnsignedInt = 0
                if getTemperature(handle, Self.temperatureGPU, &celsius) == Self.success { device.temperatureC = Int(celsius) }
            }
            if let getPowerUsage {
                var milliwatts: CUnsignedInt = 0
                if getPowerUsage(handle, &milliwatts) == Self.success { device.powerDrawW = Double(milliwatts) / 1000 }
            }
            var migEnabled = false
            if let getMigMode {
                var current: CUnsignedInt = 0
                var pending: CUnsignedInt = 0
                if getMigMode(handle, &current, &pending) == Self.success {
                    migEnabled = current == Self.migEnabled
                    device.migMode = migEnabled ? "Enabled" : "Disabled"
                }
            }
            devices.append(device)
            if migEnabled {
                devices += migInstances(of: handle, parent: device)
            }
        }
        return .success(devices)
    }

    /// MIG instances are schedulable devices of their own, with their own UUIDs and memory;
    /// the driver reports no utilisation for them.
    private func migInstances(of parentHandle: Device?, parent: GPUDevice) -> [GPUDevice] {
        guard let getMaxMigDeviceCount, let getMigDeviceHandle else { return [] }
        var slots: CUnsignedInt = 0
        guard getMaxMigDeviceCount(parentHandle, &slots) == Self.success else { return [] }
        var instances: [GPUDevice] = []
        for slot in 0..<slots {
            var handle: Device?
            // Unused slots answer NOT_FOUND; skip them and any other per-slot failure.
            guard getMigDeviceHandle(parentHandle, slot, &handle) == Self.success, handle != nil,
                  var instance = describeDevice(handle, driverVersion: parent.driverVersion)
            else { continue }
            instance.pciBusID = parent.pciBusID
            instance.isMIGInstance = true
            if instance.acceleratorType == nil { instance.acceleratorType = parent.acceleratorType }
            instances.append(instance)
        }
        return instances
    }

    private func describeDevice(_ handle: Device?, driverVersion: String?) -> GPUDevice? {
        guard let uuid = readString(capacity: Self.uuidBufferSize, { getUUID(handle, $0, $1) }) else { return nil }
        let name = readString(capacity: Self.nameBufferSize, { getName(handle, $0, $1) }) ?? "Unknown NVIDIA GPU"
        var device = GPUDevice(uuid: uuid, name: name, driverVersion: driverVersion)
        // nvmlMemory_t: total, free, used, in bytes.
        var memory = [UInt64](repeating: 0, count: 3)
        if memory.withUnsafeMutableBytes({ getMemoryInfo(handle, $0.baseAddress!) }) == Self.success {
            device.memoryTotalMiB = Int(memory[0] / (1 << 20))
            device.memoryFreeMiB = Int(memory[1] / (1 << 20))
            device.memoryUsedMiB = Int(memory[2] / (1 << 20))
        }
        return device
    }

    private func utilization(_ handle: Device?) -> Int? {
        guard let getUtilization else { return nil }
        // nvmlUtilization_t: gpu, memory, as percentages.
        var rates = [CUnsignedInt](repeating: 0, count: 2)
        guard rates.withUnsafeMutableBytes({ getUtilization(handle, $0.baseAddress!) }) == Self.success else { return nil }
        return Int(rates[0])
    }

    private func pciBusID(_ handle: Device?) -> String? {
        guard let getPCIInfo else { return nil }
        // Allocated as UInt32s for the struct's alignment; a little spare room at the end.
        var info = [UInt32](repeating: 0, count: Self.pciInfoSize / 4 + 4)
        return info.withUnsafeMutableBytes { bytes -> String? in
            guard getPCIInfo(handle, bytes.baseAddress!) == Self.success else { return nil }
            let field = bytes[Self.pciBusIDOffset..<(Self.pciBusIDOffset + 32)]
            let id = String(decoding: field.prefix(while: { $0 != 0 }), as: UTF8.self)
            return id.isEmpty ? nil : id
        }
    }

    private func readString(capacity: CUnsignedInt, _ call: (UnsafeMutablePointer<CChar>, CUnsignedInt) -> CInt) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(capacity))
        let status = buffer.withUnsafeMutableBufferPointer { call($0.baseAddress!, capacity) }
        guard status == Self.success else { return nil }
        let value = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return value.isEmpty ? nil : value
    }

    private func describe(_ status: CInt) -> String {
        if let errorString, let text = errorString(status) {
            return "\(String(cString: text)) (\(status))"
        }
        return "NVML error \(status)"
    }
}

/// Libraries opened so far, by name. Never closed: NVML may start threads of its own, and
/// unloading code they run is a crash; dlopen of an open library is only a reference count.
private final class NVMLCache: @unchecked Sendable {
    static let shared = NVMLCache()
    private let lock = NSLock()
    private var libraries: [String: NVML] = [:]  // guarded by lock

    func library(named name: String) -> NVML? {
        lock.withLock {
            if let cached = libraries[name] { return cached }
            // Misses are not cached, so a driver installed after start is picked up.
            let library = dlopen(name, RTLD_NOW | RTLD_LOCAL).flatMap { NVML(handle: $0) }
            libraries[name] = library
            return library
        }
    }
}
