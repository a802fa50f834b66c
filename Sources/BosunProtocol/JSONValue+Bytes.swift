import Foundation

/// Why parsing a JSON document failed, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset in the input where parsing failed.
    public var offset: Int
    /// What was wrong, e.g. "unexpected character 'x'", "unterminated string", "nesting deeper than 512".
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

// MARK: - Parsing

extension JSONValue {
    /// Arrays and objects nested deeper than this are rejected (the parser recurses once per level).
    public static let maximumParseDepth = 512

    /// Strict RFC 8259 parse of a whole document: one value of any kind, optionally surrounded by
    /// whitespace (space, tab, LF, CR) and nothing else. The input must be UTF-8 without a BOM.
    ///
    /// Differences from `JSONDecoder`: an unpaired `\uD800`-`\uDFFF` escape becomes U+FFFD instead of
    /// failing, a number too small for a Double becomes 0 (as `strtod` gives) instead of failing, and a
    /// leading byte order mark is an error.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(JSONParseError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(offset: 0, reason: "unexpected end of input")
        }
        var parser = _JSONByteParser(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        self = try parser.parseDocument()
    }

    /// Parses a whole JSON document held in `data`; see ``init(parsing:)-(UnsafeRawBufferPointer)``.
    public init(parsing data: Data) throws(JSONParseError) {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSONValue in try JSONValue(parsing: raw) }
        }
        self = try result.get()
    }

    /// Parses a whole JSON document held in `text`; see ``init(parsing:)-(UnsafeRawBufferPointer)``.
    public init(parsing text: String) throws(JSONParseError) {
        let parse = { (buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> in
            Result { () throws(JSONParseError) -> JSONValue in try JSONValue(parsing: UnsafeRawBufferPointer(buffer)) }
        }
        if let result = text.utf8.withContiguousStorageIfAvailable(parse) {
            self = try result.get()
        } else {
            var copy = text
            self = try copy.withUTF8(parse).get()
        }
    }
}

private enum ASCII {
    static let quote: UInt8 = 0x22  // "
    static let backslash: UInt8 = 0x5C  // \
    static let slash: UInt8 = 0x2F  // /
    static let comma: UInt8 = 0x2C  // ,
    static let colon: UInt8 = 0x3A  // :
    static let openBracket: UInt8 = 0x5B  // [
    static let closeBracket: UInt8 = 0x5D  // ]
    static let openBrace: UInt8 = 0x7B  // {
    static let closeBrace: UInt8 = 0x7D  // }
    static let minus: UInt8 = 0x2D  // -
    static let plus: UInt8 = 0x2B  // +
    static let dot: UInt8 = 0x2E  // .
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let lowerE: UInt8 = 0x65
    static let upperE: UInt8 = 0x45
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
}

/// Exact powers of ten for the Clinger fast path (10^0 ... 10^22 are exactly representable).
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

