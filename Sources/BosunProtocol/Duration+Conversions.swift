import Foundation

extension Duration {
    /// The duration in seconds, as a floating-point number (configuration values, wire fields).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// The duration in milliseconds, as a floating-point number (latencies, timings).
    public var milliseconds: Double { seconds * 1000 }
}
