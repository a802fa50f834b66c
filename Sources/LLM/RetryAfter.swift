import Foundation
import NIOHTTP1

/// How long a rate-limited or overloaded gateway asked us to wait before trying again.
enum RetryAfter {
    /// `retry-after-ms` (OpenAI, LiteLLM) first, then `Retry-After` as seconds or an HTTP date
    /// (RFC 9110, 10.2.3). Nil when neither is present or readable; a date in the past is 0.
    static func delay(in headers: HTTPHeaders, now: Date = Date()) -> Duration? {
        if let text = headers["retry-after-ms"].first, let milliseconds = Double(text.trimmed), milliseconds >= 0,
            milliseconds.isFinite
        {
            return .milliseconds(Int64(milliseconds.rounded(.up)))
        }
        guard let text = headers["retry-after"].first?.trimmed, !text.isEmpty else { return nil }
        if let seconds = Double(text) {
            guard seconds.isFinite, seconds >= 0 else { return nil }
            return .milliseconds(Int64((seconds * 1000).rounded(.up)))
        }
        guard let date = httpDate(text) else { return nil }
        let seconds = max(date.timeIntervalSince(now), 0)
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// IMF-fixdate, the only form servers may send (`Sun, 06 Nov 1994 08:49:37 GMT`).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