/// A recursive-descent parser over borrowed bytes. Lives only for one `init(parsing:)` call.
private struct _JSONByteParser {
    let bytes: UnsafePointer<UInt8>
    let count: Int
    var index = 0
    /// Reused for strings that contain escapes.
    var scratch: [UInt8] = []

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.bytes = base
        self.count = count
    }

    // MARK: Errors

    func error(_ reason: String, at offset: Int) -> JSONParseError {
        JSONParseError(offset: offset, reason: reason)
    }

    func endOfInput() -> JSONParseError {
        error("unexpected end of input", at: count)
    }

    func unexpected(at offset: Int, expecting: String? = nil) -> JSONParseError {
        let byte = bytes[offset]
        var reason: String
        if byte > 0x20 && byte < 0x7F {
            reason = "unexpected character '\(Character(Unicode.Scalar(byte)))'"
        } else {
            reason = "unexpected byte 0x" + hexByte(byte)
        }
        if let expecting { reason += " (expected \(expecting))" }
        return error(reason, at: offset)
    }

    func hexByte(_ byte: UInt8) -> String {
        let text = String(byte, radix: 16, uppercase: true)
        return byte < 16 ? "0" + text : text
    }

    // MARK: Structure

    @inline(__always)
    mutating func skipWhitespace() {
        while index < count {
            let byte = bytes[index]
            guard byte == ASCII.space || byte == ASCII.lineFeed || byte == ASCII.carriageReturn || byte == ASCII.tab
            else { return }
            index += 1
        }
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if index < count {
            throw error("unexpected data after the value", at: index)
        }
        return value
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        guard index < count else { throw endOfInput() }
        switch bytes[index] {
        case ASCII.quote:
            index += 1
            return .string(try parseString())
        case ASCII.openBrace:
            return try parseObject(depth: depth + 1)
        case ASCII.openBracket:
            return try parseArray(depth: depth + 1)
        case ASCII.minus, ASCII.zero...ASCII.nine:
            return .number(try parseNumber())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        default:
            throw unexpected(at: index)
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let length = literal.utf8CodeUnitCount
        let expected = literal.utf8Start
        for offset in 0..<length {
            guard index < count else { throw endOfInput() }
            guard bytes[index] == expected[offset] else { throw unexpected(at: index) }
            index += 1
        }
    }

    func checkDepth(_ depth: Int) throws(JSONParseError) {
        if depth > JSONValue.maximumParseDepth {
            throw error("nesting deeper than \(JSONValue.maximumParseDepth)", at: index)
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        try checkDepth(depth)
        index += 1  // [
        skipWhitespace()
        guard index < count else { throw endOfInput() }
        if bytes[index] == ASCII.closeBracket {
            index += 1
            return .array([])
        }
        var elements: [JSONValue] = []
        while true {
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < count else { throw endOfInput() }
            let byte = bytes[index]
            index += 1
            if byte == ASCII.comma { continue }
            if byte == ASCII.closeBracket { return .array(elements) }
            throw unexpected(at: index - 1, expecting: "',' or ']'")
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        try checkDepth(depth)
        index += 1  // {
        skipWhitespace()
        guard index < count else { throw endOfInput() }
        if bytes[index] == ASCII.closeBrace {
            index += 1
            return .object([:])
        }
        var members: [String: JSONValue] = [:]
        while true {
            skipWhitespace()
            guard index < count else { throw endOfInput() }
            guard bytes[index] == ASCII.quote else { throw unexpected(at: index, expecting: "a string key") }
            index += 1
            let key = try parseString()
            skipWhitespace()
            guard index < count else { throw endOfInput() }
            guard bytes[index] == ASCII.colon else { throw unexpected(at: index, expecting: "':'") }
            index += 1
            members[key] = try parseValue(depth: depth)
            skipWhitespace()
            guard index < count else { throw endOfInput() }
            let byte = bytes[index]
            index += 1
            if byte == ASCII.comma { continue }
            if byte == ASCII.closeBrace { return .object(members) }
            throw unexpected(at: index - 1, expecting: "',' or '}'")
        }
    }

    // MARK: Strings

    /// Parses the rest of a string; `index` is just past the opening quote.
    mutating func parseString() throws(JSONParseError) -> String {
        let start = index
        while index < count {
            let byte = bytes[index]
            if byte == ASCII.quote {
                let text = String(decoding: UnsafeBufferPointer(start: bytes + start, count: index - start), as: UTF8.self)
                index += 1
                return text
            }
            if byte == ASCII.backslash {
                return try parseEscapedString(start: start)
            }
            if byte < 0x20 {
                throw controlCharacter(byte)
            }
            if byte >= 0x80 {
                try skipUTF8Sequence()
            } else {
                index += 1
            }
        }
        throw error("unterminated string", at: start - 1)
    }

    func controlCharacter(_ byte: UInt8) -> JSONParseError {
        error("unescaped control character 0x\(hexByte(byte)) in string", at: index)
    }

    /// Slow path for a string with escapes: `index` is at the first backslash.
    mutating func parseEscapedString(start: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: bytes + start, count: index - start))
        while true {
            // Copy the run of plain bytes up to the next quote, backslash or control character.
            let runStart = index
            while index < count {
                let byte = bytes[index]
                if byte == ASCII.quote || byte == ASCII.backslash || byte < 0x20 { break }
                if byte >= 0x80 {
                    try skipUTF8Sequence()
                } else {
                    index += 1
                }
            }
            if index > runStart {
                scratch.append(contentsOf: UnsafeBufferPointer(start: bytes + runStart, count: index - runStart))
            }
            guard index < count else { throw error("unterminated string", at: start - 1) }
            let byte = bytes[index]
            if byte == ASCII.quote {
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte < 0x20 { throw controlCharacter(byte) }
            // Backslash.
            guard index + 1 < count else { throw error("unterminated string", at: start - 1) }
            let escape = bytes[index + 1]
            switch escape {
            case ASCII.quote, ASCII.backslash, ASCII.slash: scratch.append(escape)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                try parseUnicodeEscape()
                continue
            default:
                if escape >= 0x20 && escape < 0x7F {
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'", at: index)
                }
                throw error("invalid escape", at: index)
            }
            index += 2
        }
    }

    /// Reads 4 hex digits at `offset`; nil when they are not there.
    func hexQuad(at offset: Int) -> UInt32? {
        guard offset + 4 <= count else { return nil }
        var value: UInt32 = 0
        for position in offset..<(offset + 4) {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case ASCII.zero...ASCII.nine: digit = byte &- ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// `index` is at the backslash of `\uXXXX`; appends the scalar (U+FFFD for an unpaired surrogate).
    mutating func parseUnicodeEscape() throws(JSONParseError) {
        guard let unit = hexQuad(at: index + 2) else {
            throw error("invalid \\u escape", at: index)
        }
        index += 6
        var scalar = unit
        if unit >= 0xD800 && unit <= 0xDBFF {
            if index + 1 < count, bytes[index] == ASCII.backslash, bytes[index + 1] == UInt8(ascii: "u"),
                let low = hexQuad(at: index + 2), low >= 0xDC00 && low <= 0xDFFF
            {
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                index += 6
            } else {
                scalar = 0xFFFD
            }
        } else if unit >= 0xDC00 && unit <= 0xDFFF {
            scalar = 0xFFFD
        }
        appendUTF8(scalar)
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | (scalar >> 6)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | (scalar >> 12)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (scalar >> 18)))
            scratch.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    /// Validates one multi-byte UTF-8 sequence starting at `index` (a byte >= 0x80) and skips it.
    mutating func skipUTF8Sequence() throws(JSONParseError) {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw error("invalid UTF-8", at: index)
        }
        guard index + length <= count else { throw error("invalid UTF-8", at: index) }
        let second = bytes[index + 1]
        guard second >= low && second <= high else { throw error("invalid UTF-8", at: index) }
        if length > 2 {
            guard bytes[index + 2] & 0xC0 == 0x80 else { throw error("invalid UTF-8", at: index) }
            if length > 3 {
                guard bytes[index + 3] & 0xC0 == 0x80 else { throw error("invalid UTF-8", at: index) }
            }
        }
        index += length
    }

    // MARK: Numbers

    @inline(__always)
    func isDigit(_ offset: Int) -> Bool {
        offset < count && bytes[offset] >= ASCII.zero && bytes[offset] <= ASCII.nine
    }

    mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = index
        let negative = bytes[index] == ASCII.minus
        if negative { index += 1 }

        var mantissa: UInt64 = 0
        var digitCount = 0  // significant digits accumulated into `mantissa` (leading zeros excluded)
        var fractionDigits = 0

        // Integer part: 0 | [1-9][0-9]*
        guard isDigit(index) else {
            if index >= count { throw endOfInput() }
            throw error("invalid number: expected a digit", at: index)
        }
        if bytes[index] == ASCII.zero {
            index += 1
            if isDigit(index) { throw error("invalid number: leading zero", at: index - 1) }
        } else {
            while isDigit(index) {
                if digitCount < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- ASCII.zero)
                }
                digitCount += 1
                index += 1
            }
        }
        // Fraction.
        if index < count && bytes[index] == ASCII.dot {
            index += 1
            guard isDigit(index) else {
                if index >= count { throw endOfInput() }
                throw error("invalid number: expected a digit after '.'", at: index)
            }
            while isDigit(index) {
                let digit = UInt64(bytes[index] &- ASCII.zero)
                if digitCount < 19 {
                    if mantissa != 0 || digit != 0 {
                        mantissa = mantissa &* 10 &+ digit
                        digitCount += 1
                    }
                    fractionDigits += 1
                } else {
                    digitCount += 1
                }
                index += 1
            }
        }
        // Exponent.
        var exponent = 0
        if index < count && (bytes[index] == ASCII.lowerE || bytes[index] == ASCII.upperE) {
            index += 1
            var exponentNegative = false
            if index < count && (bytes[index] == ASCII.plus || bytes[index] == ASCII.minus) {
                exponentNegative = bytes[index] == ASCII.minus
                index += 1
            }
            guard isDigit(index) else {
                if index >= count { throw endOfInput() }
                throw error("invalid number: expected a digit in the exponent", at: index)
            }
            while isDigit(index) {
                if exponent < 100_000 {
                    exponent = exponent * 10 + Int(bytes[index] &- ASCII.zero)
                }
                index += 1
            }
            if exponentNegative { exponent = -exponent }
        }

        // Clinger's fast path: an exact mantissa times an exact power of ten rounds once, correctly.
        if digitCount <= 19 && mantissa <= (1 << 53) {
            let scale = exponent - fractionDigits
            if mantissa == 0 {
                return negative ? -0.0 : 0.0
            }
            if scale >= -22 && scale <= 22 {
                var value = Double(mantissa)
                if scale >= 0 {
                    value *= exactPowersOfTen[scale]
                } else {
                    value /= exactPowersOfTen[-scale]
                }
                return negative ? -value : value
            }
        }
        return try parseNumberSlowly(start: start)
    }

    func parseNumberSlowly(start: Int) throws(JSONParseError) -> Double {
        let text = String(decoding: UnsafeBufferPointer(start: bytes + start, count: index - start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error("number out of range", at: start)
        }
        return value
    }
}

