import Dispatch
import Testing

@testable import BosunSystem

struct DurationDispatchTests {
    @Test func convertsToNanoseconds() {
        #expect(Duration.milliseconds(500).dispatchInterval == .nanoseconds(500_000_000))
        #expect(Duration.seconds(5).dispatchInterval == .nanoseconds(5_000_000_000))
        #expect(Duration.zero.dispatchInterval == .nanoseconds(0))
        #expect(Duration.seconds(-1).dispatchInterval == .nanoseconds(0))
        #expect(Duration.seconds(Int64.max).dispatchInterval == .never)
    }
}
