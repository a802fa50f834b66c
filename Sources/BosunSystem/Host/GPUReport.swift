import Foundation

/// The outcome of one GPU probe, for the heartbeat and for routing.
public struct GPUReport: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// The probe answered; `devices` is current.
        case ok
        /// No NVIDIA driver library and no nvidia-smi: a CPU-only host, not a fault.
        case absent = "none"
        /// The probe failed or timed out; `devices` holds the last good answer, if any.
        case unknown
    }

    public enum Source: String, Codable, Sendable {
        case nvml
        case nvidiaSMI = "nvidia-smi"
    }

    public var status: Status
    public var source: Source?
    public var devices: [GPUDevice]
    public var error: String?
    public var probedAt: Date

    public init(status: Status, source: Source?, devices: [GPUDevice], error: String?, probedAt: Date) {
        self.status = status
        self.source = source
        self.devices = devices
        self.error = error
        self.probedAt = probedAt
    }

    enum CodingKeys: String, CodingKey {
        case status, source, devices, error
        case probedAt = "probed_at"
    }
}