// MARK: - Serializing

extension JSONValue {
    /// Appends compact JSON (no spaces) to `buffer`. With `sortedKeys`, object keys are ordered by
    /// their UTF-8 bytes, which is the order `JSONEncoder`'s `.sortedKeys` gives. Integral numbers with
    /// magnitude below 9e15 print as integers; other numbers as Swift's shortest round-trip form;
    /// non-finite numbers (which JSON cannot express) as `null`.
    public func write(into buffer: inout [UInt8], sortedKeys: Bool = false) {
        switch self {
        case .null:
            buffer.append(contentsOf: "null".utf8)
        case .bool(let value):
            buffer.append(contentsOf: value ? "true".utf8 : "false".utf8)
        case .number(let value):
            writeNumber(value, into: &buffer)
        case .string(let value):
            writeString(value, into: &buffer)
        case .array(let elements):
            buffer.append(ASCII.openBracket)
            var first = true
            for element in elements {
                if !first { buffer.append(ASCII.comma) }
                first = false
                element.write(into: &buffer, sortedKeys: sortedKeys)
            }
            buffer.append(ASCII.closeBracket)
        case .object(let members):
            buffer.append(ASCII.openBrace)
            var first = true
            if sortedKeys && members.count > 1 {
                for (key, value) in members.sorted(by: { utf8Precedes($0.key, $1.key) }) {
                    if !first { buffer.append(ASCII.comma) }
                    first = false
                    writeString(key, into: &buffer)
                    buffer.append(ASCII.colon)
                    value.write(into: &buffer, sortedKeys: sortedKeys)
                }
            } else {
                for (key, value) in members {
                    if !first { buffer.append(ASCII.comma) }
                    first = false
                    writeString(key, into: &buffer)
                    buffer.append(ASCII.colon)
                    value.write(into: &buffer, sortedKeys: sortedKeys)
                }
            }
            buffer.append(ASCII.closeBrace)
        }
    }

