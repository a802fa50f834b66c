import Foundation

/// Finds the host's NVIDIA GPUs, through NVML when the driver library can be loaded and
/// through nvidia-smi otherwise.
///
/// A probe never blocks the actor or the caller's executor: it runs on a thread of its own
/// and is given up on after `timeout`, which turns the report "unknown" while keeping the
/// last good device list, since a wedged driver says nothing about whether the GPUs are
/// still there. While an abandoned probe is still stuck, later probes report "unknown" at
/// once instead of stacking more stuck threads behind it.
public actor GPUProbe {
    private let timeout: Duration
    private let nvidiaSMIPath: String?
    private let libraryName: String

    private var lastGoodDevices: [GPUDevice] = []
    private var stuckAttempt: GPUProbeAttempt?
    private var inFlight: Task<GPUReport, Never>?

    /// The most recent report, for heartbeats that should not wait on a probe.
    public private(set) var latest: GPUReport?

    /// - Parameters:
    ///   - nvidiaSMIPath: nil looks nvidia-smi up on PATH.
    ///   - libraryName: what `dlopen` is asked for; the default is the soname the driver installs.
    public init(
        timeout: Duration = .seconds(5),
        nvidiaSMIPath: String? = nil,
        libraryName: String = "libnvidia-ml.so.1"
    ) {
        self.timeout = timeout
        self.nvidiaSMIPath = nvidiaSMIPath
        self.libraryName = libraryName
    }

    /// Probes now. Concurrent callers share one probe.
    public func probe() async -> GPUReport {
        if let inFlight {
            return await inFlight.value
        }
        let task = Task { await self.runAttempt() }
        inFlight = task
        let report = await task.value
        inFlight = nil
        latest = report
        return report
    }

    /// Parses `nvidia-smi --query-gpu=uuid,name,pci.bus_id,memory.total,memory.used,
    /// memory.free,utilization.gpu,temperature.gpu,power.draw,mig.mode.current,driver_version
    /// --format=csv,noheader,nounits` output.
    public static func parseNvidiaSMI(_ csv: String) -> [GPUDevice] {
        NvidiaSMI.parse(csv)
    }

    private func runAttempt() async -> GPUReport {
        if let stuckAttempt {
            guard stuckAttempt.isFinished else {
                return unknown(
                    source: nil,
                    error: "an earlier GPU probe has not returned after timing out; the GPU driver may be wedged"
                )
            }
            self.stuckAttempt = nil
        }

        let attempt = GPUProbeAttempt(
            libraryName: libraryName,
            nvidiaSMIPath: nvidiaSMIPath,
            searchPath: ProcessInfo.processInfo.environment["PATH"]
        )
        guard let outcome = await attempt.run(timeout: timeout) else {
            if !attempt.isFinished { stuckAttempt = attempt }
            return unknown(source: nil, error: "GPU probe timed out after \(timeout)")
        }

        switch outcome {
        case .devices(let devices, let source):
            lastGoodDevices = devices
            return GPUReport(
                status: devices.isEmpty ? .absent : .ok,
                source: source,
                devices: devices,
                error: nil,
                probedAt: Date()
            )
        case .unavailable:
            lastGoodDevices = []
            return GPUReport(status: .absent, source: nil, devices: [], error: nil, probedAt: Date())
        case .failed(let message, let source):
            return unknown(source: source, error: message)
        }
    }

    private func unknown(source: GPUReport.Source?, error: String) -> GPUReport {
        GPUReport(status: .unknown, source: source, devices: lastGoodDevices, error: error, probedAt: Date())
    }
}
