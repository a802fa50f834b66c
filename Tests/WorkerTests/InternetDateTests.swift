import BosunProtocol
import Foundation
import Testing

@Suite struct InternetDateTests {
    @Test func roundTripsExactlyAndAgreesWithFoundationToTheMillisecond() throws {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let milliseconds = Int64.random(in: 0...4_102_444_800_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = InternetDate.format(date)
            #expect(InternetDate.parse(text) == date)
            // Foundation reads ours and we read Foundation's. (Foundation's own formatting can
            // be a millisecond low: it truncates the binary fraction, 0.563 -> 0.5629999.)
            let theirs = try style.parse(text)
            #expect(abs(theirs.timeIntervalSince(date)) < 0.001)
            let ours = try #require(InternetDate.parse(date.formatted(style)))
            #expect(abs(ours.timeIntervalSince(date)) < 0.0011)
        }
        #expect(InternetDate.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(InternetDate.format(Date(timeIntervalSince1970: 1_795_660_758.5299)) == "2026-11-26T02:39:18.529Z")
    }

    @Test func parsesOffsetsAndAnyFractionLength() throws {
        let utc = try #require(InternetDate.parse("2026-11-26T02:39:18Z"))
        #expect(utc.timeIntervalSince1970 == 1_795_660_758)
        #expect(InternetDate.parse("2026-11-26T03:39:18+01:00") == utc)
        #expect(InternetDate.parse("2026-11-25T21:39:18-05:00") == utc)
        let micro = try #require(InternetDate.parse("2026-11-26T02:39:18.123456Z"))
        #expect(abs(micro.timeIntervalSince1970 - 1_795_660_758.123456) < 1e-6)
    }

    @Test(arguments: [
        "", "2026-11-26", "2026-11-26T02:39:18", "2026-13-01T00:00:00Z", "2026-11-26T25:00:00Z", "2026-11-26T02:39:18.Z",
        "2026-11-26T02:39:18Zjunk", "26-11-26T02:39:18Z", "2026-11-26T02:39:18+0100",
    ])
    func refusesWhatIsNotAnInternetDate(text: String) {
        #expect(InternetDate.parse(text) == nil)
    }
}
