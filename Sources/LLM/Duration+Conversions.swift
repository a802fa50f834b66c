import NIOCore

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    var milliseconds: Double { seconds * 1000 }

    /// Clamped by NIO, so a huge configured timeout cannot overflow.
    var timeAmount: TimeAmount { TimeAmount(self) }
}
