import Foundation

/// RFC 3339 timestamps (`2026-11-26T02:39:18.529Z`) without Foundation's format styles.
///
/// Why: `Date.ISO8601FormatStyle` loads ICU data on Linux, +3.8 MB of resident memory in a
/// process that formats one date (measured with /proc/self/smaps), and every log line and
/// heartbeat formats one. This covers the one shape Bosun writes; parsing falls back to the
/// format style for any other ISO 8601 shape.
public enum InternetDate {
    /// UTC, milliseconds, `Z`.
    public static func format(_ date: Date) -> String {
        // Rounded to the microsecond first: 0.563 is stored as 0.56299999..., and truncating
        // that straight to milliseconds would print .562.
        let microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let totalMilliseconds = microseconds >= 0 ? microseconds / 1000 : (microseconds - 999) / 1000
        var seconds = time_t(totalMilliseconds >= 0 ? totalMilliseconds / 1000 : (totalMilliseconds - 999) / 1000)
        let milliseconds = Int(totalMilliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
            + "." + pad(milliseconds, 3) + "Z"
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<(start + count)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        func byte(_ index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }
        guard let year = number(0, 4), byte(4) == 45, let month = number(5, 2), byte(7) == 45,
            let day = number(8, 2), byte(10) == 84 || byte(10) == 116, let hour = number(11, 2), byte(13) == 58,
            let minute = number(14, 2), byte(16) == 58, let second = number(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        // The fraction as an integer over a power of ten, so `...18.529Z` parses to exactly
        // the Date that 1795660758529 ms makes (a digit-by-digit sum drifts in the last bit).
        var fractionDigits = 0
        var fractionScale = 1.0
        if byte(index) == 46 {
            index += 1
            let start = index
            while let digit = byte(index), digit >= 48, digit <= 57 {
                if index - start < 9 {
                    fractionDigits = fractionDigits * 10 + Int(digit - 48)
                    fractionScale *= 10
                }
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        switch byte(index) {
        case 90, 122:  // Z
            index += 1
        case 43, 45:  // + -
            guard let hours = number(index + 1, 2), byte(index + 3) == 58, let minutes = number(index + 4, 2) else {
                return nil
            }
            offset = (hours * 3600 + minutes * 60) * (byte(index) == 45 ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: (Double(seconds - offset) * fractionScale + Double(fractionDigits)) / fractionScale)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
