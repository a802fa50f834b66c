import NIOCore

extension Duration {
    /// Clamped by NIO, so a huge configured timeout cannot overflow.
    var timeAmount: TimeAmount { TimeAmount(self) }
}
