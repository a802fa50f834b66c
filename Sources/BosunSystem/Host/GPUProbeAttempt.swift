import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One GPU probe, run on a thread of its own and abandoned, not awaited, when it overruns.
///
/// NVML and nvidia-smi can block for seconds, or for good when the driver is wedged, in calls
/// that cannot be interrupted. Running them on a Swift concurrency thread would take that
/// thread from the pool for as long; so the work runs on a plain `Thread`, and the caller is
/// resumed by whichever comes first: the result or the deadline. At the deadline a running
/// nvidia-smi is killed with its process group; a stuck NVML call is left behind, and the
/// owner can ask `isFinished` before starting another.
final class GPUProbeAttempt: @unchecked Sendable {
    enum Outcome: Sendable, Equatable {
        case devices([GPUDevice], source: GPUReport.Source)
        /// Neither NVML nor nvidia-smi is usable: a host without NVIDIA GPUs.
        case unavailable
        case failed(String, source: GPUReport.Source?)
    }

    private let libraryName: String
    private let nvidiaSMIPath: String?
    private let searchPath: String?

    private let lock = NSLock()
    // All guarded by lock.
    private var continuation: CheckedContinuation<Outcome?, Never>?
    private var expired = false
    private var finished = false
    private var childPID: pid_t?

    init(libraryName: String, nvidiaSMIPath: String?, searchPath: String?) {
        self.libraryName = libraryName
        self.nvidiaSMIPath = nvidiaSMIPath
        self.searchPath = searchPath
    }

    /// Whether the probing thread has returned; false for as long as a driver call hangs.
    var isFinished: Bool { lock.withLock { finished } }

    private var isExpired: Bool { lock.withLock { expired } }

    /// The outcome, or nil when `timeout` passed first.
    func run(timeout: Duration) async -> Outcome? {
        await withCheckedContinuation { continuation in
            lock.withLock { self.continuation = continuation }
            let thread = Thread { [self] in
                complete(probe())
            }
            thread.name = "bosun-gpu-probe"
            thread.start()
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout.dispatchInterval) { [self] in
                expire()
            }
        }
    }

    private func complete(_ outcome: Outcome) {
        let waiting: CheckedContinuation<Outcome?, Never>? = lock.withLock {
            finished = true
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume(returning: outcome)
    }

    private func expire() {
        let (waiting, pid): (CheckedContinuation<Outcome?, Never>?, pid_t?) = lock.withLock {
            guard !finished else { return (nil, nil) }
            expired = true
            defer { continuation = nil }
            return (continuation, childPID)
        }
        if let pid {
            // The whole group: nvidia-smi wrappers and anything they started hold the pipe
            // open, and the probing thread only returns once it reads EOF.
            kill(-pid, SIGKILL)
        }
        waiting?.resume(returning: nil)
    }

    /// Starts a child unless the attempt already expired, recording its pid for `expire`.
    func spawn(_ start: () -> pid_t?) -> pid_t? {
        lock.withLock {
            guard !expired else { return nil }
            childPID = start()
            return childPID
        }
    }

    /// Called after the child exited and before it is reaped, while its pid is still ours.
    func childExited() {
        lock.withLock { childPID = nil }
    }

    // MARK: - The probe

    private func probe() -> Outcome {
        var nvmlFailure: String?
        if let nvml = NVML.load(libraryName: libraryName) {
            switch nvml.devices() {
            case .success(let devices):
                return .devices(devices, source: .nvml)
            case .failure(.driverNotLoaded):
                break
            case .failure(.failed(let message)):
                nvmlFailure = message
            }
        }
        guard !isExpired else { return .failed("expired", source: nil) }
        guard let executable = NvidiaSMI.locate(explicitPath: nvidiaSMIPath, searchPath: searchPath) else {
            return nvmlFailure.map { .failed($0, source: .nvml) } ?? .unavailable
        }

        switch NvidiaSMI.run(executable: executable, attempt: self) {
        case .failure(.cancelled):
            return .failed("expired", source: nil)
        case .failure(.spawnFailed(let code)):
            return .failed(joined(nvmlFailure, "cannot run \(executable): \(String(cString: strerror(code)))"), source: .nvidiaSMI)
        case .success(let output):
            if output.exitStatus == 0 {
                let devices = NvidiaSMI.parse(output.standardOutput)
                if devices.isEmpty, output.standardOutput.contains(where: { !$0.isWhitespace }) {
                    return .failed(joined(nvmlFailure, "nvidia-smi printed no device lines: \(output.failureSummary)"), source: .nvidiaSMI)
                }
                return .devices(devices, source: .nvidiaSMI)
            }
            if output.exitStatus == NvidiaSMI.exitNoDevices {
                return .devices([], source: .nvidiaSMI)
            }
            if output.exitStatus == NvidiaSMI.exitDriverNotLoaded, nvmlFailure == nil {
                return .unavailable
            }
            return .failed(joined(nvmlFailure, "nvidia-smi: \(output.failureSummary)"), source: .nvidiaSMI)
        }
    }

    private func joined(_ nvmlFailure: String?, _ message: String) -> String {
        nvmlFailure.map { "NVML: \($0); \(message)" } ?? message
    }
}
