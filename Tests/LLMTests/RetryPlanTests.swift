import Foundation
import NIOHTTP1
import Testing

@testable import LLM

@Suite struct RetryPlanTests {
    static func plan(maxRetries: Int = 2, fallbacks: [String] = []) -> RetryPlan {
        RetryPlan(
            model: "primary", fallbacks: fallbacks, maxRetries: maxRetries, baseDelay: .milliseconds(500),
            maxDelay: .seconds(3))
    }

    @Test func fullJitterStaysBelowTheCappedExponentialCeiling() {
        let plan = Self.plan()
        #expect(plan.backoff(retry: 0, jitter: 1) == .milliseconds(500))
        #expect(plan.backoff(retry: 1, jitter: 1) == .seconds(1))
        #expect(plan.backoff(retry: 2, jitter: 1) == .seconds(2))
        #expect(plan.backoff(retry: 3, jitter: 1) == .seconds(3))  // capped
        #expect(plan.backoff(retry: 60, jitter: 1) == .seconds(3))  // no overflow
        #expect(plan.backoff(retry: 2, jitter: 0) == .zero)
        #expect(plan.backoff(retry: 2, jitter: 0.25) == .milliseconds(500))
    }

    @Test func retriesThenFallsBackThenGivesUp() {
        var plan = Self.plan(maxRetries: 1, fallbacks: ["second", "primary", "third"])
        #expect(plan.models == ["primary", "second", "third"])
        #expect(plan.next(retryAfter: nil, jitter: 1) == .retry(after: .milliseconds(500)))
        #expect(plan.model == "primary")
        #expect(plan.next(retryAfter: nil, jitter: 1) == .fallback(to: "second"))
        #expect(plan.next(retryAfter: nil, jitter: 1) == .retry(after: .milliseconds(500)))
        #expect(plan.next(retryAfter: nil, jitter: 1) == .fallback(to: "third"))
        #expect(plan.next(retryAfter: nil, jitter: 1) == .retry(after: .milliseconds(500)))
        #expect(plan.next(retryAfter: nil, jitter: 1) == .giveUp)
    }

    @Test func retryAfterIsHonouredButCapped() {
        var plan = Self.plan()
        #expect(plan.next(retryAfter: .seconds(2), jitter: 0) == .retry(after: .seconds(2)))
        #expect(plan.next(retryAfter: .seconds(60), jitter: 0) == .retry(after: .seconds(3)))
    }

    @Test func retryAfterHeaderAsSecondsMillisecondsOrHTTPDate() throws {
        #expect(RetryAfter.delay(in: HTTPHeaders([("Retry-After", "2")])) == .seconds(2))
        #expect(RetryAfter.delay(in: HTTPHeaders([("Retry-After", "0.25")])) == .milliseconds(250))
        #expect(RetryAfter.delay(in: HTTPHeaders([("retry-after-ms", "1500"), ("Retry-After", "9")])) == .milliseconds(1500))
        #expect(RetryAfter.delay(in: HTTPHeaders([("Retry-After", "soon")])) == nil)
        #expect(RetryAfter.delay(in: HTTPHeaders()) == nil)
        let now = try #require(RetryAfter.httpDate("Wed, 21 Oct 2015 07:28:00 GMT"))
        #expect(RetryAfter.delay(in: HTTPHeaders([("Retry-After", "Wed, 21 Oct 2015 07:28:05 GMT")]), now: now) == .seconds(5))
        #expect(RetryAfter.delay(in: HTTPHeaders([("Retry-After", "Wed, 21 Oct 2015 07:27:00 GMT")]), now: now) == .zero)
    }
}