    /// Compact JSON bytes; see ``write(into:sortedKeys:)``.
    public func jsonBytes(sortedKeys: Bool = false) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(128)
        write(into: &buffer, sortedKeys: sortedKeys)
        return buffer
    }

    /// Compact JSON text; see ``write(into:sortedKeys:)``.
    public func jsonText(sortedKeys: Bool = false) -> String {
        String(decoding: jsonBytes(sortedKeys: sortedKeys), as: UTF8.self)
    }
}

/// UTF-8 byte order (memcmp), not `String`'s Unicode-canonical `<`.
private func utf8Precedes(_ lhs: String, _ rhs: String) -> Bool {
    let fast = lhs.utf8.withContiguousStorageIfAvailable { left in
        rhs.utf8.withContiguousStorageIfAvailable { right -> Bool in
            let common = min(left.count, right.count)
            if common > 0 {
                let order = memcmp(left.baseAddress!, right.baseAddress!, common)
                if order != 0 { return order < 0 }
            }
            return left.count < right.count
        }
    }
    if let fast, let result = fast { return result }
    return lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
}

private func writeNumber(_ value: Double, into buffer: inout [UInt8]) {
    if value.rounded() == value && abs(value) < 9.0e15 {
        // Same rule as `encode(to:)`: integral values print as Int64, so -0.0 prints "0".
        let integer = Int64(value)
        var magnitude = integer.magnitude
        if integer < 0 { buffer.append(ASCII.minus) }
        let start = buffer.count
        repeat {
            buffer.append(ASCII.zero &+ UInt8(truncatingIfNeeded: magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        buffer[start...].reverse()
        return
    }
    guard value.isFinite else {
        buffer.append(contentsOf: "null".utf8)
        return
    }
    // Shortest round-trip form: "0.1", "1e-07", "1.5e+300", "9000000000000001.0". JSONEncoder drops a
    // trailing ".0", so this does too.
    var text = value.description
    if text.hasSuffix(".0") { text.removeLast(2) }
    buffer.append(contentsOf: text.utf8)
}

private func writeString(_ string: String, into buffer: inout [UInt8]) {
    buffer.append(ASCII.quote)
    let done: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
        writeEscaped(utf8, into: &buffer)
    }
    if done == nil {
        let copy = Array(string.utf8)
        copy.withUnsafeBufferPointer { writeEscaped($0, into: &buffer) }
    }
    buffer.append(ASCII.quote)
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

private func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>, into buffer: inout [UInt8]) {
    var runStart = 0
    for position in 0..<utf8.count {
        let byte = utf8[position]
        guard byte < 0x20 || byte == ASCII.quote || byte == ASCII.backslash else { continue }
        if position > runStart {
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<position]))
        }
        runStart = position + 1
        buffer.append(ASCII.backslash)
        switch byte {
        case ASCII.quote, ASCII.backslash: buffer.append(byte)
        case 0x0A: buffer.append(UInt8(ascii: "n"))
        case 0x0D: buffer.append(UInt8(ascii: "r"))
        case 0x09: buffer.append(UInt8(ascii: "t"))
        case 0x08: buffer.append(UInt8(ascii: "b"))
        case 0x0C: buffer.append(UInt8(ascii: "f"))
        default:
            buffer.append(contentsOf: "u00".utf8)
            buffer.append(hexDigits[Int(byte >> 4)])
            buffer.append(hexDigits[Int(byte & 0x0F)])
        }
    }
    if utf8.count > runStart {
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
    }
}
